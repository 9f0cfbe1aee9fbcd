import { passageAt, passagesOf } from '../../../src/evidence/passages';
import { codePointIndex } from '../../../src/note/code-points';

const texts = (text: string) => passagesOf(text).map((s) => text.slice(s.start, s.end));

test.each([
  ['One sentence. Another one! A third? Yes; and more.', ['One sentence.', 'Another one!', 'A third?', 'Yes;', 'and more.']],
  ['Seen by Dr. Smith on day 2. Dose 5.5 mg.', ['Seen by Dr. Smith on day 2.', 'Dose 5.5 mg.']],
  ['DIAGNOSES\n1. Pneumonia.\n2. Hypertension.\r\n\r\n  - AKI, resolved  \n', ['DIAGNOSES', '1. Pneumonia.', '2. Hypertension.', '- AKI, resolved']],
  ['', []],
  ['   \n\t ', []],
])('passagesOf(%j)', (text, expected) => {
  expect(texts(text)).toEqual(expected);
});

test('passageAt finds the passage holding a position, or -1 in the gaps', () => {
  const text = 'Alpha beta. Gamma.\nDelta';
  const passages = passagesOf(text);
  expect(passageAt(passages, text.indexOf('beta'))).toBe(0);
  expect(passageAt(passages, text.indexOf('Gamma'))).toBe(1);
  expect(passageAt(passages, text.indexOf('Delta') + 4)).toBe(2);
  expect(passageAt(passages, text.indexOf('\n'))).toBe(-1);
});

test('codePointIndex counts astral characters once', () => {
  const note = { text: 'a😀b\u00a0c' };
  expect(codePointIndex(note, 0)).toBe(0);
  expect(codePointIndex(note, 2)).toBe(2); // inside the pair: its high half counts
  expect(codePointIndex(note, 3)).toBe(2);
  expect(codePointIndex(note, note.text.length)).toBe(5);
  expect(Array.from(note.text)[codePointIndex(note, note.text.indexOf('c'))]).toBe('c');
});

test('codePointIndex agrees with counting code points, at every index, with lone surrogates about', () => {
  const note = { text: '😀x\ud800y😣😣\udc00z👨‍⚕️\ud83d' };
  for (let i = 0; i <= note.text.length; i++) {
    // Array.from splits into code points; a pair cut at i leaves its high half as one.
    expect([i, codePointIndex(note, i)]).toEqual([i, Array.from(note.text.slice(0, i)).length]);
  }
});

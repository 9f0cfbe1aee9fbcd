import { codePointIndex, passageAt, passagesOf } from '../../../src/evidence/passages';

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
  const text = 'a😀b\u00a0c';
  expect(codePointIndex(text, 0)).toBe(0);
  expect(codePointIndex(text, 3)).toBe(2);
  expect(codePointIndex(text, text.length)).toBe(5);
  expect(Array.from(text)[codePointIndex(text, text.indexOf('c'))]).toBe('c');
});

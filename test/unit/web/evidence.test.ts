/**
 * Placing a card's evidence in the note (src/web/evidence.ts): code points to UTF-16,
 * statuses from the Condition notes, and the segments that become <mark>s.
 */
import { codePointBoundaries, evidenceOf, segmentsOf, statusOfNote, DERIVATION_REFERENCE, ICD10CM_SYSTEM } from '../../../src/web/evidence';

const DOC = 'DocumentReference/review-note';

function card(code: string, passages: [number, number, string][], reference = DOC) {
  return {
    suggestions: [
      {
        actions: [
          {
            type: 'create',
            resource: {
              resourceType: 'Condition',
              code: { coding: [{ system: ICD10CM_SYSTEM, code }] },
              extension: [
                { url: 'http://hl7.org/fhir/uv/aitransparency/StructureDefinition/AIconfidence', valueDecimal: 0.9 },
                ...passages.map(([offset, length]) => ({
                  url: DERIVATION_REFERENCE,
                  extension: [
                    { url: 'reference', valueReference: { reference } },
                    { url: 'path', valueString: 'DocumentReference.content[0].attachment' },
                    { url: 'offset', valueInteger: offset },
                    { url: 'length', valueInteger: length },
                  ],
                })),
              ],
              note: [{ text: 'AI-suggested by m with confidence 0.90; not reviewed by a clinician.' }, ...passages.map(([, , n]) => ({ text: n }))],
            },
          },
        ],
      },
    ],
  };
}

describe('codePointBoundaries', () => {
  it('maps code points to UTF-16 indices (astral characters take two units)', () => {
    expect(codePointBoundaries('a😀b')).toEqual([0, 1, 3, 4]);
    expect(codePointBoundaries('')).toEqual([0]);
  });
});

describe('statusOfNote', () => {
  it.each([
    ['Source text: "3. Hypertension." (present, section "DISCHARGE DIAGNOSES")', 'present', 'present, section "DISCHARGE DIAGNOSES"'],
    ['Source text: "a history of HTN" (historical ("history of"), section "HPI")', 'historical', 'historical ("history of"), section "HPI"'],
    ['Source text: "she said "no (present)" today" (negated ("no"))', 'negated', 'negated ("no")'],
    ['Source text: "x" (status not determined)', 'undetermined', 'status not determined'],
    ['Source text: "a \\*b\\*" (family (by its section))', 'family', 'family (by its section)'],
  ])('%s', (note, status, context) => {
    expect(statusOfNote(note)).toEqual({ status, context });
  });

  it('ignores other notes', () => {
    expect(statusOfNote('AI-suggested by m with confidence 0.90')).toBeUndefined();
  });
});

describe('evidenceOf', () => {
  const note = '😀 Fever. History of HTN.';
  const b = codePointBoundaries(note);

  it('reads passages in code points and pairs them with their statuses', () => {
    const evidence = evidenceOf(
      card('I10', [
        [2, 6, 'Source text: "Fever." (present)'],
        [9, 15, 'Source text: "History of HTN." (historical ("history of"))'],
      ]),
      3,
      b,
      DOC,
    );
    expect(evidence.code).toBe('I10');
    expect(evidence.unplaced).toBe(0);
    expect(evidence.passages.map((p) => [p.id, note.slice(p.start, p.end), p.status])).toEqual([
      ['c3p0', 'Fever.', 'present'],
      ['c3p1', 'History of HTN.', 'historical'],
    ]);
  });

  it('counts passages out of range or in another document as unplaced', () => {
    expect(evidenceOf(card('I10', [[20, 10, 'Source text: "x" (present)']]), 0, b, DOC)).toMatchObject({ passages: [], unplaced: 1 });
    expect(evidenceOf(card('I10', [[2, 6, 'Source text: "x" (present)']], 'DocumentReference/other'), 0, b, DOC)).toMatchObject({ passages: [], unplaced: 1 });
  });

  it('tolerates cards without a Condition', () => {
    expect(evidenceOf({ summary: 'x' }, 0, b, DOC)).toEqual({ code: '', passages: [], unplaced: 0 });
    expect(evidenceOf(null, 0, b, DOC)).toEqual({ code: '', passages: [], unplaced: 0 });
  });
});

describe('segmentsOf', () => {
  it('shares identical passages and splits partly overlapping ones', () => {
    expect(
      segmentsOf(10, [
        { id: 'a', start: 1, end: 4 },
        { id: 'b', start: 1, end: 4 },
        { id: 'c', start: 3, end: 6 },
      ]),
    ).toEqual([
      { start: 0, end: 1, passages: [] },
      { start: 1, end: 3, passages: ['a', 'b'] },
      { start: 3, end: 4, passages: ['a', 'b', 'c'] },
      { start: 4, end: 6, passages: ['c'] },
      { start: 6, end: 10, passages: [] },
    ]);
  });

  it('leaves out empty passages', () => {
    expect(segmentsOf(3, [{ id: 'a', start: 1, end: 1 }])).toEqual([
      { start: 0, end: 1, passages: [] },
      { start: 1, end: 3, passages: [] },
    ]);
  });
});

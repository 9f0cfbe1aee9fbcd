import { assertionInContext, sectionAt, sectionsOf, type Section, type SectionKind } from '../../../src/evidence/sections';
import { passagesOf } from '../../../src/evidence/passages';

const NOTE = [
  'DISCHARGE SUMMARY',
  'Admission Date: 2026-03-02    Discharge Date: 2026-03-06',
  '',
  'CHIEF COMPLAINT: Shortness of breath.',
  '',
  'HISTORY OF PRESENT ILLNESS:',
  '72-year-old woman with COPD presenting with three days of cough and fever. Plan per ED was admission.',
  '',
  'Past Medical History:',
  '- Hypertension',
  '- Type 2 diabetes mellitus',
  '- No prior strokes',
  '',
  'Past surgical history: cholecystectomy (2004).',
  'Family history: Mother with breast cancer. No family history of lung disease.',
  'Social History: Former smoker, quit 2015. Lives with her husband.',
  'Allergies: Penicillin (rash).',
  '',
  'Home Medications:',
  '1. Metformin 500 mg twice daily',
  '2. Lisinopril 10 mg daily',
  '',
  'Review of Systems: Negative for chest pain. Positive for cough.',
  '',
  '## Physical Exam',
  'Afebrile. Crackles at the right base.',
  '',
  'Pertinent Results:',
  'Chest x-ray: right lower lobe consolidation.',
  '',
  'Brief Hospital Course:',
  'Treated for community-acquired pneumonia with ceftriaxone. Possible COPD exacerbation.',
  '',
  'Discharge Diagnoses:',
  '1. Community-acquired pneumonia',
  '2. COPD exacerbation',
  '',
  'Discharge Instructions:',
  'Return to the emergency department if you develop chest pain.',
  'Chest pain or fainting.',
  '',
  'Follow-up: PCP in one week.',
].join('\n');

const at = (text: string, phrase: string, from = 0) => {
  const start = text.indexOf(phrase, from);
  if (start < 0) throw new Error(`"${phrase}" not in text`);
  return { start, end: start + phrase.length };
};

describe('sectionsOf on a multi-section discharge summary', () => {
  const sections = sectionsOf(NOTE);
  const summary = (s: Section) => [s.kind, NOTE.slice(s.heading.start, s.heading.end), NOTE.slice(s.start, s.end)];

  test('finds every heading, in order, with its kind and exact heading and body text', () => {
    expect(sections.map(summary)).toEqual([
      ['other', 'Admission Date', '2026-03-02    Discharge Date: 2026-03-06'],
      ['chief-complaint', 'CHIEF COMPLAINT', 'Shortness of breath.'],
      [
        'history-present-illness',
        'HISTORY OF PRESENT ILLNESS',
        '72-year-old woman with COPD presenting with three days of cough and fever. Plan per ED was admission.',
      ],
      ['past-history', 'Past Medical History', '- Hypertension\n- Type 2 diabetes mellitus\n- No prior strokes'],
      ['past-history', 'Past surgical history', 'cholecystectomy (2004).'],
      ['family-history', 'Family history', 'Mother with breast cancer. No family history of lung disease.'],
      ['social-history', 'Social History', 'Former smoker, quit 2015. Lives with her husband.'],
      ['allergies', 'Allergies', 'Penicillin (rash).'],
      ['medications', 'Home Medications', '1. Metformin 500 mg twice daily\n2. Lisinopril 10 mg daily'],
      ['review-of-systems', 'Review of Systems', 'Negative for chest pain. Positive for cough.'],
      ['examination', 'Physical Exam', 'Afebrile. Crackles at the right base.'],
      ['results', 'Pertinent Results', 'Chest x-ray: right lower lobe consolidation.'],
      ['hospital-course', 'Brief Hospital Course', 'Treated for community-acquired pneumonia with ceftriaxone. Possible COPD exacerbation.'],
      ['diagnoses', 'Discharge Diagnoses', '1. Community-acquired pneumonia\n2. COPD exacerbation'],
      ['instructions', 'Discharge Instructions', 'Return to the emergency department if you develop chest pain.\nChest pain or fainting.'],
      ['instructions', 'Follow-up', 'PCP in one week.'],
    ]);
  });

  test('offsets are exact', () => {
    const pmh = sections[3];
    expect(pmh.heading).toEqual(at(NOTE, 'Past Medical History'));
    expect(pmh.start).toBe(NOTE.indexOf('- Hypertension'));
    expect(pmh.end).toBe(NOTE.indexOf('- No prior strokes') + '- No prior strokes'.length);
    const exam = sections[10];
    expect(exam.heading).toEqual(at(NOTE, 'Physical Exam'));
  });

  test('"Plan" inside a sentence, "Chest x-ray:" and "DISCHARGE SUMMARY" are not headings', () => {
    const headings = sections.map((s) => NOTE.slice(s.heading.start, s.heading.end));
    expect(headings).not.toContain('Plan');
    expect(headings).not.toContain('Chest x-ray');
    expect(sectionAt(sections, NOTE.indexOf('Plan per ED'))?.kind).toBe('history-present-illness');
  });

  test('sectionAt maps passages to their section', () => {
    const kindOf = (phrase: string) => sectionAt(sections, NOTE.indexOf(phrase))?.kind;
    expect(kindOf('DISCHARGE SUMMARY')).toBeUndefined();
    expect(kindOf('- Type 2 diabetes')).toBe('past-history');
    expect(kindOf('Mother with breast cancer')).toBe('family-history');
    expect(kindOf('Penicillin')).toBe('allergies');
    expect(kindOf('Possible COPD')).toBe('hospital-course');
    expect(kindOf('2. COPD exacerbation')).toBe('diagnoses');
    expect(kindOf('Chest pain or fainting')).toBe('instructions');
    expect(kindOf('Discharge Diagnoses')).toBe('diagnoses');
    // The blank line between two sections belongs to neither.
    expect(sectionAt(sections, NOTE.indexOf('\n\nDischarge Diagnoses') + 1)).toBeUndefined();
  });
});

describe('sectionsOf heading forms', () => {
  const kinds = (text: string) => sectionsOf(text).map((s) => [s.kind, text.slice(s.heading.start, s.heading.end), text.slice(s.start, s.end)]);

  test.each<[string, string, Array<[SectionKind, string, string]>]>([
    ['inline, sentence case', 'Past medical history: hypertension', [['past-history', 'Past medical history', 'hypertension']]],
    ['own line, upper case, no colon', 'HOSPITAL COURSE\nUneventful.', [['hospital-course', 'HOSPITAL COURSE', 'Uneventful.']]],
    ['Title Case with colon and spaces', 'Assessment and Plan :  continue', [['assessment-plan', 'Assessment and Plan', 'continue']]],
    [
      'abbreviations',
      'PMH: HTN\nA/P: CAP',
      [
        ['past-history', 'PMH', 'HTN'],
        ['assessment-plan', 'A/P', 'CAP'],
      ],
    ],
    [
      'Markdown bold and numbering',
      '**Discharge Diagnoses:**\n1. Sepsis\nII. Medications:\nnone',
      [
        ['diagnoses', 'Discharge Diagnoses', '1. Sepsis'],
        ['medications', 'Medications', 'none'],
      ],
    ],
    [
      'qualifiers',
      'Physical exam on admission: febrile\nDiagnoses on admission: sepsis',
      [
        ['examination', 'Physical exam on admission', 'febrile'],
        ['admission-diagnoses', 'Diagnoses on admission', 'sepsis'],
      ],
    ],
    ['admitting diagnosis', 'Admitting diagnosis: chest pain', [['admission-diagnoses', 'Admitting diagnosis', 'chest pain']]],
    [
      'follow up spellings',
      'Follow up: PCP\nFOLLOWUP:\nclinic',
      [
        ['instructions', 'Follow up', 'PCP'],
        ['instructions', 'FOLLOWUP', 'clinic'],
      ],
    ],
    [
      'empty body',
      'Allergies:\nMedications: none',
      [
        ['allergies', 'Allergies', ''],
        ['medications', 'Medications', 'none'],
      ],
    ],
    [
      'UPPER CASE heading inside a flattened paragraph',
      'HPI: cough. PMH: COPD. Plan: home.',
      [
        ['history-present-illness', 'HPI', 'cough.'],
        ['past-history', 'PMH', 'COPD. Plan: home.'],
      ],
    ],
  ])('%s', (_, text, expected) => {
    expect(kinds(text)).toEqual(expected);
  });

  test.each([
    ['a word like Plan inside a sentence', 'We discussed the plan: discharge tomorrow.'],
    ['a heading word starting a sentence without colon', 'Plan to discharge tomorrow.'],
    ['lower case is prose', 'past medical history: hypertension'],
    ['a heading word followed by more words before the colon', 'Diagnosis was made by CT: appendicitis.'],
    ['PE is a finding when inline', 'PE: ruled out by CT angiography.'],
    ['no headings at all', 'Patient improved and went home.'],
  ])('not a heading: %s', (_, text) => {
    expect(sectionsOf(text)).toEqual([]);
  });

  test('an empty note has no sections', () => {
    expect(sectionsOf('')).toEqual([]);
    expect(sectionAt([], 0)).toBeUndefined();
  });
});

describe('assertionInContext', () => {
  const inContext = (passage: string, mention: string, section?: SectionKind) => assertionInContext(passage, at(passage, mention), section);

  test.each<[string, string, SectionKind | undefined, string, SectionKind | undefined]>([
    // Family history: the relatives', unless the passage negates it.
    ['Mother with breast cancer.', 'breast cancer', 'family-history', 'family', undefined],
    ['Breast cancer.', 'Breast cancer', 'family-history', 'family', 'family-history'],
    ['Colon cancer at age 50, possible Lynch syndrome.', 'Lynch syndrome', 'family-history', 'family', 'family-history'],
    ['No family history of colon cancer.', 'colon cancer', 'family-history', 'negated', undefined],
    ["Patient's mother denies diabetes.", 'diabetes', 'family-history', 'negated', undefined],
    // Past history: present mentions are historical; the passage's own status stands.
    ['- Hypertension', 'Hypertension', 'past-history', 'historical', 'past-history'],
    ['- No prior strokes', 'strokes', 'past-history', 'negated', undefined],
    // Instructions: present mentions become hypothetical.
    ['Chest pain or fainting.', 'fainting', 'instructions', 'hypothetical', 'instructions'],
    ['Return if you develop chest pain.', 'chest pain', 'instructions', 'hypothetical', undefined],
    // Sections without a default leave the passage alone.
    ['Penicillin (rash).', 'Penicillin', 'allergies', 'present', undefined],
    ['Possible COPD exacerbation.', 'COPD exacerbation', 'hospital-course', 'uncertain', undefined],
    ['Community-acquired pneumonia', 'Community-acquired pneumonia', 'diagnoses', 'present', undefined],
    ['Negative for chest pain.', 'chest pain', 'review-of-systems', 'negated', undefined],
    ['Pneumonia.', 'Pneumonia', undefined, 'present', undefined],
  ])('%j: %s in %s is %s', (passage, mention, section, status, bySection) => {
    const result = inContext(passage, mention, section);
    expect(result.status).toBe(status);
    expect(result.bySection).toBe(bySection);
  });

  test('works end to end with passagesOf and sectionsOf', () => {
    const sections = sectionsOf(NOTE);
    const statusOf = (mention: string, after = '') => {
      const offset = NOTE.indexOf(mention, NOTE.indexOf(after));
      const passage = passagesOf(NOTE).find((p) => p.start <= offset && offset < p.end)!;
      const text = NOTE.slice(passage.start, passage.end);
      return assertionInContext(text, { start: offset - passage.start, end: offset - passage.start + mention.length }, sectionAt(sections, offset)?.kind)
        .status;
    };
    expect(statusOf('Type 2 diabetes mellitus')).toBe('historical');
    expect(statusOf('strokes')).toBe('negated');
    expect(statusOf('cholecystectomy')).toBe('historical');
    expect(statusOf('breast cancer')).toBe('family');
    expect(statusOf('lung disease')).toBe('negated');
    expect(statusOf('smoker')).toBe('historical');
    expect(statusOf('COPD', 'HISTORY OF PRESENT ILLNESS')).toBe('present');
    expect(statusOf('chest pain', 'Review of Systems')).toBe('negated');
    expect(statusOf('COPD exacerbation', 'Brief Hospital Course')).toBe('uncertain');
    expect(statusOf('COPD exacerbation', 'Discharge Diagnoses')).toBe('present');
    expect(statusOf('chest pain', 'Discharge Instructions')).toBe('hypothetical');
    expect(statusOf('fainting')).toBe('hypothetical');
  });
});

/**
 * Sections of a discharge summary ("Past medical history:", "HOSPITAL COURSE", …) and the
 * assertion status of a mention given both its passage and the section it sits in.
 * Pure: no I/O. Offsets are UTF-16 indices into the note text, as in passages.ts.
 */
import { assertionOf, type Assertion, type AssertionOptions } from './assertion';
import type { Span } from './passages';

/**
 * What a section holds. Kept small and closed so that consumers can switch on it.
 * `admission-diagnoses` is apart from `diagnoses` because codes come from the final diagnostic
 * statement: a working diagnosis at admission may be ruled out later. `other` is a recognised
 * heading with no bearing on coding ("Disposition", "Code status"); it still ends the section
 * before it.
 */
export type SectionKind =
  | 'diagnoses'
  | 'admission-diagnoses'
  | 'chief-complaint'
  | 'history-present-illness'
  | 'past-history'
  | 'family-history'
  | 'social-history'
  | 'medications'
  | 'allergies'
  | 'review-of-systems'
  | 'examination'
  | 'hospital-course'
  | 'assessment-plan'
  | 'procedures'
  | 'results'
  | 'instructions'
  | 'other';

export interface Section {
  kind: SectionKind;
  /** The heading's words, without colon or markup. */
  heading: Span;
  /** The body: from the first non-blank character after the heading to the last one before the next heading (empty: start = end). */
  start: number;
  end: number;
}

/** Heading phrases, lower case, single-spaced. Abbreviations too: they are only read at a line start and before a colon or a line end. */
const HEADINGS: Readonly<Record<SectionKind, readonly string[]>> = {
  diagnoses: [
    'discharge diagnosis',
    'discharge diagnoses',
    'final diagnosis',
    'final diagnoses',
    'diagnosis',
    'diagnoses',
    'principal diagnosis',
    'primary diagnosis',
    'primary diagnoses',
    'secondary diagnosis',
    'secondary diagnoses',
    'other diagnoses',
    'postoperative diagnosis',
    'problem list',
    'active problems',
    'active problem list',
  ],
  'admission-diagnoses': [
    'admitting diagnosis',
    'admitting diagnoses',
    'admission diagnosis',
    'admission diagnoses',
    'preoperative diagnosis',
    'working diagnosis',
  ],
  'chief-complaint': [
    'chief complaint',
    'cc',
    'reason for admission',
    'reason for visit',
    'reason for hospitalization',
    'presenting complaint',
    'presenting problem',
  ],
  'history-present-illness': [
    'history of present illness',
    'history of the present illness',
    'history of presenting illness',
    'present illness',
    'hpi',
    'interval history',
  ],
  'past-history': [
    'past medical history',
    'pmh',
    'pmhx',
    'past history',
    'medical history',
    'past surgical history',
    'psh',
    'surgical history',
    'past medical and surgical history',
    'past medical/surgical history',
    'pmh/psh',
  ],
  'family-history': ['family history', 'fh', 'fhx', 'family hx', 'family medical history'],
  'social-history': ['social history', 'sh', 'shx', 'social hx'],
  medications: [
    'medications',
    'medication',
    'meds',
    'discharge medications',
    'discharge meds',
    'home medications',
    'home meds',
    'current medications',
    'admission medications',
    'outpatient medications',
    'medication reconciliation',
  ],
  allergies: ['allergies', 'allergy', 'drug allergies', 'allergies/adverse reactions', 'adverse reactions', 'allergies and adverse reactions'],
  'review-of-systems': ['review of systems', 'ros', 'systems review'],
  examination: ['physical examination', 'physical exam', 'examination', 'exam', 'pe', 'discharge exam', 'vital signs', 'vitals'],
  'hospital-course': ['hospital course', 'brief hospital course', 'clinical course', 'course in hospital', 'summary of hospital course', 'ed course', 'course'],
  'assessment-plan': [
    'assessment and plan',
    'assessment/plan',
    'assessment & plan',
    'a/p',
    'a&p',
    'assessment',
    'plan',
    'impression',
    'impression and plan',
    'impression/plan',
    'clinical impression',
    'recommendations',
  ],
  procedures: [
    'procedures',
    'procedure',
    'procedures performed',
    'operations',
    'operation',
    'operations/procedures',
    'major surgical or invasive procedure',
    'surgeries',
  ],
  results: [
    'laboratory',
    'laboratory data',
    'laboratory results',
    'laboratory studies',
    'labs',
    'lab results',
    'pertinent results',
    'results',
    'imaging',
    'radiology',
    'studies',
    'diagnostic studies',
    'microbiology',
    'pathology',
    'ekg',
    'ecg',
  ],
  instructions: [
    'discharge instructions',
    'instructions',
    'patient instructions',
    'follow-up',
    'follow up',
    'followup',
    'follow-up instructions',
    'followup instructions',
    'follow-up appointments',
    'return precautions',
    'activity',
    'diet',
    'discharge plan',
  ],
  other: [
    'disposition',
    'discharge disposition',
    'discharge condition',
    'condition',
    'code status',
    'consults',
    'consultations',
    'consultants',
    'service',
    'attending',
    'admission date',
    'discharge date',
    'date of admission',
    'date of discharge',
    'date of birth',
    'primary care physician',
    'pcp',
  ],
};

/** Short abbreviations that also read as findings ("PE: ruled out"), so only a line of their own is a heading. */
const OWN_LINE_ONLY = new Set(['pe']);

/** One spelling per heading: lower case, single spaces, no space around "/", "&" or "-". */
const canonical = (name: string) =>
  name
    .toLowerCase()
    .replace(/\s*([/&-])\s*/g, '$1')
    .replace(/\s+/g, ' ');

const KIND_OF = new Map<string, SectionKind>(
  Object.entries(HEADINGS).flatMap(([kind, names]) => names.map((name) => [canonical(name), kind as SectionKind] as const)),
);

const phraseSource = (name: string) =>
  name
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/ /g, '[ \\t]+')
    .replace(/\//g, '[ \\t]*\\/[ \\t]*')
    .replace(/-/g, '[ \\t]*-?[ \\t]*');
const NAMES = Object.values(HEADINGS)
  .flat()
  .sort((a, b) => b.length - a.length)
  .map(phraseSource)
  .join('|');
// "Physical exam on admission", "Medications at discharge", "Hospital course by problem", "Diagnoses (principal)".
const QUALIFIER = String.raw`(?:[ \t]+(?:on|at|upon)[ \t]+(?:admission|discharge|presentation|transfer))?(?:[ \t]+by[ \t]+(?:problem|problems|system|systems))?(?:[ \t]*\([^)\n]{1,40}\))?`;
const MARKUP = String.raw`(?:\*\*|__)?`;
// At a line start: optional indentation, Markdown heading marks or bold, and a section number ("2." or "IV)").
const AT_LINE_START = new RegExp(
  String.raw`^[ \t]*(?:#{1,6}[ \t]*)?${MARKUP}(?:(?:\d{1,2}|[IVX]{1,4})[.)][ \t]+)?((${NAMES})${QUALIFIER})(?![\p{L}\p{N}])${MARKUP}[ \t]*(:)?(?:[ \t]*${MARKUP})?`,
  'iu',
);
// Inside a line, only an UPPER CASE heading with a colon right after a sentence ("… stable. PLAN: discharge"),
// as in notes flattened to one paragraph.
const IN_LINE = new RegExp(String.raw`(?<=[.!?;][ \t]+)((${NAMES})${QUALIFIER})[ \t]*:`, 'giu');

const LINE = /[^\r\n\u2028\u2029]+/gu;

interface Heading {
  kind: SectionKind;
  heading: Span;
  /** Where the heading's line material begins (indentation and markup included). */
  from: number;
  /** Just past the heading, its colon and markup. */
  after: number;
}

/** The kind for a matched heading: admission qualifiers turn diagnoses into admission diagnoses. */
function kindOf(name: string, qualified: string): SectionKind {
  const kind = KIND_OF.get(canonical(name)) ?? 'other';
  return kind === 'diagnoses' && /\b(?:admission|presentation)\b/i.test(qualified) ? 'admission-diagnoses' : kind;
}

const isUpper = (s: string) => /\p{Lu}/u.test(s) && s === s.toUpperCase();

function headingsOf(text: string): Heading[] {
  const found: Heading[] = [];
  for (const line of text.matchAll(LINE)) {
    const lineStart = line.index!;
    const content = line[0];
    const m = AT_LINE_START.exec(content);
    const heading = m?.[1];
    // Upper or title/sentence case only: "past medical history:" in lower case is prose.
    if (m && heading && /^\p{Lu}/u.test(heading)) {
      const colon = m[3] !== undefined;
      const rest = content.slice(m[0].length);
      const ownLine = rest.trim() === '';
      if ((colon || ownLine) && (ownLine || !OWN_LINE_ONLY.has(canonical(m[2])))) {
        const start = lineStart + m[0].indexOf(heading);
        found.push({
          kind: kindOf(m[2], heading),
          heading: { start, end: start + heading.length },
          from: lineStart + (m[0].length - m[0].trimStart().length),
          after: lineStart + m[0].length,
        });
      }
    }
    for (const inner of content.matchAll(IN_LINE)) {
      if (!isUpper(inner[1]) || OWN_LINE_ONLY.has(canonical(inner[2]))) continue;
      const start = lineStart + inner.index!;
      found.push({ kind: kindOf(inner[2], inner[1]), heading: { start, end: start + inner[1].length }, from: start, after: start + inner[0].length });
    }
  }
  return found;
}

/**
 * The sections of a note, in order. Text before the first heading belongs to no section.
 * @param text - the note text
 */
export function sectionsOf(text: string): Section[] {
  const headings = headingsOf(text);
  return headings.map((h, i) => {
    const limit = i + 1 < headings.length ? headings[i + 1].from : text.length;
    let start = h.after;
    let end = limit;
    while (start < end && /\s/u.test(text[start])) start++;
    while (end > start && /\s/u.test(text[end - 1])) end--;
    if (start === end) start = end = h.after;
    return { kind: h.kind, heading: h.heading, start, end };
  });
}

/**
 * The section holding `offset` (in its heading or its body), or undefined before the first
 * heading and in the blank space between sections.
 * @param sections - sectionsOf(text)
 * @param offset - a UTF-16 offset into the same text
 */
export function sectionAt(sections: readonly Section[], offset: number): Section | undefined {
  let lo = 0;
  let hi = sections.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sections[mid].heading.start <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const s = sections[found];
  return offset < Math.max(s.end, s.heading.end) ? s : undefined;
}

/** An assertion, and the section when the section rather than the passage decided it. */
export interface ContextualAssertion extends Assertion {
  bySection?: SectionKind;
}

/**
 * The assertion status of a mention, from its passage first and then its section.
 *
 * - A status the passage states itself stands: "No family history of X" in Family history is
 *   negated (the relatives do not have it, so not even a family-history code is supported), and
 *   "Return if fever develops" is hypothetical wherever it is.
 * - Family history: anything not negated is the relatives' ('family'), including mentions the
 *   passage reads as historical or uncertain.
 * - Past history: a present mention becomes 'historical'. Chronic conditions listed there
 *   (hypertension, diabetes, CKD, COPD) are usually still coded for the stay (ICD-10-CM
 *   Official Guidelines, Section III: conditions that coexist and affect care); 'historical'
 *   says where the evidence comes from, and the consumer decides whether it suggests a code.
 * - Instructions and follow-up: a present mention becomes 'hypothetical'. They are written for
 *   the patient and mostly conditional ("Return precautions: chest pain, fainting" has no
 *   trigger word); the real diagnoses they restate are better quoted from the diagnoses or the
 *   hospital course.
 * - Allergies stay as the passage says: "Allergies: penicillin" is an allergy status the coder
 *   may report (Z88.-), and the consumer can see the section kind.
 * - Every other section leaves the passage's status alone.
 *
 * @param passageText - the passage
 * @param target - the mention's UTF-16 offsets within the passage
 * @param section - the kind of section the passage sits in, if any
 * @param options - passed to assertionOf
 */
export function assertionInContext(passageText: string, target: Span, section?: SectionKind, options?: AssertionOptions): ContextualAssertion {
  const own = assertionOf(passageText, target, options);
  switch (section) {
    case 'family-history':
      return own.status === 'negated' || own.status === 'family' ? own : { status: 'family', bySection: section };
    case 'past-history':
      return own.status === 'present' ? { status: 'historical', bySection: section } : own;
    case 'instructions':
      return own.status === 'present' ? { status: 'hypothetical', bySection: section } : own;
    default:
      return own;
  }
}

/**
 * Integral symptoms (Official Guidelines I.B.5): a sign or symptom routinely associated with a
 * definitive diagnosis that is also coded is not coded separately. A symptom (chapter 18, R00-R99)
 * is integral to a diagnosis outside chapter 18 when:
 *  - the code set says so: the symptom's Excludes1 note names the diagnosis (R10 "renal colic
 *    (N23)"), or the diagnosis's title names the symptom ("N30.01 Acute cystitis with hematuria");
 *  - or the project table does (models/knowledge/integral-symptoms.tsv, by body system);
 * and never when the diagnosis's own notes ask for the symptom ("use additional code for
 * associated symptoms": N40.1 with R33.8 urinary retention), which the classification allows
 * (I.B.5 "unless otherwise instructed").
 */
import type { CodeSet } from '../codeset/code-set';
import type { IntegralSymptom } from '../knowledge/knowledge';
import { codeAndTitle, covers, printedAt, readNotesOf } from './findings';

export interface IntegralMatch {
  symptom: string;
  diagnosis: string;
  /** Why, in words: the table row or the note. */
  because: string;
}

const isSymptom = (code: string) => code.startsWith('R');

/** The symptom's own name: its title before "unspecified" and any comma ("Hematuria, unspecified" → "hematuria"). */
function symptomName(codeSet: CodeSet, code: string): string | undefined {
  const title = codeSet.get(code)?.title;
  if (!title) return undefined;
  const name = title
    .split(',')[0]
    .replace(/\bunspecified\b/gi, '')
    .trim()
    .toLowerCase();
  return name.length >= 4 ? name : undefined;
}

/**
 * The symptom's integral diagnosis among the codes, with why, or undefined.
 * @param codeSet - the loaded code set
 * @param table - the project table
 * @param symptom - a suggested code
 * @param diagnoses - the other suggested and recorded codes
 */
export function integralTo(codeSet: CodeSet, table: readonly IntegralSymptom[], symptom: string, diagnoses: readonly string[]): IntegralMatch | undefined {
  if (!isSymptom(symptom) || !codeSet.exists(symptom)) return undefined;
  const excludes = readNotesOf(codeSet, symptom, 'excludes1');
  const name = symptomName(codeSet, symptom);
  for (const diagnosis of diagnoses) {
    if (isSymptom(diagnosis) || !codeSet.exists(diagnosis)) continue;
    // The classification asks for the symptom beside this diagnosis: not integral.
    const asked = (['useAdditionalCode', 'codeAlso'] as const).some((kind) =>
      readNotesOf(codeSet, diagnosis, kind).some((n) => covers(codeSet, n.refs, symptom)),
    );
    if (asked) continue;
    const note = excludes.find((n) => covers(codeSet, n.refs, diagnosis));
    if (note) return { symptom, diagnosis, because: `Excludes1 ${printedAt(note.from)}: "${note.text}"` };
    const title = codeSet.get(diagnosis)?.title.toLowerCase() ?? '';
    if (name && new RegExp(`\\bwith\\b.*\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(title)) {
      return { symptom, diagnosis, because: `the title of ${diagnosis} includes ${name}` };
    }
    const row = table.find((r) => covers(codeSet, r.symptoms, symptom) && covers(codeSet, r.diagnoses, diagnosis));
    if (row) return { symptom, diagnosis, because: `${row.condition} (${row.source})` };
  }
  return undefined;
}

/** The finding's text for an integral symptom left out. */
export function integralText(codeSet: CodeSet, match: IntegralMatch, recordedDiagnosis: boolean): string {
  return (
    `${codeAndTitle(codeSet, match.symptom)} is not suggested separately: it is routinely part of ` +
    `${recordedDiagnosis ? 'the recorded ' : ''}${codeAndTitle(codeSet, match.diagnosis)} (Official Guidelines I.B.5; ${match.because}). ` +
    'Code it only if the note says it is not due to that diagnosis.'
  );
}

/**
 * What the coding-rule checks report: one finding per broken or incomplete rule, named by its
 * code in the coding-rule CodeSystem (fhir-profiles/CodeSystem-coding-rule.json). Types and
 * small helpers only; the checks are in the other files of this folder.
 */
import type { AppliedNote, CodeSet } from '../codeset/code-set';
import type { NoteKind, TabularNote } from '../codeset/format';

export const RULE_CODES = [
  'excludes1',
  'code-first',
  'use-additional-code',
  'code-also',
  'seventh-character',
  'integral-symptom',
  'not-billable',
  'not-in-code-set',
] as const;
export type RuleCode = (typeof RULE_CODES)[number];

/** A code recorded on the encounter, as the checks see it. */
export interface CheckedRecord {
  /** Dotted, upper case; may not exist in the code set. */
  code: string;
  display?: string;
  /** Where the record is, for the edge (a FHIR expression, a Condition reference). */
  reference?: string;
}

export interface RuleFinding {
  rule: RuleCode;
  /** Suggested codes the finding concerns (their cards and Bundle entries say so). */
  suggested: string[];
  /** Recorded codes the finding concerns. */
  recorded: CheckedRecord[];
  /** In words a coder understands, naming the codes and the Tabular note or guideline. */
  text: string;
}

/** A Tabular note as a coder reads it: a list item with the heading it stands under ("…, such as:"). */
export interface ReadNote {
  /** The heading and the item ("urinary tract infection of specified site, such as: cystitis (N30.-)"). */
  text: string;
  refs: readonly string[];
  /** Where it is printed: a code, a section (`N30-N39`) or `chapter 14`. */
  from: string;
  /** The heading says "specified" (the items are the specified forms of an unspecified code). */
  specified: boolean;
}

/**
 * The notes of one kind that apply to a code, each list item with its heading. The Tabular
 * prints a heading ("urinary tract infection of specified site, such as:") and its items as
 * separate notes; the heading has no code reference, its items do.
 * @param codeSet - the loaded code set
 * @param code - a code that exists in it
 * @param kind - the note kind
 */
export function readNotesOf(codeSet: CodeSet, code: string, kind: NoteKind): ReadNote[] {
  const out: ReadNote[] = [];
  let heading: { text: string; from: string } | undefined;
  for (const { note, from } of codeSet.notesOf(code, kind) as AppliedNote[]) {
    if (heading && heading.from !== from) heading = undefined;
    if (isHeading(note)) {
      heading = { text: note.text, from };
      continue;
    }
    if (!note.refs?.length) continue;
    out.push({
      text: heading ? `${heading.text} ${note.text}` : note.text,
      refs: note.refs,
      from,
      specified: !!heading && /\bspecified\b/i.test(heading.text),
    });
  }
  return out;
}

const isHeading = (note: TabularNote) => !note.refs?.length && /:\s*$/.test(note.text);

/** "E11.22 Type 2 diabetes mellitus with diabetic chronic kidney disease". */
export function codeAndTitle(codeSet: CodeSet, code: string): string {
  const title = codeSet.get(code)?.title;
  return title ? `${code} ${title}` : code;
}

/** Where a note is printed, in words: "at E11", "at the section N30-N39", "at chapter 14". */
export function printedAt(from: string): string {
  if (from.startsWith('chapter ')) return `at ${from}`;
  return from.includes('-') ? `at the section ${from}` : `at ${from}`;
}

/** Whether any reference covers the code. */
export function covers(codeSet: CodeSet, refs: readonly string[], code: string): boolean {
  return refs.some((ref) => codeSet.matches(code, ref));
}

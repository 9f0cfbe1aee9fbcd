/**
 * "Code first", "use additional code" and "code also" (Official Guidelines I.A.13 and I.B.7):
 * codes the Tabular pairs. When both codes of a pair are present, the etiology goes first;
 * when the partner a note requires is missing, the finding names what is needed.
 *
 * A note requires a partner when it names one target (one code, one category or one range:
 * "stage of chronic kidney disease (N18.1-N18.6)", "type of heart failure (I50.-)") and is
 * printed at the code or above it up to its category, and it does not leave the partner to
 * the note ("if applicable", "if known", "any"). A list of alternatives ("insulin (Z79.4)",
 * "oral hypoglycemic drugs (Z79.84)") depends on what the note documents, and a "code first"
 * is required by such a note or by a manifestation code ("in diseases classified elsewhere"),
 * which is never coded without its etiology, whatever its note lists. Other notes are followed when both codes are present and never
 * reported missing.
 */
import type { CodeSet } from '../codeset/code-set';
import { codeAndTitle, covers, printedAt, readNotesOf, type ReadNote, type RuleFinding } from './findings';

const OPTIONAL = /\b(if applicable|if known|if present|if any|any|such as|associated)\b/i;
export const MANIFESTATION = /\bin (other )?diseases classified elsewhere\b/i;

/** Whether the note asks for one partner, always. */
function requiresPartner(codeSet: CodeSet, code: string, note: ReadNote, siblings: readonly ReadNote[]): boolean {
  if (note.from.includes('-') || note.from.startsWith('chapter ')) return false;
  if (OPTIONAL.test(note.text)) return false;
  // One target: one reference, or several within one category ("N18.1-N18.4, N18.9").
  const categories = new Set(note.refs.flatMap((r) => r.split('-').map((end) => end.replace('.', '').slice(0, 3))));
  if (note.refs.length !== 1 && categories.size !== 1) return false;
  // One of several notes of the kind printed at the same code: alternatives ("insulin (Z79.4)",
  // "oral hypoglycemic drugs (Z79.84)"), coded as the note documents them.
  if (siblings.some((s) => s !== note && s.from === note.from)) return false;
  return codeSet.exists(code);
}

/** Whether the code's title names every word of the note's condition (references and "underlying" aside). */
function titleNames(codeSet: CodeSet, code: string, note: ReadNote): boolean {
  const words = (text: string) => text.toLowerCase().match(/[a-z][a-z-]{2,}/g) ?? [];
  const title = new Set(words(codeSet.get(code)?.title ?? ''));
  const named = words(note.text.replace(/\([^)]*\)/g, ' ')).filter((w) => w !== 'underlying' && w !== 'the' && w !== 'and');
  return named.length > 0 && named.every((w) => title.has(w));
}

/**
 * The notes of a code that require their partner (reported when it is missing). A "code first"
 * of a code that is not a manifestation is a sequencing instruction for when the other
 * condition is there ("pre-existing cardiomyopathy complicating pregnancy" at I42), unless the
 * code's title names that condition ("D63.1 Anemia in chronic kidney disease": code first the CKD).
 * @param codeSet - the loaded code set
 * @param code - a code of it
 * @param kind - the note kind
 */
export function requiredPartnerNotes(codeSet: CodeSet, code: string, kind: 'useAdditionalCode' | 'codeAlso' | 'codeFirst'): ReadNote[] {
  const notes = readNotesOf(codeSet, code, kind);
  return notes.filter((n) => (kind !== 'codeFirst' || titleNames(codeSet, code, n)) && requiresPartner(codeSet, code, n, notes));
}

export interface PairedResult {
  /** The codes, etiology before manifestation. */
  order: string[];
  findings: RuleFinding[];
}

/**
 * @param codeSet - the loaded code set
 * @param suggested - suggested codes, ranked
 * @param recorded - recorded codes (partners too)
 */
export function pairedCodeFindings(codeSet: CodeSet, suggested: readonly string[], recorded: readonly string[]): PairedResult {
  const findings: RuleFinding[] = [];
  const order = [...suggested];
  const present = [...suggested, ...recorded];
  for (const code of suggested) {
    const additional = readNotesOf(codeSet, code, 'useAdditionalCode');
    const first = readNotesOf(codeSet, code, 'codeFirst');

    // Both present: the etiology first. `code` asks for an additional code → it goes before it;
    // `code` says code first X → X goes before it.
    const after = present.filter((other) => other !== code && additional.some((n) => covers(codeSet, n.refs, other)));
    const before = present.filter((other) => other !== code && first.some((n) => covers(codeSet, n.refs, other)));
    for (const other of after) moveAfter(order, other, code, findings, codeSet, 'use-additional-code', additional);
    for (const other of before) moveAfter(order, code, other, findings, codeSet, 'code-first', first);

    // Missing partners.
    const absent = (note: ReadNote) => !present.some((other) => other !== code && covers(codeSet, note.refs, other));
    const manifestation = MANIFESTATION.test(codeSet.get(code)?.title ?? '');
    for (const [kind, noteKind, verb] of [
      ['use-additional-code', 'useAdditionalCode', 'use additional code:'],
      ['code-also', 'codeAlso', 'code also'],
      ['code-first', 'codeFirst', 'code first'],
    ] as const) {
      // A manifestation's own notes are reported together below.
      if (kind === 'code-first' && manifestation) continue;
      for (const note of requiredPartnerNotes(codeSet, code, noteKind).filter(absent)) {
        findings.push({
          rule: kind,
          suggested: [code],
          recorded: [],
          text: `${codeAndTitle(codeSet, code)}: ${verb} "${note.text}" (${printedAt(note.from)}); no such code is suggested or recorded. Add it when the note documents it.`,
        });
      }
    }
    // A manifestation is never coded alone: one finding naming the etiologies its notes list.
    if (manifestation && first.length > 0 && first.every(absent)) {
      const listed = first.slice(0, 3).map((n) => `"${n.text}"`);
      findings.push({
        rule: 'code-first',
        suggested: [code],
        recorded: [],
        text:
          `${codeAndTitle(codeSet, code)} is a manifestation code: code first the underlying condition (${printedAt(first[0].from)}: ${listed.join('; ')}${first.length > 3 ? ' …' : ''}). ` +
          'No such code is suggested or recorded (Official Guidelines I.A.13).',
      });
    }
  }
  return { order, findings };
}

/** Puts `later` right after `earlier` when it stands before it, and says so. */
function moveAfter(
  order: string[],
  later: string,
  earlier: string,
  findings: RuleFinding[],
  codeSet: CodeSet,
  rule: 'use-additional-code' | 'code-first',
  notes: readonly ReadNote[],
): void {
  const i = order.indexOf(later);
  const j = order.indexOf(earlier);
  if (i < 0 || j < 0 || i > j) return;
  order.splice(i, 1);
  order.splice(order.indexOf(earlier) + 1, 0, later);
  const note = notes.find((n) => covers(codeSet, n.refs, rule === 'code-first' ? earlier : later));
  findings.push({
    rule,
    suggested: [earlier, later],
    recorded: [],
    text:
      `${codeAndTitle(codeSet, earlier)} is listed before ${codeAndTitle(codeSet, later)}` +
      (note ? `, as the note ${printedAt(note.from)} requires ("${note.text}")` : '') +
      (rule === 'code-first'
        ? ': the underlying condition first (Official Guidelines I.A.13).'
        : ': the code whose note asks for the additional code first, then the additional code (Official Guidelines I.A.13).'),
  });
}

/**
 * Verification in the Tabular List: a code from the Index or a table is completed to a
 * billable code. An incomplete code ("C50.9-", "I12", a category) is refined by the words that
 * tell its subcodes apart ("left", "female", "with coma"), the note's facts (sex) and the
 * encounter for a 7th character; when the note documents nothing more specific, the
 * unspecified subcode is taken (guideline I.A.9: "unspecified" codes when the documentation
 * supports nothing more specific). A code the loaded year lacks (a table of a later year)
 * falls back to the nearest code that exists. Never a header code: a code that cannot be
 * completed honestly is left out.
 */
import type { CodeSet } from '../codeset/code-set';
import { STOP_WORDS } from '../finder/term-index';
import { wordsOf, type SpellingVariants } from '../finder/words';
import type { NoteFacts } from './note-facts';

export interface Refinement {
  /** The billable code. */
  code: string;
  /** Each Tabular step taken, for the evidence ("C50.91 female breast", "7th character A: initial encounter"). */
  steps: string[];
  /** Set when a step took the unspecified subcode for lack of documentation. */
  defaulted: boolean;
}

/** Words of a Tabular title that never tell subcodes apart. */
const GENERIC = new Set([
  'unspecified',
  'other',
  'specified',
  'site',
  'part',
  'type',
  'without',
  'with',
  'in',
  'of',
  'and',
  'or',
  'not',
  'elsewhere',
  'classified',
]);

/**
 * @param codeSet - the loaded code set
 * @param spelling - British-to-US variants
 */
export function createTabularRefiner(codeSet: CodeSet, spelling?: SpellingVariants) {
  const titleCounts = new Map<string, Map<string, number>>();
  /** A code's title words (normal form), counted. */
  const counts = (code: string) => {
    let c = titleCounts.get(code);
    if (!c) {
      c = new Map<string, number>();
      for (const w of wordsOf(codeSet.get(code)?.title ?? '', spelling)) if (!STOP_WORDS.has(w.norm)) c.set(w.norm, (c.get(w.norm) ?? 0) + 1);
      titleCounts.set(code, c);
    }
    return c;
  };

  /** The subcode of `parent` the words support, or its unspecified one. */
  const chooseChild = (parent: string, kids: readonly string[], available: (w: string) => boolean): { child?: string; defaulted: boolean; why?: string } => {
    if (kids.length === 1) return { child: kids[0], defaulted: false };
    // Counted words: "unspecified site of unspecified female breast" says unspecified once more than its siblings.
    const all = kids.map(counts);
    const distinctiveOf = (kid: string) => {
      const own = all[kids.indexOf(kid)];
      return [...own].filter(([w, n]) => n > Math.min(...all.map((c) => c.get(w) ?? 0))).map(([w]) => w);
    };
    // A word of the parent's own title was spent reaching it: "S06.2X Diffuse traumatic brain
    // injury" says brain, so brain does not choose "S06.2X7 … with death due to brain injury".
    const spent = counts(parent);
    let best: { code: string; score: number; words: string[] } | undefined;
    let tie = false;
    for (const kid of kids) {
      const matched = distinctiveOf(kid).filter((w) => !GENERIC.has(w) && !spent.has(w) && available(w));
      const score = matched.length;
      if (score === 0) continue;
      if (!best || score > best.score) {
        best = { code: kid, score, words: matched };
        tie = false;
      } else if (score === best.score) tie = true;
    }
    if (best && !tie) return { child: best.code, defaulted: false, why: best.words.join(' ') };
    // The subcode that says "unspecified" where its siblings do not (C50.919 beside C50.911).
    const unspecified = kids.find((k) => distinctiveOf(k).includes('unspecified')) ?? kids.find((k) => distinctiveOf(k).includes('without'));
    if (unspecified) return { child: unspecified, defaulted: true };
    // Subcodes by sex (female breast, male breast) when the note does not say: the Tabular's
    // first, flagged as a default for the coder to check.
    if (kids.every((k) => distinctiveOf(k).some((w) => w === 'female' || w === 'male'))) return { child: kids[0], defaulted: true, why: 'sex not documented' };
    return { defaulted: true };
  };

  /** The 7th character for the encounter (and open fracture, laterality), as a generated code. */
  const seventh = (code: string, facts: NoteFacts, available: (w: string) => boolean): { child?: string; why?: string; defaulted: boolean } => {
    const kids = codeSet.children(code).filter((k) => codeSet.get(k)?.generated);
    const meaning = (k: string) => (codeSet.get(k)?.title ?? '').slice((codeSet.get(code)?.title ?? '').length + 2).toLowerCase();
    const encounterWords: Record<string, RegExp> = {
      initial: /^initial encounter/,
      subsequent: /^subsequent encounter/,
      'subsequent-delayed': /delayed healing/,
      'subsequent-nonunion': /nonunion/,
      'subsequent-malunion': /malunion/,
      sequela: /^sequela/,
    };
    const byEncounter = kids.filter((k) => encounterWords[facts.encounter].test(meaning(k)));
    if (byEncounter.length > 0) {
      const open = available('open');
      // Closed is the default of a fracture not documented as open (guideline I.C.19.c.1).
      const fracture = open ? /open fracture/ : /closed fracture/;
      const pick = byEncounter.find((k) => fracture.test(meaning(k))) ?? byEncounter.find((k) => !/open fracture/.test(meaning(k))) ?? byEncounter[0];
      return { child: pick, why: meaning(pick), defaulted: facts.encounter === 'initial' };
    }
    // Not an encounter character (laterality of the eye, fetus): the documented one, else the unspecified one.
    const choice = chooseChild(code, kids, available);
    if (choice.child) return { child: choice.child, why: meaning(choice.child), defaulted: choice.defaulted };
    const fallback = kids.find((k) => /unspecified|not applicable/.test(meaning(k)));
    return fallback ? { child: fallback, why: meaning(fallback), defaulted: true } : { defaulted: true };
  };

  /**
   * @param indexCode - as the Index prints it ("C50.9-", "I12.9", "T36.0X5-")
   * @param available - whether a word (normal form) is documented for this mention
   * @param facts - the note's sex and encounter
   * @returns undefined when no billable code can be reached
   */
  return function refine(indexCode: string, available: (w: string) => boolean, facts: NoteFacts): Refinement | undefined {
    let raw = indexCode.replace(/-$/, '').replace(/\.$/, '');
    let code = codeSet.normalize(raw);
    const steps: string[] = [];
    // A code of another year: the nearest code above it that this year has.
    while (!code && raw.replace('.', '').length > 3) {
      raw = raw.slice(0, -1).replace(/\.$/, '');
      code = codeSet.normalize(raw);
      if (code) steps.push(`${indexCode} is not in the ${codeSet.version} code set: from ${code}`);
    }
    if (!code) return undefined;
    let current: string = code;
    const sexWords = (w: string) => available(w) || (facts.sex !== undefined && w === facts.sex);
    let defaulted = false;
    for (let guard = 0; guard < 6 && !codeSet.isBillable(current); guard++) {
      const entry = codeSet.get(current)!;
      const kids = codeSet.children(current);
      if (kids.length === 0) return undefined;
      const choice: { child?: string; why?: string; defaulted: boolean } =
        entry.seventh && kids.every((k) => codeSet.get(k)?.generated) ? seventh(current, facts, sexWords) : chooseChild(current, kids, sexWords);
      if (!choice.child) return undefined;
      defaulted ||= choice.defaulted;
      steps.push(`${choice.child}${choice.why ? ` (${choice.why})` : choice.defaulted ? ' (nothing more specific documented)' : ''}`);
      current = choice.child;
    }
    return codeSet.isBillable(current) ? { code: current, steps, defaulted } : undefined;
  };
}

export type TabularRefiner = ReturnType<typeof createTabularRefiner>;

/**
 * The Index coder: one note → candidate codes, each with the mentions that support it, their
 * assertion status and section, and the Index path and Tabular steps that led to the code.
 *
 * Per mention: its status (evidence/sections.ts, judged on the mention itself) decides what it
 * may give. Present → its code; uncertain → its code in the inpatient setting, coded as if
 * established (guidelines II.H, III.C), nothing in the outpatient setting (IV.H: the symptoms
 * are coded from their own mentions); historical → its code when the condition is chronic
 * (knowledge/chronic-conditions.tsv), else its personal-history code (Index: History,
 * personal); family → its family-history code (Index: History, family); negated and
 * hypothetical → nothing.
 *
 * "with" combinations (I.A.15) take their partner's words from other present mentions; the
 * partner's own code stays only when the combination's Tabular notes ask for it ("use
 * additional code"), else the combination absorbs it. Finally the guideline combinations
 * (knowledge/combinations.tsv) and subsumption: a code whose Index path is a prefix of another
 * candidate's path from the same main term is less specific and left out.
 */
import type { CodeSet } from '../codeset/code-set';
import type { Span } from '../evidence/passages';
import { passagesOf } from '../evidence/passages';
import { assertionInContext, sectionAt, sectionsOf, type SectionKind } from '../evidence/sections';
import type { AssertionStatus } from '../evidence/assertion';
import type { Mention, MentionFinder } from '../finder/find-mentions';
import type { StreamWord } from '../finder/lexicon';
import { NOT_CONDITION_WORDS, type TermNode } from '../finder/term-index';
import { wordsOf } from '../finder/words';
import { isChronicCode, type Knowledge } from '../knowledge/knowledge';
import type { IndexPath, IndexWalker, PartnerWords, WalkWords } from './index-walk';
import { noteFactsOf, type Encounter, type NoteFacts } from './note-facts';
import { resolveCodes } from './resolve-codes';
import type { TabularRefiner } from './tabular-refine';

export type Setting = 'inpatient' | 'outpatient';

/** How a mention's status turned into its code. */
export type Rationale =
  | 'present'
  /** Documented as probable/suspected at discharge: coded as if established (inpatient, II.H and III.C). */
  | 'uncertain-as-established'
  /** A chronic condition mentioned as history: still coded. */
  | 'chronic-history'
  /** A resolved past condition: its personal-history code. */
  | 'personal-history'
  /** A relative's condition: the family-history code. */
  | 'family-history';

/** One mention's support for a candidate code. */
export interface MentionSupport {
  mention: Span;
  clause: Span;
  status: AssertionStatus;
  trigger?: string;
  bySection?: SectionKind;
  section?: { kind: SectionKind; heading: string };
  rationale: Rationale;
  /** Alphabetic Index path, then Tabular steps, as a coder reads them. */
  path: string[];
  /** Subterm words matched along the path (specificity). */
  score: number;
  /** The unspecified subcode was taken for lack of documentation. */
  defaulted: boolean;
  /** Came from the Neoplasm or Drug table. */
  table?: 'neoplasm' | 'drug';
  /** A "with" combination supported by other mentions. */
  combination: boolean;
}

export interface IndexCandidate {
  code: string;
  display: string;
  supports: MentionSupport[];
  /** Guideline combinations and absorptions that shaped it, for the card. */
  notes: string[];
}

export interface NoteCoding {
  candidates: IndexCandidate[];
  /** Mentions left out and why (negated, hypothetical, outpatient uncertain, no subterm): counts for evaluation. */
  dropped: { code?: string; why: string }[];
  /**
   * Codes of conditions the note names only as absent, hypothetical, a relative's, or (outpatient)
   * uncertain: no other source (the classifier) may suggest them from this note.
   */
  suppressed: string[];
  mentions: number;
}

export interface IndexCoderDeps {
  codeSet: CodeSet;
  finder: MentionFinder;
  walker: IndexWalker;
  refine: TabularRefiner;
  knowledge: Knowledge;
  /** Encounter cues as word sequences in normal form. */
  cues: { words: string[]; encounter: Encounter }[];
}

interface Assigned {
  mention: Mention;
  status: AssertionStatus;
  trigger?: string;
  bySection?: SectionKind;
  section?: { kind: SectionKind; heading: string };
  standalone: IndexPath;
  chosen?: IndexPath;
  rationale?: Rationale;
}

/** Index coder for one code set. */
export function createIndexCoder(deps: IndexCoderDeps) {
  const { codeSet, finder, walker, refine, knowledge } = deps;
  const historyPersonal = walker.resolve('History, personal');
  const historyFamily = walker.resolve('History, family');
  const isChronic = (code: string) => isChronicCode(knowledge, code);
  // Path steps are Index titles, a finite set: their words are cached.
  const stepWords = new Map<string, string[]>();
  const wordsOfStep = (step: string): string[] => {
    let words = stepWords.get(step);
    if (!words) stepWords.set(step, (words = wordsOf(step.replace(/^see (also )?/, ''), knowledge.spelling).map((w) => w.norm)));
    return words;
  };

  // Per note: the words a "without" rules out ("without complications"), never a subterm's support.
  const ruledOutOf = new WeakMap<readonly StreamWord[], ReadonlySet<number>>();
  const wordsOfMention = (stream: readonly StreamWord[], m: Mention, partners: Map<string, Set<number>>, self: boolean): WalkWords => {
    const own = new Map<string, number[]>();
    const ruledOutAt = ruledOutOf.get(stream);
    // Words before a "to" or "by" left of the main term belong to another condition
    // ("tortuosity … secondary to hypertension": the hypertension is not secondary).
    const start = m.mainWords[0];
    const cut = Math.max(-1, ...m.window.filter((i) => i < start && (stream[i].norm === 'to' || stream[i].norm === 'by')));
    for (const i of m.window) {
      if (i <= cut || NOT_CONDITION_WORDS.has(stream[i].norm)) continue;
      const list = own.get(stream[i].norm);
      if (list) list.push(i);
      else own.set(stream[i].norm, [i]);
    }
    // A word is ruled out when every place the window has it follows a "without".
    const ruledOut = new Set([...own].filter(([, at]) => ruledOutAt && at.every((i) => ruledOutAt.has(i))).map(([w]) => w));
    if (self) for (const i of m.mainWords) if (!own.has(stream[i].norm)) own.set(stream[i].norm, [i]);
    // The other mentions' words: a view that leaves this mention out (no copy per mention: notes can hold thousands).
    let keys: string[] | undefined;
    let rank: Map<string, number> | undefined;
    const others: PartnerWords = {
      has: (w) => {
        const ids = partners.get(w);
        return !!ids && (ids.size > 1 || !ids.has(m.id));
      },
      get: (w) => {
        const ids = partners.get(w);
        if (!ids || !ids.has(m.id)) return ids;
        const rest = new Set(ids);
        rest.delete(m.id);
        return rest.size > 0 ? rest : undefined;
      },
      keys: () => (keys ??= [...partners.keys()].filter((w) => others.has(w))),
      rankOf: (w) => {
        rank ??= new Map(others.keys().map((k, i) => [k, i]));
        return rank.get(w) ?? -1;
      },
    };
    const first = m.mainWords[0];
    const last = m.mainWords[m.mainWords.length - 1];
    // An abbreviation's expansion counts a little less than what the note spells out ("DVT of the femoral vein": femoral, not deep).
    const distance = (i: number) => (i < first ? first - i : i > last ? i - last : 0) + (stream[i].expanded ? 3 : 0);
    return {
      own,
      partners: others,
      distance,
      main: new Set(m.mainWords.map((i) => stream[i].norm)),
      placeOf: (i) => stream[i].start,
      ...(ruledOut.size > 0 ? { ruledOut } : {}),
    };
  };

  /** A history walk ("History, personal", "History, family") with the mention's own words. */
  const historyPath = (root: TermNode | undefined, stream: readonly StreamWord[], m: Mention): IndexPath | undefined => {
    if (!root) return undefined;
    // The condition's own words are the history term's subterms here ("History, personal, embolism").
    const path = walker.walk(root, { ...wordsOfMention(stream, m, new Map(), true), main: new Set() });
    return path.score > 0 && path.code ? path : undefined;
  };

  /**
   * @param text - the note
   * @param setting - inpatient or outpatient (uncertain diagnoses)
   * @param options - `keepSuppressed`: negated and hypothetical mentions give their codes too
   *   (for evaluation against corpora that code them; the service never sets it)
   */
  return function codeNote(text: string, setting: Setting, options: { keepSuppressed?: boolean } = {}): NoteCoding {
    const clauses = passagesOf(text);
    const sections = sectionsOf(text);
    const { stream, mentions } = finder.find(text, clauses);
    ruledOutOf.set(stream, ruledOutByWithout(stream, text));
    const facts: NoteFacts = noteFactsOf(stream, deps.cues);
    const dropped: NoteCoding['dropped'] = [];

    const assigned: Assigned[] = mentions.map((mention) => {
      const section = sectionAt(sections, mention.clause.start);
      const a = assertionInContext(
        text.slice(mention.clause.start, mention.clause.end),
        { start: mention.span.start - mention.clause.start, end: mention.span.end - mention.clause.start },
        section?.kind,
      );
      return {
        mention,
        status: a.status,
        ...(a.trigger ? { trigger: a.trigger.text } : {}),
        ...(a.bySection ? { bySection: a.bySection } : {}),
        ...(section ? { section: { kind: section.kind, heading: text.slice(section.heading.start, section.heading.end) } } : {}),
        standalone: walker.walk(mention.main, wordsOfMention(stream, mention, new Map(), false)),
      };
    });

    // Phrase words of the mentions a "with" subterm may lean on: present (or, inpatient,
    // uncertain) conditions. A word two mentions could claim ("kidney" in "diabetes with chronic
    // kidney disease") belongs to the one whose main term is nearest.
    const partners = new Map<string, Set<number>>();
    const owner = new Map<number, { id: number; distance: number }>();
    // Only conditions lean a "with" subterm on: not a neoplasm, an injury or a status (a kidney
    // tumour is no "hypertension with kidney involvement").
    const conditionCode = (path: IndexPath) => !path.table && !!path.code && !/^(C|D[0-4]|S|T|V|W|X|Y|Z)/.test(path.code);
    for (const a of assigned) {
      if (!(a.status === 'present' || a.status === 'historical' || (a.status === 'uncertain' && setting === 'inpatient'))) continue;
      if (!conditionCode(a.standalone)) continue;
      const m = a.mention;
      // The words the mention stands on, and the lexicon's words written at the same place ("renal" also reads "kidney").
      const own = new Set([...m.mainWords, ...a.standalone.used]);
      for (const i of [...own])
        for (let j = Math.max(0, i - 3); j < Math.min(stream.length, i + 4); j++)
          if (stream[j].start === stream[i].start && stream[j].end === stream[i].end) own.add(j);
      for (const i of own) {
        const distance = Math.min(...m.mainWords.map((j) => Math.abs(i - j)));
        const held = owner.get(i);
        if (!held || distance < held.distance) owner.set(i, { id: m.id, distance });
      }
    }
    for (const [i, { id }] of owner) {
      const set = partners.get(stream[i].norm) ?? new Set<number>();
      set.add(id);
      partners.set(stream[i].norm, set);
    }

    const byId = new Map(assigned.map((a) => [a.mention.id, a]));
    /**
     * A partner is the condition the "with" subterm names: its main term is among the subterm's
     * words ("chronic kidney disease" for CKD), or the combination code asks for its code
     * (I12.9 "use additional code … N18"). An acute kidney injury shares the word "kidney" with
     * "kidney complications" but is neither, so it is coded on its own.
     */
    const partnerFits = (path: IndexPath, id: number): boolean => {
      const partner = byId.get(id);
      if (!partner) return false;
      const words = new Set(path.steps.slice(1).flatMap(wordsOfStep));
      if (partner.mention.mainWords.some((i) => words.has(stream[i].norm))) return true;
      const code = path.code?.replace(/[.-]+$/, '');
      const partnerCode = partner.standalone.code?.replace(/[.-]+$/, '');
      if (!code || !partnerCode || !codeSet.exists(code)) return false;
      return (['useAdditionalCode', 'codeAlso', 'codeFirst'] as const).some((kind) =>
        codeSet.notesOf(code, kind).some(({ note }) => note.refs?.some((ref) => codeSet.matches(partnerCode, ref))),
      );
    };

    // Codes a mention negates ("negative for intracranial hemorrhage"): an uncertain mention of
    // the same condition ("to rule out intracranial hemorrhage") was ruled out, not established.
    const negatedCodes = new Set<string>();
    for (const a of assigned) {
      const m = a.mention;
      const combined = a.standalone.partnerFree ? a.standalone : walker.walk(m.main, wordsOfMention(stream, m, partners, false));
      const fits = [...combined.partners].every((id) => partnerFits(combined, id));
      const path = fits && combined.partners.size > 0 && combined.score > a.standalone.score ? combined : a.standalone;
      if (m.needsSubterm && path.score === 0) {
        dropped.push({ why: 'no subterm' });
        continue;
      }
      switch (a.status) {
        case 'negated':
        case 'hypothetical':
          // Evaluation only ("without suppression"): the condition as if it were present.
          if (options.keepSuppressed) {
            a.chosen = path;
            a.rationale = 'present';
            break;
          }
          dropped.push({ code: path.code, why: a.status });
          if (a.status === 'negated' && path.code) negatedCodes.add(path.code.replace(/[.-]+$/, ''));
          continue;
        case 'uncertain':
          if (setting === 'outpatient') {
            dropped.push({ code: path.code, why: 'uncertain (outpatient)' });
            continue;
          }
          a.chosen = path;
          a.rationale = 'uncertain-as-established';
          break;
        case 'family': {
          const family = historyPath(historyFamily, stream, m);
          if (!family) dropped.push({ code: path.code, why: 'family (no family-history code)' });
          else {
            a.chosen = family;
            a.rationale = 'family-history';
          }
          continue;
        }
        case 'historical': {
          const code = path.code ? refine(path.code, (w) => wordsOfMention(stream, m, new Map(), false).own.has(w), facts)?.code : undefined;
          if (code && isChronic(code)) {
            a.chosen = path;
            a.rationale = 'chronic-history';
          } else {
            const personal = historyPath(historyPersonal, stream, m);
            if (!personal) dropped.push({ code: path.code, why: 'historical (no personal-history code)' });
            else {
              a.chosen = personal;
              a.rationale = 'personal-history';
            }
          }
          continue;
        }
        default:
          a.chosen = path;
          a.rationale = 'present';
      }
    }

    // An abbreviation names one condition: of the mentions its expansion's words anchor, the one
    // whose path stands on most of them is kept ("HIV": Human, immunodeficiency virus B20, not
    // also Immunodeficiency D84.9).
    const expansions = new Map<string, Assigned[]>();
    for (const a of assigned) {
      const anchor = stream[a.mention.mainWords[0]];
      if (!a.chosen || !anchor.expanded) continue;
      const key = `${anchor.start}:${anchor.end}`;
      expansions.set(key, [...(expansions.get(key) ?? []), a]);
    }
    for (const group of expansions.values()) {
      if (group.length < 2) continue;
      const wordsUsed = (a: Assigned) => new Set([...a.mention.mainWords, ...a.chosen!.used].filter((i) => stream[i]?.expanded)).size;
      const most = Math.max(...group.map(wordsUsed));
      for (const a of group)
        if (wordsUsed(a) < most) {
          dropped.push({ code: a.chosen!.code, why: 'another reading of the abbreviation' });
          a.chosen = undefined;
        }
    }

    // Refine every chosen path to a billable code.
    interface Coded {
      a: Assigned;
      code: string;
      path: IndexPath;
      support: MentionSupport;
    }
    const coded: Coded[] = [];
    const standaloneCode = new Map<number, string | undefined>();
    for (const a of assigned) {
      if (!a.chosen?.code || !a.rationale) continue;
      if (a.rationale === 'uncertain-as-established' && negatedCodes.has(a.chosen.code.replace(/[.-]+$/, ''))) {
        dropped.push({ code: a.chosen.code, why: 'ruled out (uncertain, and negated elsewhere)' });
        continue;
      }
      const m = a.mention;
      const own = wordsOfMention(stream, m, new Map(), true).own;
      // The words of the Index path are documented too: "leg - see Cellulitis, lower limb" said lower limb.
      const pathWords = new Set(a.chosen.steps.flatMap(wordsOfStep));
      const refined = refine(a.chosen.code, (w) => own.has(w) || pathWords.has(w), facts);
      if (!refined) {
        dropped.push({ code: a.chosen.code, why: 'no billable code reached' });
        continue;
      }
      const supportOf = (code: string, steps: string[], defaulted: boolean): MentionSupport => ({
        mention: m.span,
        clause: m.clause,
        status: a.status,
        ...(a.trigger ? { trigger: a.trigger } : {}),
        ...(a.bySection ? { bySection: a.bySection } : {}),
        ...(a.section ? { section: a.section } : {}),
        rationale: a.rationale!,
        path: [...a.chosen!.steps, ...(a.chosen!.code && a.chosen!.code !== code ? [`Tabular: ${steps.join(' → ')}`] : [])].filter(Boolean),
        score: a.chosen!.score,
        defaulted,
        ...(a.chosen!.table ? { table: a.chosen!.table } : {}),
        combination: a.chosen!.partners.size > 0,
      });
      coded.push({ a, code: refined.code, path: a.chosen, support: supportOf(refined.code, refined.steps, refined.defaulted) });
      if (a.chosen.manif) {
        const manif = refine(a.chosen.manif, (w) => own.has(w), facts);
        if (manif)
          coded.push({
            a,
            code: manif.code,
            path: a.chosen,
            support: { ...supportOf(manif.code, manif.steps, manif.defaulted), path: [...a.chosen.steps, `manifestation [${a.chosen.manif}]`] },
          });
      }
      if (a.chosen !== a.standalone && a.standalone.code) {
        standaloneCode.set(m.id, refine(a.standalone.code, (w) => own.has(w), facts)?.code);
      }
    }

    // Combinations: the partner's own code stays only when the combination asks for it.
    const notes = new Map<string, Set<string>>();
    const note = (code: string, text: string) => notes.set(code, (notes.get(code) ?? new Set()).add(text));
    const coverage = new Map<string, boolean>();
    const covered = (combination: string, code: string | undefined) => {
      if (code === undefined) return false;
      const key = `${combination}|${code}`;
      let known = coverage.get(key);
      if (known === undefined) {
        known = codeSet.notesOf(combination, 'useAdditionalCode').some((n) => (n.note.refs ?? []).some((r) => codeSet.matches(code, r)));
        coverage.set(key, known);
      }
      return known;
    };
    // A partner's own codes: those of its mention that are not combinations themselves
    // ("diabetes with CKD" beside "hypertension with CKD" keeps its code).
    const ownCodes = new Map<number, string[]>();
    for (const o of coded) if (o.path.partners.size === 0 && !o.path.viaWith) ownCodes.set(o.a.mention.id, [...(ownCodes.get(o.a.mention.id) ?? []), o.code]);
    const codedCodes = new Set(coded.map((o) => o.code));
    const absorbed = new Set<number>();
    for (const c of [...coded]) {
      if (c.path.partners.size === 0) continue;
      for (const p of c.path.partners) {
        const partnerCodes = ownCodes.get(p) ?? [];
        if (partnerCodes.length > 0 && partnerCodes.every((pc) => !covered(c.code, pc))) {
          absorbed.add(p);
          for (const pc of partnerCodes) note(c.code, `${pc} is included in this combination code (Index "with", guideline I.A.15)`);
        }
      }
      // The mention's own code, when the combination asks for it too (I11.0: use additional code for the heart failure).
      const ownCode = standaloneCode.get(c.a.mention.id);
      if (ownCode && covered(c.code, ownCode) && !codedCodes.has(ownCode)) {
        codedCodes.add(ownCode);
        coded.push({
          a: c.a,
          code: ownCode,
          path: c.a.standalone,
          support: { ...c.support, path: [...c.a.standalone.steps], combination: false, score: c.a.standalone.score },
        });
      }
    }

    const byCode = new Map<string, IndexCandidate>();
    for (const c of coded) {
      if (absorbed.has(c.a.mention.id) && c.path.partners.size === 0 && !c.path.viaWith) continue;
      const entry = byCode.get(c.code) ?? { code: c.code, display: codeSet.get(c.code)!.title, supports: [], notes: [] };
      entry.supports.push(c.support);
      byCode.set(c.code, entry);
    }
    for (const [code, list] of notes) byCode.get(code)?.notes.push(...list);

    const indexPathOf = (s: MentionSupport) => s.path.filter((p) => !p.startsWith('Tabular:'));
    const prefix = (a: string[], b: string[]) => a.length < b.length && a.every((x, i) => x === b[i]);
    resolveCodes(byCode, knowledge.combinations, codeSet, {
      codeOf: (c) => c.code,
      make: (code) => ({ code, display: codeSet.get(code)!.title, supports: [], notes: [] }),
      merge: (into, from, text) => {
        into.supports = [...new Set([...into.supports, ...from.flatMap((p) => p.supports)])];
        into.notes = [...new Set([...into.notes, ...from.flatMap((p) => p.notes), text])];
      },
      // Its Index path continues the other's path from the same main term ("Fibrillation, atrial" → "…, paroxysmal").
      finer: (o, c) => o.supports.some((s) => c.supports.every((t) => prefix(indexPathOf(t), indexPathOf(s)))),
    });
    const suppressed = new Set<string>();
    for (const d of dropped) {
      if (!d.code || d.why === 'no billable code reached' || d.why === 'no subterm') continue;
      const code = refine(d.code, () => false, facts)?.code;
      if (code && !byCode.has(code)) suppressed.add(code);
    }
    return { candidates: [...byCode.values()], dropped, suppressed: [...suppressed], mentions: mentions.length };
  };
}

/** How many words after "without" it rules out, up to a comma, semicolon or full stop. */
const WITHOUT_SCOPE = 4;

/** Stream indices of the words a "without" (or "w/o") in the note rules out. */
function ruledOutByWithout(stream: readonly StreamWord[], text: string): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < stream.length; i++) {
    if (stream[i].norm !== 'without') continue;
    for (let j = i + 1; j < stream.length && j <= i + WITHOUT_SCOPE; j++) {
      if (/[,;.:]/.test(text.slice(stream[j - 1].end, stream[j].start))) break;
      out.add(j);
    }
  }
  return out;
}

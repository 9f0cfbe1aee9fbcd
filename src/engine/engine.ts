/**
 * The coding engine: notes → ranked, calibrated code suggestions with evidence.
 *
 * ENGINE=index|model|both (default both):
 * - `index`: codes found through the Alphabetic Index and verified in the Tabular List
 *   (assign/code-note.ts), each with its mention, sentence and Index path, ranked by the ranker;
 * - `model`: the ONNX classifier alone, as its own thresholds decide (suggest.ts);
 * - `both`: the Index's candidates and the classifier's labels above the ranker's floor, one
 *   candidate per code, the classifier's probability a feature of every candidate it knows.
 *
 * Every code suggested is billable in the loaded code set, and no catch-all code
 * (knowledge/catch-all-codes.tsv) is ever suggested.
 */
import type { MentionSupport, Setting } from '../assign/code-note';
import type { AssertionStatus } from '../evidence/assertion';
import { isChronicCode } from '../knowledge/knowledge';
import { DEFAULT_SUPPRESSED, DIAGNOSTIC_SECTIONS, overallStatus } from '../evidence/context';
import { passagesOf } from '../evidence/passages';
import { sectionsOf } from '../evidence/sections';
import type { Classification, Classifier } from '../model/types';
import type { Note } from '../note/note';
import { MAX_PASSAGES, modelEvidenceOf, suggestConditions, type Evidence, type Suggestion, type SuggestTimings } from '../suggest';
import { resolveCodes } from '../assign/resolve-codes';
import type { IndexEngine } from './index-engine';
import type { CandidateFacts, Ranker } from './ranker';
import type { CodeSet } from '../codeset/code-set';
import { covers } from '../rules/findings';
import { requiredPartnerNotes } from '../rules/paired-codes';

export type EngineMode = 'index' | 'model' | 'both';

export interface EngineOptions {
  /** Statuses whose evidence alone never suggests a code (SUPPRESS_ASSERTIONS). */
  suppress?: readonly AssertionStatus[];
  /** Inpatient (default) or outpatient: how uncertain diagnoses are coded. */
  setting?: Setting;
  timings?: SuggestTimings;
  /** Evaluation only, against corpora that code negated findings: such mentions give candidates too. The service never sets it. */
  keepSuppressed?: boolean;
}

export interface Engine {
  readonly mode: EngineMode;
  suggest(notes: readonly Note[], options?: EngineOptions): Promise<Suggestion[]>;
}

export interface EngineParts {
  mode: EngineMode;
  classifier: Classifier;
  /** Required unless mode is `model` (then used only to keep codes billable when present). */
  index?: IndexEngine;
  /** Required unless mode is `model`. */
  ranker?: Ranker;
}

/** A code found for the notes, before ranking. */
export interface Candidate {
  code: string;
  display: string;
  supports: { note: number; support: MentionSupport }[];
  notes: string[];
  modelProbability?: number;
  /** The note and label index where the classifier scored it highest. */
  modelBest?: { note: number; label: number };
}

const GUIDANCE: Readonly<Record<MentionSupport['rationale'], string | undefined>> = {
  present: undefined,
  'uncertain-as-established':
    'Documented as uncertain (probable, suspected, likely) at discharge: coded as if established, as the inpatient guidelines require (ICD-10-CM Official Guidelines II.H and III.C).',
  'chronic-history': 'A chronic condition written as history: coded as current, since it is still present (Guidelines Section III).',
  'personal-history': 'A resolved past condition: its personal-history code, not the condition code (Index: History, personal).',
  'family-history': "A relative's condition: the family-history code (Index: History, family).",
};

/** @param parts - the mode, the classifier, the Index engine and the ranker */
export function createEngine(parts: EngineParts): Engine {
  const { mode, classifier, index, ranker } = parts;
  if (mode !== 'model' && (!index || !ranker)) throw new Error(`ENGINE=${mode} needs the code set and the ranker`);
  const catchAll = new Set(index?.knowledge.catchAll ?? []);

  /** The code as this code set reports it: billable (an incomplete one completed by its unspecified subcode), or undefined. */
  const billable = (code: string): string | undefined => {
    if (!index) return code;
    if (index.codeSet.isBillable(code)) return index.codeSet.normalize(code);
    return index.refine(code, () => false, { encounter: 'initial' })?.code;
  };

  async function modelOnly(notes: readonly Note[], options: EngineOptions): Promise<Suggestion[]> {
    const suggestions = await suggestConditions(notes, classifier, { suppress: options.suppress, timings: options.timings });
    const out: Suggestion[] = [];
    for (const s of suggestions) {
      const code = billable(s.code);
      if (!code || catchAll.has(code) || out.some((o) => o.code === code)) continue;
      out.push(code === s.code ? s : { ...s, code, display: index!.codeSet.get(code)!.title });
    }
    return out;
  }

  return {
    mode,
    async suggest(notes, options = {}) {
      if (mode === 'model') return modelOnly(notes, options);
      const started = performance.now();
      let classifyMs = 0;
      const suppress = new Set(options.suppress ?? DEFAULT_SUPPRESSED);
      const setting = options.setting ?? 'inpatient';
      const classified: (Classification | undefined)[] = [];
      for (const note of notes) {
        if (mode !== 'both') {
          classified.push(undefined);
          continue;
        }
        const t = performance.now();
        const classification = await classifier.classify(note.text);
        classifyMs += performance.now() - t;
        if (options.timings) {
          options.timings.tokenize += classification.timings?.tokenizeMs ?? 0;
          options.timings.infer += classification.timings?.inferMs ?? 0;
        }
        classified.push(classification);
      }
      const candidates = candidatesOf({
        index: index!,
        labels: classifier.info.labels.map((l) => l.code),
        texts: notes.map((n) => n.text),
        probabilities: classified.map((c) => c?.probabilities),
        setting,
        modelFloor: ranker!.bundle.modelFloor,
        keepSuppressed: options.keepSuppressed,
      });

      const ranked = candidates.filter((c) => !catchAll.has(c.code)).map((c) => ({ c, confidence: ranker!.confidence(factsOf(c, index!)) }));
      const kept: { c: Candidate; confidence: number; partnerOf?: string }[] = ranked.filter((r) => r.confidence >= ranker!.bundle.threshold);
      kept.push(...documentedPartners(index!.codeSet, kept, ranked));

      const out: Suggestion[] = [];
      // Each note's passages and sections, read once for all its classifier-only codes.
      const layout: { passages: ReturnType<typeof passagesOf>; sections: ReturnType<typeof sectionsOf> }[] = [];
      for (const { c, confidence, partnerOf } of kept) {
        let evidence: Evidence[];
        if (c.supports.length > 0) evidence = indexEvidence(c, notes);
        else {
          const { note, label } = c.modelBest!;
          const n = notes[note];
          const classification = classified[note]!;
          layout[note] ??= { passages: passagesOf(n.text), sections: sectionsOf(n.text) };
          evidence = await modelEvidenceOf(classifier, { index: note, note: n, classification, ...layout[note] }, { index: label, display: c.display });
        }
        const status = overallStatus(
          c.code,
          evidence.flatMap((e) => (e.context ? [e.context.status] : [])),
        );
        // Index candidates carry only codable statuses already; the classifier's need the check.
        if (c.supports.length === 0 && status && suppress.has(status)) continue;
        // As the Index coder does: a past condition is coded only when it is chronic; otherwise
        // it is a personal history ("History of DVT" is Z86.718, which the Index path gives).
        if (c.supports.length === 0 && status === 'historical' && !options.keepSuppressed && !isChronicCode(index!.knowledge, c.code)) continue;
        const best = [...c.supports].sort((a, b) => rankSupport(b.support) - rankSupport(a.support))[0];
        // A mention stating the condition outright makes the other mentions' reasons moot
        // ("1. Pneumonia." beside "consistent with pneumonia": not coded as if established).
        const established = c.supports.some((s) => s.support.rationale === 'present');
        const reasons = c.supports.map((s) => s.support.rationale).filter((r) => !established || (r !== 'uncertain-as-established' && r !== 'chronic-history'));
        const guidance = [...new Set([...reasons.map((r) => GUIDANCE[r]).filter((g): g is string => !!g), ...c.notes])];
        if (c.supports.length > 0 && c.supports.every((s) => s.support.defaulted))
          guidance.push('Nothing more specific is documented: the unspecified code is suggested (Guidelines I.A.9).');
        if (partnerOf)
          guidance.push(
            `Suggested below the threshold because the note documents it and ${partnerOf} requires it: "use additional code" or "code first" in the Tabular List (Guidelines I.A.13).`,
          );
        out.push({
          code: c.code,
          display: c.display,
          score: confidence,
          threshold: ranker!.bundle.threshold,
          evidence,
          notes: [...new Set([...c.supports.map((s) => s.note), ...(c.modelBest && c.supports.length === 0 ? [c.modelBest.note] : [])])].sort((a, b) => a - b),
          ...(status ? { status } : {}),
          source: c.supports.length > 0 ? (c.modelProbability !== undefined && c.modelProbability >= ranker!.bundle.modelFloor ? 'both' : 'index') : 'model',
          ...(best ? { indexPath: [...best.support.path, c.code] } : {}),
          ...(guidance.length > 0 ? { guidance } : {}),
        });
      }
      // Across sources: the classifier's I10 beside the Index's I12.9 is the combination; E11.9 beside E11.22 less specific.
      const byCode = new Map(out.map((o) => [o.code, o]));
      resolveCodes(byCode, index!.knowledge.combinations, index!.codeSet, {
        codeOf: (o) => o.code,
        make: (code, parts) => ({ ...parts[0], code, display: index!.codeSet.get(code)!.title, indexPath: undefined, guidance: [] }),
        merge: (into, from, note) => {
          into.score = Math.max(into.score, ...from.map((f) => f.score));
          into.evidence = [...into.evidence, ...from.flatMap((f) => f.evidence)].slice(0, MAX_PASSAGES);
          into.guidance = [...new Set([...(into.guidance ?? []), note])];
        },
      });
      out.splice(0, out.length, ...byCode.values());
      const diagnostic = (s: Suggestion) =>
        s.evidence.some((e) => e.context?.status === 'present' && DIAGNOSTIC_SECTIONS.has(e.context.section?.kind ?? 'other'));
      out.sort((a, b) => Number(diagnostic(b)) - Number(diagnostic(a)) || b.score - a.score || a.code.localeCompare(b.code));
      if (options.timings) options.timings.evidence += performance.now() - started - classifyMs;
      return out;
    },
  };
}

/**
 * Candidates below the threshold that a kept code's Tabular note requires as its partner
 * ("use additional code to identify type of heart failure (I50.-)" at I11.0), found through the
 * Index: the note documents the partner, so the coder must report it whatever its rank. The
 * best-ranked candidate per required note; each is marked with the code that asks for it.
 */
export function documentedPartners<R extends { c: Candidate; confidence: number }>(
  codeSet: CodeSet,
  kept: readonly R[],
  ranked: readonly R[],
): (R & { partnerOf: string })[] {
  const keptCodes = new Set(kept.map((k) => k.c.code));
  const below = ranked.filter((r) => !keptCodes.has(r.c.code) && r.c.supports.length > 0).sort((a, b) => b.confidence - a.confidence);
  const added: (R & { partnerOf: string })[] = [];
  for (const { c } of kept) {
    for (const kind of ['useAdditionalCode', 'codeAlso', 'codeFirst'] as const) {
      for (const note of requiredPartnerNotes(codeSet, c.code, kind)) {
        if ([...keptCodes].some((code) => code !== c.code && covers(codeSet, note.refs, code))) continue;
        const partner = below.find((b) => !keptCodes.has(b.c.code) && covers(codeSet, note.refs, b.c.code));
        if (!partner) continue;
        keptCodes.add(partner.c.code);
        added.push({ ...partner, partnerOf: c.code });
      }
    }
  }
  return added;
}

/** Diagnoses sections first, then present status, then specificity. */
function rankSupport(s: MentionSupport): number {
  return (DIAGNOSTIC_SECTIONS.has(s.section?.kind ?? 'other') ? 100 : 0) + (s.status === 'present' ? 10 : 0) + s.score;
}

/** What the ranker reads of a candidate. */
export function factsOf(c: Pick<Candidate, 'code' | 'supports' | 'modelProbability'>, index: IndexEngine): CandidateFacts {
  const supports = c.supports.map((s) => s.support);
  // History codes (personal, family: guideline I.C.21.c.4) are decided by the rule; CodiEsp,
  // which trains the ranker, almost never codes them, so it has nothing to say of them. They
  // are weighed as the plain mention of a condition: present, one subterm deep, no section.
  const history = supports.length > 0 && supports.every((s) => s.rationale === 'personal-history' || s.rationale === 'family-history');
  return {
    code: c.code,
    index: supports.length > 0,
    ...(c.modelProbability !== undefined ? { modelProbability: c.modelProbability } : {}),
    mentions: supports.length,
    pathScore: history ? 1 : Math.max(0, ...supports.map((s) => s.score)),
    defaulted: supports.length > 0 && supports.every((s) => s.defaulted),
    unspecified: /\bunspecified\b/i.test(index.codeSet.get(c.code)?.title ?? ''),
    rationales: history ? ['present'] : [...new Set(supports.map((s) => s.rationale))],
    sections: history ? [undefined] : supports.map((s) => s.section?.kind),
    table: supports.some((s) => s.table !== undefined),
    combination: supports.some((s) => s.combination),
  };
}

/** The sentences of an Index candidate's mentions, best first: each quotes its sentence with the mention's status. */
function indexEvidence(c: Candidate, notes: readonly Note[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const { note, support } of [...c.supports].sort((a, b) => rankSupport(b.support) - rankSupport(a.support))) {
    const key = `${note}:${support.clause.start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const text = notes[note].text;
    out.push({
      note,
      start: support.clause.start,
      end: support.clause.end,
      text: text.slice(support.clause.start, support.clause.end),
      support: Number(Math.min(1, support.score / 4 + 0.25).toFixed(4)),
      context: {
        status: support.status,
        mention: support.mention,
        ...(support.trigger ? { trigger: support.trigger } : {}),
        ...(support.bySection ? { bySection: support.bySection } : {}),
        ...(support.section ? { section: support.section } : {}),
      },
    });
    if (out.length >= MAX_PASSAGES) break;
  }
  return out;
}

/**
 * The candidates of a call: the Index's codes of every note, and the classifier's labels at or
 * above the floor, one per code; the classifier's probability (its highest over the notes) on
 * every candidate it knows. Shared by the engine and by the ranker's training.
 * @param input - the Index engine, the classifier's label codes, the notes' texts, their
 *   probabilities (undefined: no classifier), the setting and the floor
 */
export function candidatesOf(input: {
  index: IndexEngine;
  labels: readonly string[];
  texts: readonly string[];
  probabilities: readonly (ArrayLike<number> | undefined)[];
  setting: Setting;
  modelFloor: number;
  /** Evaluation only: negated and hypothetical mentions give candidates too. */
  keepSuppressed?: boolean;
}): Candidate[] {
  const { index, labels } = input;
  const billable = (code: string) =>
    index.codeSet.isBillable(code) ? index.codeSet.normalize(code) : index.refine(code, () => false, { encounter: 'initial' })?.code;
  const labelCodes = labels.map(billable);
  const candidates = new Map<string, Candidate>();
  // Categories the notes name only as absent, hypothetical or a relative's: the classifier's
  // reading of them ("she denied fever" scoring fever) never becomes a suggestion.
  const suppressed = new Set<string>();
  input.texts.forEach((text, n) => {
    const coding = index.codeNote(text, input.setting, { keepSuppressed: input.keepSuppressed });
    for (const code of coding.suppressed) suppressed.add(code.slice(0, 3));
    for (const c of coding.candidates) {
      const entry = candidates.get(c.code) ?? { code: c.code, display: c.display, supports: [], notes: [] };
      entry.supports.push(...c.supports.map((support) => ({ note: n, support })));
      entry.notes.push(...c.notes.filter((t) => !entry.notes.includes(t)));
      candidates.set(c.code, entry);
    }
  });
  input.probabilities.forEach((probabilities, n) => {
    if (!probabilities) return;
    for (let label = 0; label < labels.length; label++) {
      const code = labelCodes[label];
      const p = probabilities[label];
      if (!code) continue;
      const known = candidates.get(code);
      if (!known && (p < input.modelFloor || suppressed.has(code.slice(0, 3)))) continue;
      const entry = known ?? { code, display: index.codeSet.get(code)!.title, supports: [], notes: [] };
      if (entry.modelProbability === undefined || p > entry.modelProbability) {
        entry.modelProbability = p;
        entry.modelBest = { note: n, label };
      }
      candidates.set(code, entry);
    }
  });
  return [...candidates.values()];
}

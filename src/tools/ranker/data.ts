/**
 * The ranker's data: CodiEsp documents with their gold codes renamed to billable codes of the
 * loaded code set, and each document's candidates (engine/engine.ts candidatesOf) with their
 * features and whether they are gold.
 *
 * Gold renaming: CodiEsp's codes are CIE-10-ES 2018. A code that is not billable in the loaded
 * year is completed to its unspecified subcode (the 7th character A for an injury), as the
 * service would report it; a code the year lacks altogether is dropped and counted.
 */
import type { Setting } from '../../assign/code-note';
import { candidatesOf, factsOf, type Candidate } from '../../engine/engine';
import type { IndexEngine } from '../../engine/index-engine';
import { featuresOf, FEATURES, type CandidateFacts, type FeatureName, type RankerBundle } from '../../engine/ranker';
import type { Doc } from '../train/dataset';

export interface GoldDoc extends Doc {
  /** Gold codes as billable codes of the code set. */
  gold: string[];
}

/**
 * @param docs - documents with CodiEsp codes
 * @param index - the Index engine (its code set renames)
 * @returns the documents, and how many gold codes could not be renamed
 */
export function goldDocsOf(docs: readonly Doc[], index: IndexEngine): { docs: GoldDoc[]; dropped: number; renamed: number } {
  let dropped = 0;
  let renamed = 0;
  const out = docs.map((d) => {
    const gold = new Set<string>();
    for (const code of d.codes) {
      const billable = index.codeSet.isBillable(code) ? index.codeSet.normalize(code) : index.refine(code, () => false, { encounter: 'initial' })?.code;
      if (!billable) dropped++;
      else {
        if (billable !== code) renamed++;
        gold.add(billable);
      }
    }
    return { ...d, gold: [...gold] };
  });
  return { docs: out, dropped, renamed };
}

export interface Scored {
  doc: number;
  candidate: Candidate;
  facts: CandidateFacts;
  y: 0 | 1;
}

/**
 * The candidates of each document, with what the ranker reads of them.
 * @param docs - gold documents
 * @param input - the Index engine, the classifier's labels and each document's probabilities
 */
export function candidateRows(
  docs: readonly GoldDoc[],
  input: {
    index: IndexEngine;
    labels: readonly string[];
    probabilities: readonly (ArrayLike<number> | undefined)[];
    setting: Setting;
    modelFloor: number;
    keepSuppressed?: boolean;
  },
): Scored[] {
  const rows: Scored[] = [];
  docs.forEach((d, i) => {
    const gold = new Set(d.gold);
    const candidates = candidatesOf({
      index: input.index,
      labels: input.labels,
      texts: [d.text],
      probabilities: [input.probabilities[i]],
      setting: input.setting,
      modelFloor: input.modelFloor,
      keepSuppressed: input.keepSuppressed,
    });
    for (const candidate of candidates) {
      if (input.index.knowledge.catchAll.includes(candidate.code)) continue;
      rows.push({ doc: i, candidate, facts: factsOf(candidate, input.index), y: gold.has(candidate.code) ? 1 : 0 });
    }
  });
  return rows;
}

/** Log prior of each 3-character category: the share of documents whose gold holds it (add-one smoothed). */
export function priorsOf(docs: readonly GoldDoc[]): Pick<RankerBundle, 'priors' | 'defaultPrior'> {
  const counts = new Map<string, number>();
  for (const d of docs) for (const cat of new Set(d.gold.map((c) => c.slice(0, 3)))) counts.set(cat, (counts.get(cat) ?? 0) + 1);
  const n = docs.length + 2;
  const priors: Record<string, number> = {};
  for (const [cat, count] of [...counts].sort()) priors[cat] = Number(Math.log((count + 1) / n).toFixed(4));
  return { priors, defaultPrior: Number(Math.log(1 / n).toFixed(4)) };
}

/** A row's feature vector, in the order of `features` (default: every feature). */
export function vectorOf(facts: CandidateFacts, priors: Pick<RankerBundle, 'priors' | 'defaultPrior'>, features: readonly FeatureName[] = FEATURES): number[] {
  const f = featuresOf(facts, priors);
  return features.map((name) => f[name]);
}

/**
 * Evidence by occlusion, for models without per-token output (e.g. an imported Hugging Face
 * classifier): a passage supports a code by how much the code's logit drops when the
 * passage's tokens are deleted and the windows holding them are scored again (passageDrops
 * says which logit and why).
 *
 * Cost: one re-scoring per occluded passage gives the drops of every label at once, so it is
 * done once per note (then selected per code), and each re-scoring runs only the one or two
 * windows (two when the passage is in an overlap) that hold the passage, batched. With max
 * pooling only passages in windows that reach a predicted code's threshold on their own are
 * occluded. At most MAX_OCCLUSIONS re-scorings per note, so at most about
 * 2 × MAX_OCCLUSIONS window runs on top of classifying the note (estimates, two CPU cores:
 * milliseconds with the tiny model; 10–20 s with a BERT-base model at 512 tokens, ~0.3 s a
 * window; minutes with a 350M-parameter model at ~9 s a window, which should export
 * token_scores instead, as the trained label-attention model does).
 */
import { sigmoid } from '../model/postprocess';
import type { Classification, Classifier } from '../model/types';
import type { TokenWindow } from '../model/windows';
import { passageAt, type Span } from './passages';
import { strongestPassages, type ScoredSpan } from './token-evidence';

/**
 * Most re-scorings per note. A discharge summary has 100–300 passages, most of them in
 * windows that find some code, and the CDS hook waits for the evidence: the bound keeps it to
 * a few dozen window runs whatever the note's length. Over it, groups of consecutive passages
 * are occluded first and only the strongest groups are refined passage by passage (see
 * passageDrops).
 */
export const MAX_OCCLUSIONS = 32;

/** Smaller logit drops are float noise from re-running a window, not support. */
const MIN_DROP = 1e-3;

/** By passage index: how much deleting the passage lowers each label's logit (passageDrops). */
export type PassageDrops = ReadonlyMap<number, Float32Array>;

const dropsByNote = new WeakMap<Classification, Promise<PassageDrops>>();

/**
 * Up to `max` passages supporting label `labelIndex` by occlusion, strongest first, in the
 * same shape and by the same policy as token evidence (supportingPassages). The drops are
 * computed on the first call for a classification and reused for its other labels.
 * @param classifier - the model that produced `classification`
 * @param text - the note text
 * @param classification - classifier.classify(text)
 * @param labelIndex - the label's index in the bundle
 * @param passages - passagesOf(text)
 * @param max - at most this many passages
 */
export async function occludedPassages(
  classifier: Classifier,
  text: string,
  classification: Classification,
  labelIndex: number,
  passages: readonly Span[],
  max: number,
): Promise<ScoredSpan[]> {
  let drops = dropsByNote.get(classification);
  if (!drops) {
    drops = passageDrops(classifier, text, classification, passages);
    dropsByNote.set(classification, drops);
  }
  return passagesByDrop(await drops, labelIndex, passages, max);
}

/**
 * The passages whose deletion lowers label `labelIndex` the most (support = the logit drop).
 * @param drops - from passageDrops
 * @param labelIndex - the label's index in the bundle
 * @param passages - passagesOf(text)
 * @param max - at most this many passages
 */
export function passagesByDrop(drops: PassageDrops, labelIndex: number, passages: readonly Span[], max: number): ScoredSpan[] {
  const support = new Map<number, number>();
  for (const [p, drop] of drops) if (drop[labelIndex] > MIN_DROP) support.set(p, drop[labelIndex]);
  return strongestPassages(support, passages, max);
}

/**
 * How much deleting each passage lowers each predicted code's logit, for the passages that
 * can lower one (other labels get 0).
 *
 * The measure is the logit, not the probability: the sigmoid saturates, so a code at 0.9999
 * mentioned twice would show almost no probability drop for either mention, while their logit
 * drops stay comparable; and for a model whose logit is a sum of token contributions (the tiny
 * keyword model) a passage's logit drop is exactly the sum of its token_scores, so both
 * evidence methods quote on one scale. (The faithfulness report shows probabilities, which a
 * reader compares with thresholds.)
 *
 * With mean pooling the drop is that of the pooled logit. With max pooling it is the largest
 * drop of the logit of a window that holds the passage and reaches the code's threshold on its
 * own: the pooled logit of a code found in two windows does not move when either mention is
 * deleted (the other window still decides), so pooled drops would leave the commonest case, a
 * diagnosis named in the history and again in the discharge diagnoses, without evidence. Per
 * window this is also what token_scores report (each token's score in its best window).
 * @param classifier - the model that produced `classification`
 * @param text - the note text
 * @param classification - classifier.classify(text)
 * @param passages - passagesOf(text)
 * @param budget - most re-scorings (MAX_OCCLUSIONS)
 */
export async function passageDrops(
  classifier: Classifier,
  text: string,
  classification: Classification,
  passages: readonly Span[],
  budget = MAX_OCCLUSIONS,
): Promise<PassageDrops> {
  const predictions = classifier.predictionsOf(classification);
  if (predictions.length === 0) return new Map();
  const { windows, windowLogits, logits } = classification;
  const L = logits.length;
  const maxPooling = classifier.info.pooling === 'max';
  // finds[w][l]: window w counts for label l (see above).
  const finds = windows.map((_, w) => {
    const found = new Uint8Array(L);
    for (const { index: l, threshold } of predictions) found[l] = Number(!maxPooling || Math.fround(sigmoid(windowLogits[w * L + l])) >= threshold);
    return found;
  });
  const tokens = tokenRangesOf(classification, passages);
  const overlaps = (p: number, w: number) => tokens.get(p)!.start < windows[w].end && tokens.get(p)!.end > windows[w].start;
  const candidates = [...tokens.keys()].filter((p) => windows.some((_, w) => finds[w].includes(1) && overlaps(p, w)));

  /** Drops per label, one array per set of passages deleted together. */
  const dropsWithout = async (sets: readonly number[][]): Promise<Float32Array[]> => {
    const after = await classifier.windowLogitsWithout(
      text,
      classification,
      sets.map((set) => set.map((p) => tokens.get(p)!)),
    );
    return after.map((afterLogits) => {
      const drops = new Float32Array(L);
      windows.forEach((_, w) => {
        for (let l = 0; l < L; l++) {
          if (!finds[w][l]) continue;
          const drop = windowLogits[w * L + l] - afterLogits[w * L + l];
          drops[l] = maxPooling ? Math.max(drops[l], drop) : drops[l] + drop / windows.length;
        }
      });
      return drops;
    });
  };
  const eachPassage = async (ps: readonly number[]) => {
    const drops = await dropsWithout(ps.map((p) => [p]));
    return new Map(ps.map((p, i) => [p, drops[i]]));
  };
  if (candidates.length <= budget) return eachPassage(candidates);

  // Too many to occlude one by one: occlude half the budget's worth of groups of consecutive
  // passages, then spend the rest on the passages of the groups that lower some code the
  // most, taking each code's best group in turn so that every code can get evidence.
  const groups = chunks(candidates, Math.max(1, Math.floor(budget / 2)));
  const groupDrops = await dropsWithout(groups);
  const byLabel = predictions.map(({ index: l }) =>
    groups
      .map((_, g) => g)
      .filter((g) => groupDrops[g][l] > MIN_DROP)
      .sort((a, b) => groupDrops[b][l] - groupDrops[a][l]),
  );
  const refined: number[] = [];
  let left = budget - groups.length;
  const taken = new Set<number>();
  for (let rank = 0; byLabel.some((gs) => rank < gs.length); rank++) {
    for (const g of byLabel.map((gs) => gs[rank])) {
      if (g === undefined || taken.has(g) || groups[g].length > left) continue;
      taken.add(g);
      refined.push(...groups[g]);
      left -= groups[g].length;
    }
  }
  return eachPassage(refined.sort((a, b) => a - b));
}

/** Note-token range of each passage that holds tokens, in note order. */
function tokenRangesOf(classification: Classification, passages: readonly Span[]): Map<number, TokenWindow> {
  const ranges = new Map<number, TokenWindow>();
  for (let t = 0; t < classification.tokenCount; t++) {
    const p = passageAt(passages, classification.tokenOffsets[2 * t]);
    if (p < 0) continue;
    const range = ranges.get(p);
    if (range) range.end = t + 1;
    else ranges.set(p, { start: t, end: t + 1 });
  }
  return ranges;
}

/** `items` cut into `count` runs of consecutive items, of sizes differing by at most one. */
function chunks<T>(items: readonly T[], count: number): T[][] {
  return Array.from({ length: count }, (_, i) => items.slice(Math.floor((i * items.length) / count), Math.floor(((i + 1) * items.length) / count)));
}

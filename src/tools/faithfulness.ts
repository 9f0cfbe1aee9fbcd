/**
 * `npm run faithfulness -- --data <file.jsonl | CodiEsp dir> [--model <bundle dir>] [--limit N]`:
 * whether the passages a suggestion quotes are what the model's score rests on. Prints JSON.
 *
 * For each suggestion with evidence, the quoted passages are blanked (spaces, so nothing else
 * moves) and the note is classified again: the drop of the code's probability is the
 * "comprehensiveness" of ERASER (DeYoung et al. 2020, https://aclanthology.org/2020.acl-main.408/).
 * As a control, the same number of other passages of the note, drawn at random (seeded), are
 * blanked instead: cited passages should matter much more than arbitrary ones. Suggestions
 * come from suggestConditions, exactly as the service makes them (default options), and the
 * figures are split by evidence method (token scores or occlusion). Occlusion chooses passages
 * by deleting them one at a time, so its figures measure mostly what several passages do
 * together and the window shifts of re-tokenized text; token-score evidence is tested afresh.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../paths';
import { passagesOf, type Span } from '../evidence/passages';
import { createClassifier } from '../model/classifier';
import type { Classifier } from '../model/types';
import { suggestConditions } from '../suggest';
import { seededRandom } from './random';
import { readEvaluationData } from './evaluate';
import { runCommand, UsageError } from '../cli/command';

export type EvidenceMethod = 'token-scores' | 'occlusion';

/** Effect of blanking passages on the suggestions' probabilities. */
export interface RemovalFigures {
  /** Suggestions measured. */
  suggestions: number;
  /** Probability before minus after, mean and median over the suggestions (null when none). */
  meanDrop: number | null;
  medianDrop: number | null;
  /** Share of the suggestions whose probability falls below their threshold. */
  belowThreshold: number | null;
}

export interface FaithfulnessFigures {
  /** Suggestions made. */
  suggestions: number;
  withoutEvidence: number;
  /** Blanking the quoted passages. */
  cited: RemovalFigures;
  /** Blanking as many other passages, drawn at random (notes with no other passage are left out). */
  control: RemovalFigures;
}

export interface Faithfulness extends FaithfulnessFigures {
  /** The same figures per evidence method that occurred. */
  byMethod: Partial<Record<EvidenceMethod, FaithfulnessFigures>>;
}

export interface FaithfulnessReport extends Faithfulness {
  model: { name: string; version: string; dir: string };
  data: { file: string; documents: number };
  seed: number;
  seconds: number;
}

/** One suggestion's probabilities before and after blanking. */
interface Removal {
  before: number;
  after: number;
  threshold: number;
}

interface Measured {
  method: EvidenceMethod;
  cited?: Removal;
  control?: Removal;
}

/**
 * Faithfulness figures of a model's evidence on notes.
 * @param classifier - the loaded model
 * @param texts - note texts, one document each
 * @param seed - seed of the control passages' draw
 */
export async function measureFaithfulness(classifier: Classifier, texts: readonly string[], seed = 1): Promise<Faithfulness> {
  const random = seededRandom(seed);
  // classify() gives token scores exactly when the model has them, and suggestConditions
  // falls back to occlusion exactly when they are absent.
  const method: EvidenceMethod = classifier.info.hasTokenScores ? 'token-scores' : 'occlusion';
  const measured: Measured[] = [];
  for (const text of texts) {
    const note = { text, source: { display: 'evaluation document', contentIndex: 0, contentType: 'text/plain' } };
    const passages = passagesOf(text);
    for (const suggestion of await suggestConditions([note], classifier)) {
      if (suggestion.evidence.length === 0) {
        measured.push({ method });
        continue;
      }
      const label = classifier.info.labels.findIndex((l) => l.code === suggestion.code);
      const probabilityWithout = async (spans: readonly Span[]) => (await classifier.classify(blanked(text, spans))).probabilities[label];
      const removal = async (spans: readonly Span[]): Promise<Removal> => ({
        before: suggestion.score,
        after: await probabilityWithout(spans),
        threshold: suggestion.threshold,
      });
      const cited = suggestion.evidence.map((e) => ({ start: e.start, end: e.end }));
      const others = passages.filter((p) => !cited.some((c) => c.start < p.end && c.end > p.start));
      const control = sample(others, cited.length, random);
      measured.push({ method, cited: await removal(cited), control: control.length > 0 ? await removal(control) : undefined });
    }
  }
  const byMethod: Faithfulness['byMethod'] = {};
  for (const m of new Set(measured.map((r) => r.method))) byMethod[m] = figuresOf(measured.filter((r) => r.method === m));
  return { ...figuresOf(measured), byMethod };
}

/** `text` with the spans replaced by spaces (same length: every other offset stays put). */
function blanked(text: string, spans: readonly Span[]): string {
  return spans.reduce((t, { start, end }) => t.slice(0, start) + ' '.repeat(end - start) + t.slice(end), text);
}

/** Up to `k` items drawn without replacement, in their original order. */
function sample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const picked = items.map((_, i) => i);
  for (let i = 0; i < Math.min(k, picked.length); i++) {
    const j = i + Math.floor(random() * (picked.length - i));
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  return picked
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

function figuresOf(measured: readonly Measured[]): FaithfulnessFigures {
  return {
    suggestions: measured.length,
    withoutEvidence: measured.filter((r) => !r.cited).length,
    cited: removalFigures(measured.flatMap((r) => (r.cited ? [r.cited] : []))),
    control: removalFigures(measured.flatMap((r) => (r.control ? [r.control] : []))),
  };
}

function removalFigures(removals: readonly Removal[]): RemovalFigures {
  const drops = removals.map((r) => r.before - r.after).sort((a, b) => a - b);
  const n = drops.length;
  const round = (x: number) => Number(x.toFixed(4));
  if (n === 0) return { suggestions: 0, meanDrop: null, medianDrop: null, belowThreshold: null };
  return {
    suggestions: n,
    meanDrop: round(drops.reduce((a, b) => a + b, 0) / n),
    medianDrop: round(n % 2 === 1 ? drops[(n - 1) / 2] : (drops[n / 2 - 1] + drops[n / 2]) / 2),
    belowThreshold: round(removals.filter((r) => r.after < r.threshold).length / n),
  };
}

/**
 * @param dataFile - a .jsonl(.gz) file of `{id, text, codes}` or a CodiEsp directory (dev split)
 * @param modelDir - the bundle
 * @param limit - at most this many documents (the first ones)
 * @param seed - seed of the control passages' draw
 */
export async function faithfulnessReport(dataFile: string, modelDir: string, limit?: number, seed = 1): Promise<FaithfulnessReport> {
  const started = performance.now();
  const classifier = await createClassifier(modelDir, { intraOpThreads: 0 });
  try {
    const docs = readEvaluationData(dataFile).slice(0, limit);
    const figures = await measureFaithfulness(
      classifier,
      docs.map((d) => d.text),
      seed,
    );
    return {
      model: { name: classifier.info.name, version: classifier.info.version, dir: modelDir },
      data: { file: dataFile, documents: docs.length },
      seed,
      ...figures,
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
  } finally {
    await classifier.dispose();
  }
}

runCommand(module, 'faithfulness', () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      limit: { type: 'string' },
      seed: { type: 'string', default: '1' },
    },
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const seed = Number(values.seed);
  if (!values.data || (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) || !Number.isInteger(seed)) {
    throw new UsageError('usage: npm run faithfulness -- --data <file.jsonl | CodiEsp dir> [--model <bundle dir>] [--limit N] [--seed N]');
  }
  return faithfulnessReport(values.data, values.model!, limit, seed);
});

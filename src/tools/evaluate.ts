/**
 * `npm run evaluate:model -- --data <file.jsonl> [--model <bundle dir>]`: figures of a bundle on
 * labelled documents, through the exact serving path (tokenizer, windows, onnxruntime,
 * pooling, the bundle's thresholds). Prints JSON.
 *
 * Input: one `{"id", "text", "codes": [...]}` per line (.jsonl or .jsonl.gz), or a CodiEsp
 * directory, whose dev split is the held-out test set of the training protocol (so
 * `--data <CodiEsp dir>` reproduces a model card's `metrics.test`). Codes are normalised as in
 * training (dataset.ts); codes outside the bundle's labels are not scored.
 * `--with-assertions` scores what the service suggests instead: the model's predictions minus
 * the codes whose evidence is only negated, a relative's or hypothetical.
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../paths';
import { createClassifier } from '../model/classifier';
import type { AssertionStatus } from '../evidence/assertion';
import { DEFAULT_SUPPRESSED } from '../evidence/context';
import type { Classifier } from '../model/types';
import { suggestConditions } from '../suggest';
import { readCodiesp, readJsonl, type Doc } from './train/dataset';
import { computeMetrics, roundMetrics, type Metrics, type Scored } from './train/metrics';
import { scoreDocuments, thresholdsOf } from './train/scoring';
import { runCommand, UsageError } from '../cli/command';

export interface Evaluation {
  model: { name: string; version: string; dir: string };
  data: { file: string; documents: number; suppressed?: readonly AssertionStatus[] };
  thresholds: { global: number; perCode?: Record<string, number> };
  metrics: Metrics;
  seconds: number;
}

/** Labelled documents of a .jsonl file, or the held-out (dev) split of a CodiEsp directory. */
export function readEvaluationData(source: string): Doc[] {
  return statSync(source).isDirectory() ? readCodiesp(source).dev : readJsonl(source);
}

/**
 * The codes the service would leave out after reading the evidence in context: a code over its
 * threshold that suggestConditions does not return (its evidence is only negated, a
 * relative's or hypothetical) gets probability 0, so every figure counts it as not predicted.
 */
async function withAssertions(classifier: Classifier, docs: readonly Doc[], scored: Scored[], suppress: readonly AssertionStatus[]) {
  const codes = classifier.info.labels.map((l) => l.code);
  const thresholdOf = thresholdsOf(classifier);
  for (const [k, doc] of docs.entries()) {
    const note = { text: doc.text, source: { display: doc.id, contentIndex: 0, contentType: 'text/plain' } };
    const suggested = new Set((await suggestConditions([note], classifier, { suppress })).map((s) => s.code));
    const probabilities = Float32Array.from(scored[k].probabilities);
    probabilities.forEach((p, l) => {
      if (p >= thresholdOf(l) && !suggested.has(codes[l])) probabilities[l] = 0;
    });
    scored[k] = { ...scored[k], probabilities };
  }
}

/**
 * @param dataFile - labelled documents: a .jsonl(.gz) file or a CodiEsp directory
 * @param modelDir - the bundle to evaluate
 * @param options - `suppress`: score what the service suggests after assertion suppression
 *   (default: the model's own predictions, which is what a model card reports)
 */
export async function evaluate(dataFile: string, modelDir: string, options: { suppress?: readonly AssertionStatus[] } = {}): Promise<Evaluation> {
  const started = performance.now();
  const classifier = await createClassifier(modelDir, { intraOpThreads: 0 });
  try {
    const docs = readEvaluationData(dataFile);
    const scored = await scoreDocuments(classifier, docs);
    if (options.suppress) await withAssertions(classifier, docs, scored, options.suppress);
    const codes = classifier.info.labels.map((l) => l.code);
    return {
      model: { name: classifier.info.name, version: classifier.info.version, dir: modelDir },
      data: { file: dataFile, documents: docs.length, ...(options.suppress ? { suppressed: options.suppress } : {}) },
      thresholds: classifier.info.thresholds,
      metrics: roundMetrics(computeMetrics(scored, codes, thresholdsOf(classifier))),
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
  } finally {
    await classifier.dispose();
  }
}

runCommand(module, 'evaluation', () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      'with-assertions': { type: 'boolean', default: false },
    },
  });
  if (!values.data) throw new UsageError('usage: npm run evaluate:model -- --data <file.jsonl | CodiEsp dir> [--model <bundle dir>] [--with-assertions]');
  return evaluate(values.data, values.model!, values['with-assertions'] ? { suppress: DEFAULT_SUPPRESSED } : {});
});

/**
 * `npm run baseline -- --data <CodiEsp dir> [--work .train-baseline] [--seed 13] [--folds 5] [--limit N]`:
 * the TF-IDF + logistic-regression baseline the default model must beat.
 *
 * Everything but the classifier is shared with train.ts, so the comparison is like for like:
 * the same labels, training documents and cross-validation folds (codiespSplits, same seed and
 * fold count), the same held-out test set (CodiEsp dev), the same threshold tuning on
 * out-of-fold probabilities (tuneThresholds, same options) and the same figures
 * (computeMetrics).
 *
 * baseline.py (scikit-learn, run by /usr/bin/python3) selects its hyper-parameters by
 * out-of-fold micro-F1 (for each fold, a model fitted on the other folds scores it), writes
 * the chosen setting's out-of-fold probabilities, then refits it on all training documents
 * and writes its test probabilities; it does not see thresholds or report figures.
 * Prints JSON shaped like `npm run evaluate:model`'s output: `metrics` on test (with thresholds
 * tuned out of fold), `crossValidationMetrics` out of fold (optimistic: the thresholds and
 * hyper-parameters were chosen on them), and writes the same to `<work>/result.json`.
 * Progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../paths';
import { codiespSplits, toJsonl, type Doc } from './dataset';
import { computeMetrics, roundMetrics, type Metrics, type Scored } from './metrics';
import { tuneThresholds, type ThresholdOptions, type Thresholds } from './thresholds';
import { runCommand, UsageError } from '../../cli/command';

/** The threshold options of train.ts: the baseline is tuned exactly like the default model. */
export const BASELINE_THRESHOLD_OPTIONS: ThresholdOptions = { minSupport: 5, maxShift: 0.2 };

/** Exit status of baseline.py when numpy or scikit-learn cannot be imported. */
const MISSING_DEPENDENCY = 3;

export interface BaselineOptions {
  /** The CodiEsp directory (or a file of its format). */
  data: string;
  /** Work directory; emptied first. */
  work: string;
  seed: number;
  labels: number;
  /** Cross-validation folds of the training documents (train.ts's default: 5). */
  folds: number;
  /** Use at most this many documents of each CodiEsp split (quick runs). */
  limit?: number;
  /** Python with scikit-learn. */
  python: string;
  log: (line: string) => void;
}

/** What baseline.py reports in baseline.json. */
export interface BaselineTraining {
  hyperParameters: Record<string, unknown>;
  /** Out-of-fold micro-F1 of the chosen setting at its best global threshold; non-empty folds; every grid point. */
  selection: { outOfFoldMicroF1: number; threshold: number; folds: number; grid: unknown[] };
  /** Vocabulary of the final model (fitted on all training documents). */
  vocabularySize: number;
  versions: { sklearn: string; numpy: string; python: string };
  processes: number;
  crossValidationSeconds: number;
  seconds: number;
}

/**
 * The baseline's figures, shaped like `npm run evaluate:model`'s output: `metrics` on test,
 * `crossValidationMetrics` on the out-of-fold probabilities of the training documents.
 */
export interface BaselineEvaluation {
  model: { name: 'tfidf-logreg-baseline'; version: string; dir: string; training: BaselineTraining };
  data: { file: string; documents: number; source: string; seed: number; splits: { train: number; folds: number; test: number }; labels: string[] };
  thresholds: Thresholds;
  metrics: Metrics;
  crossValidationMetrics: Metrics;
  seconds: number;
}

/** Runs baseline.py on the work dir; throws with a clear message when it cannot. */
function runPython(options: BaselineOptions): void {
  const script = path.join(PROJECT_ROOT, 'src', 'tools', 'train', 'baseline.py');
  options.log(`baseline: ${options.python} ${path.relative(process.cwd(), script)}`);
  // The child's stdout goes to our stderr: our stdout carries only the JSON result.
  const run = spawnSync(options.python, [script, '--work', options.work, '--seed', String(options.seed)], { stdio: ['ignore', 2, 2] });
  if (run.error) throw new Error(`cannot run ${options.python}: ${run.error.message}`);
  if (run.status === MISSING_DEPENDENCY) {
    throw new Error(`scikit-learn (and numpy) are missing for ${options.python}: apt-get install python3-sklearn, and run with /usr/bin/python3 (--python)`);
  }
  if (run.status !== 0) throw new Error(`baseline.py failed (exit ${run.status ?? run.signal})`);
}

/**
 * Selects and trains the baseline by cross-validation on the training documents, tunes
 * thresholds on its out-of-fold probabilities, and scores the held-out test set.
 * @param options - data, work dir, seed, fold count, label count, Python
 */
export function runBaseline(options: BaselineOptions): BaselineEvaluation {
  if (!Number.isInteger(options.folds) || options.folds < 2) throw new Error(`--folds must be an integer >= 2, got ${options.folds}`);
  const started = performance.now();
  const { codes, train, folds, test } = codiespSplits(options.data, options);
  options.log(`documents: train ${train.length} (${options.folds} folds), test ${test.length}; labels ${codes.length}`);

  rmSync(options.work, { recursive: true, force: true });
  mkdirSync(options.work, { recursive: true });
  // train.jsonl: the evaluator's format plus the fold of each document.
  const trainLines = train.map((d, i) => JSON.stringify({ id: d.id, text: d.text, codes: d.codes, fold: folds[i] }));
  writeFileSync(path.join(options.work, 'train.jsonl'), `${trainLines.join('\n')}\n`);
  writeFileSync(path.join(options.work, 'test.jsonl'), toJsonl(test));
  writeFileSync(path.join(options.work, 'labels.json'), `${JSON.stringify(codes)}\n`);

  runPython(options);

  const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(options.work, file), 'utf8'));
  const scored = (docs: readonly Doc[], file: string): Scored[] => {
    const probabilities = read<number[][]>(file);
    if (probabilities.length !== docs.length || probabilities.some((p) => p.length !== codes.length)) {
      throw new Error(`${file}: expected ${docs.length} × ${codes.length} probabilities`);
    }
    return docs.map((doc, k) => ({ probabilities: probabilities[k], gold: new Set(doc.codes) }));
  };
  const outOfFoldScores = scored(train, 'baseline-oof-probabilities.json');
  const testScores = scored(test, 'baseline-test-probabilities.json');
  const training = read<BaselineTraining>('baseline.json');

  const thresholds = tuneThresholds(outOfFoldScores, codes, BASELINE_THRESHOLD_OPTIONS);
  // baseline.py selected its hyper-parameters by the same criterion thresholds.ts tunes the
  // global threshold by, on the same out-of-fold probabilities; a mismatch would mean the two
  // disagree on the data or the metric.
  const selectionF1 = computeMetrics(outOfFoldScores, codes, () => thresholds.global).microF1;
  if (Math.abs(selectionF1 - training.selection.outOfFoldMicroF1) > 1e-9) {
    throw new Error(`out-of-fold micro-F1 at the global threshold: baseline.py ${training.selection.outOfFoldMicroF1}, metrics.ts ${selectionF1}`);
  }

  const thresholdOf = (l: number) => thresholds.perCode[codes[l]] ?? thresholds.global;
  return {
    model: { name: 'tfidf-logreg-baseline', version: `sklearn-${training.versions.sklearn}`, dir: options.work, training },
    data: {
      file: path.join(options.work, 'test.jsonl'),
      documents: test.length,
      source: options.data,
      seed: options.seed,
      splits: { train: train.length, folds: options.folds, test: test.length },
      labels: codes,
    },
    thresholds,
    metrics: roundMetrics(computeMetrics(testScores, codes, thresholdOf)),
    crossValidationMetrics: roundMetrics(computeMetrics(outOfFoldScores, codes, thresholdOf)),
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}

runCommand(module, 'baseline', () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      work: { type: 'string', default: '.train-baseline' },
      seed: { type: 'string', default: '13' },
      labels: { type: 'string', default: '50' },
      folds: { type: 'string', default: '5' },
      limit: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
    },
  });
  if (!values.data)
    throw new UsageError(
      'usage: npm run baseline -- --data <CodiEsp dir> [--work .train-baseline] [--seed 13] [--folds 5] [--limit N] [--python /usr/bin/python3]',
    );
  const result = runBaseline({
    data: values.data,
    work: values.work!,
    seed: Number(values.seed),
    labels: Number(values.labels),
    folds: Number(values.folds),
    limit: values.limit ? Number(values.limit) : undefined,
    python: values.python!,
    log: (line) => console.error(line),
  });
  // Kept in the work directory too: `npm run train -- --baseline <work>/result.json` records
  // it next to the default model's figures.
  writeFileSync(path.join(values.work!, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
});

/**
 * `npm run train -- --data <CodiEsp dir> --out <bundle dir>`: the default model, end to end.
 *
 * 1. Labels: the 50 codes in the most train+dev documents (ties by code order), renamed to
 *    current ICD-10-CM codes. Protocol (dataset.ts codiespSplits): CodiEsp train for training,
 *    in 5 seeded cross-validation folds; CodiEsp dev held out as the test set (never used to
 *    fit, select or tune anything).
 * 2. Tokenizer: WordPiece trained on the training texts (this project's trainer).
 * 3. Token ids and windows: from the project's own TypeScript tokenizer and window planner,
 *    written to JSON, so training sees exactly what serving feeds the model.
 * 4. Model: laat.py (PyTorch, Debian's python3-torch) trains one model per fold with early
 *    stopping on that fold, then the final model on all training documents for the median
 *    best epoch count; model.onnx is built from its weights by export-laat.ts.
 * 5. Parity: onnxruntime's probabilities on the training documents must equal PyTorch's.
 * 6. Thresholds: tuned on the out-of-fold probabilities (every training document scored by a
 *    model that did not see it; thresholds.ts).
 * 7. Test figures: the serving path on the test split, stored in config.json `metrics`, with
 *    the baseline's (`--baseline`, from `npm run baseline`) and the figures on the committed
 *    reference slice that a test re-checks the shipped bundle against.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { BundleConfig, Label } from '../../model/bundle';
import { createClassifier } from '../../model/classifier';
import { createNoteTokenizer } from '../../model/tokenizer';
import { planWindows } from '../../model/windows';
import { PROJECT_ROOT } from '../../paths';
import { codiespSplits, readJsonl, toJsonl, type Doc } from './dataset';
import { laatToOnnx, readLaatWeights } from './export-laat';
import { computeMetrics, roundMetrics } from './metrics';
import { scoreDocuments, thresholdsOf } from './scoring';
import { tuneThresholds } from './thresholds';
import { trainWordPiece, wordPieceTokenizerJson } from './wordpiece';
import { runCommand, UsageError } from '../../cli/command';

export interface TrainOptions {
  data: string;
  out: string;
  work: string;
  seed: number;
  labels: number;
  vocabSize: number;
  maxLength: number;
  overlap: number;
  /** Use at most this many documents of each CodiEsp split (quick runs and tests). */
  limit?: number;
  /** Label display texts: the ICD-10-CM FY2023 billable code list (.tsv.gz), or a labels.json. */
  displays: string;
  name: string;
  version: string;
  folds: number;
  /**
   * result.json of `npm run baseline` on the same data, seed and folds: recorded in
   * config.json `metrics.baseline` so the bundle carries the figures it is compared with.
   */
  baseline?: string;
  /** Extra arguments for laat.py, e.g. ['--epochs', '3']. */
  pythonArgs: string[];
  python: string;
  log: (line: string) => void;
}

/**
 * The committed documents every shipped bundle is re-checked on: the bundle's figures on them
 * go into config.json (`metrics.referenceSlice`) and a test recomputes them from the bundle.
 * Path relative to the project root.
 */
export const REFERENCE_SLICE = 'test/fixtures/train-slice/cases.jsonl';

/** Figures of a bundle on {@link REFERENCE_SLICE}, through the serving path (no per-code table). */
export async function referenceSliceMetrics(bundleDir: string): Promise<Record<string, unknown>> {
  const classifier = await createClassifier(bundleDir, { intraOpThreads: 0 });
  try {
    const docs = readJsonl(path.join(PROJECT_ROOT, REFERENCE_SLICE));
    const codes = classifier.info.labels.map((l) => l.code);
    const { perCode: _perCode, ...rest } = computeMetrics(await scoreDocuments(classifier, docs), codes, thresholdsOf(classifier));
    return { file: REFERENCE_SLICE, ...roundMetrics(rest) };
  } finally {
    await classifier.dispose();
  }
}

/**
 * The figures of a baseline run, after checking it used this training's protocol (labels,
 * test documents, seed, folds): comparing figures from different splits would mislead.
 */
function baselineSummary(file: string, codes: readonly string[], testDocuments: number, options: TrainOptions) {
  const result = JSON.parse(readFileSync(file, 'utf8'));
  const data = result.data ?? {};
  const mismatch = [
    JSON.stringify(data.labels) !== JSON.stringify(codes) && 'labels',
    data.splits?.test !== testDocuments && 'test documents',
    data.seed !== options.seed && 'seed',
    data.splits?.folds !== options.folds && 'folds',
  ].filter(Boolean);
  if (mismatch.length > 0) throw new Error(`${file} was made with another protocol (${mismatch.join(', ')} differ)`);
  const summary = ({ perCode: _perCode, ...rest }: Record<string, unknown>) => rest;
  return {
    model: `${result.model.name} ${result.model.version}`,
    hyperParameters: result.model.training.hyperParameters,
    test: summary(result.metrics),
    crossValidation: summary(result.crossValidationMetrics),
  };
}

/** Display text of each code, from the CDC billable list (tsv.gz) or an existing labels.json. */
function readDisplays(file: string): Map<string, string> {
  if (file.endsWith('.json')) {
    return new Map((JSON.parse(readFileSync(file, 'utf8')) as Label[]).map((l) => [l.code, l.display]));
  }
  const text = (file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString('utf8');
  // code_nodot <TAB> code <TAB> description
  return new Map(
    text
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => {
        const [, code, description] = line.split('\t');
        return [code, description];
      }),
  );
}

/** Runs a command, passing each line it writes (stdout and stderr) to `log`; resolves with its exit status. */
function runStreaming(command: string, args: string[], log: (line: string) => void): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', log);
    createInterface({ input: child.stderr }).on('line', log);
    child.on('error', (error) => resolve(error.message));
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
}

/**
 * Trains and writes a bundle; returns the test metrics.
 * @param options - paths and settings
 */
export async function trainBundle(options: TrainOptions) {
  const { log } = options;
  const { codes, train, folds, test } = codiespSplits(options.data, options);
  const displays = readDisplays(options.displays);
  const missing = codes.filter((c) => !displays.has(c));
  if (missing.length > 0) throw new Error(`no display text for ${missing.join(', ')} in ${options.displays}`);
  log(`documents: train ${train.length} (${options.folds} folds), test ${test.length}; labels ${codes.length}`);

  rmSync(options.work, { recursive: true, force: true });
  mkdirSync(options.work, { recursive: true });
  for (const [name, docs] of Object.entries({ train, test })) writeFileSync(path.join(options.work, `${name}.jsonl`), toJsonl(docs));

  const vocab = trainWordPiece(
    train.map((d) => d.text),
    { vocabSize: options.vocabSize, minFrequency: 2 },
  );
  const tokenizerJson = wordPieceTokenizerJson(vocab);
  const tokenizer = createNoteTokenizer(tokenizerJson);
  log(`tokenizer: WordPiece, ${vocab.length} tokens`);

  const contentLength = options.maxLength - tokenizer.prefixIds.length - tokenizer.suffixIds.length;
  const encode = (doc: Doc, fold: number) => {
    const { ids } = tokenizer.encode(doc.text);
    const windows = planWindows(ids.length, contentLength, options.overlap).map((w) => [
      ...tokenizer.prefixIds,
      ...ids.subarray(w.start, w.end),
      ...tokenizer.suffixIds,
    ]);
    return { fold, windows, labels: codes.map((c, i) => (doc.codes.includes(c) ? i : -1)).filter((i) => i >= 0) };
  };
  const encoded = {
    vocabSize: vocab.length,
    padId: tokenizer.padId,
    labels: codes,
    documents: train.map((d, i) => encode(d, folds[i])),
  };
  writeFileSync(path.join(options.work, 'encoded.json'), JSON.stringify(encoded));

  const weightsDir = path.join(options.work, 'weights');
  const script = path.join(PROJECT_ROOT, 'src', 'tools', 'train', 'laat.py');
  log(`training: ${options.python} ${path.relative(process.cwd(), script)}`);
  const status = await runStreaming(
    options.python,
    [
      script,
      '--input',
      path.join(options.work, 'encoded.json'),
      '--out',
      weightsDir,
      '--seed',
      String(options.seed),
      '--folds',
      String(options.folds),
      ...options.pythonArgs,
    ],
    options.log,
  );
  if (status !== 0) {
    throw new Error(`laat.py failed (exit ${status}); it needs PyTorch: apt-get install python3-torch, run by /usr/bin/python3`);
  }
  const weights = readLaatWeights(weightsDir);

  const stage = path.join(options.work, 'bundle');
  mkdirSync(stage, { recursive: true });
  const labels: Label[] = codes.map((code) => ({ code, display: displays.get(code)! }));
  const config: BundleConfig = {
    name: options.name,
    version: options.version,
    description:
      'Label-wise attention classifier for the 50 most frequent ICD-10-CM codes of CodiEsp (machine-translated clinical case reports). See MODEL_CARD.md.',
    clinicallyMeaningful: true,
    codeSystemVersion: '2023',
    window: { maxLength: options.maxLength, overlap: options.overlap },
    batchSize: 8,
    pooling: 'max',
    thresholds: { global: 0.5 },
  };
  const writeBundle = () => {
    writeFileSync(path.join(stage, 'model.onnx'), laatToOnnx(weights, `${options.name} ${options.version}`));
    writeFileSync(path.join(stage, 'tokenizer.json'), `${JSON.stringify(tokenizerJson)}\n`);
    writeFileSync(path.join(stage, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
    writeFileSync(path.join(stage, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  };
  writeBundle();

  const read = (file: string): number[][] => JSON.parse(readFileSync(path.join(weightsDir, file), 'utf8'));
  const scoredOf = (probabilities: number[][]) => train.map((doc, k) => ({ probabilities: probabilities[k], gold: new Set(doc.codes) }));

  let classifier = await createClassifier(stage, { intraOpThreads: 0 });
  const reference = read('train-probabilities.json');
  let parity = 0;
  (await scoreDocuments(classifier, train)).forEach((s, k) =>
    codes.forEach((_, l) => {
      parity = Math.max(parity, Math.abs(s.probabilities[l] - reference[k][l]));
    }),
  );
  await classifier.dispose();
  log(`parity onnxruntime vs PyTorch on the training documents: max |Δp| = ${parity.toExponential(2)}`);
  if (!(parity <= 1e-4)) throw new Error(`onnxruntime and PyTorch disagree (max |Δp| = ${parity})`);

  const outOfFold = scoredOf(read('oof-probabilities.json'));
  config.thresholds = tuneThresholds(outOfFold, codes, { minSupport: 5, maxShift: 0.2 });
  writeBundle();
  classifier = await createClassifier(stage, { intraOpThreads: 0 });
  const thresholdOf = (l: number) => config.thresholds.perCode?.[codes[l]] ?? config.thresholds.global;
  const crossValidationMetrics = computeMetrics(outOfFold, codes, thresholdOf);
  const testMetrics = computeMetrics(await scoreDocuments(classifier, test), codes, thresholdOf);
  await classifier.dispose();

  const summary = ({ perCode: _perCode, ...rest }: ReturnType<typeof computeMetrics>) => roundMetrics(rest);
  config.metrics = {
    data: `CodiEsp English (CodiEsp-D): train split for training (${options.folds}-fold cross-validation, seed ${options.seed}), dev split held out as test`,
    test: summary(testMetrics),
    crossValidation: summary(crossValidationMetrics),
    parityMaxAbsDiff: Number(parity.toExponential(2)),
    training: { finalEpochs: weights.manifest.finalEpochs, folds: weights.manifest.folds, hyperParameters: weights.manifest.hyperParameters },
  };
  if (options.baseline) config.metrics.baseline = baselineSummary(options.baseline, codes, test.length, options);
  writeBundle();
  config.metrics.referenceSlice = await referenceSliceMetrics(stage);
  writeBundle();
  mkdirSync(options.out, { recursive: true });
  for (const file of ['model.onnx', 'tokenizer.json', 'labels.json', 'config.json']) cpSync(path.join(stage, file), path.join(options.out, file));
  log(`wrote ${options.out}`);
  return { test: roundMetrics(testMetrics), crossValidation: roundMetrics(crossValidationMetrics), thresholds: config.thresholds };
}

runCommand(module, 'training', async () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      work: { type: 'string', default: '.train' },
      seed: { type: 'string', default: '13' },
      labels: { type: 'string', default: '50' },
      vocab: { type: 'string', default: '8000' },
      'max-length': { type: 'string', default: '512' },
      overlap: { type: 'string', default: '64' },
      limit: { type: 'string' },
      folds: { type: 'string', default: '5' },
      displays: { type: 'string' },
      name: { type: 'string', default: 'icd10-cds-laat-codiesp50' },
      version: { type: 'string', default: '1.0.0' },
      python: { type: 'string', default: '/usr/bin/python3' },
      baseline: { type: 'string' },
      'python-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  if (!values.data || !values.out) {
    throw new UsageError(
      'usage: npm run train -- --data <CodiEsp dir> --out <bundle dir> [--displays <icd10cm billable .tsv.gz | labels.json>] [--work .train] [--baseline .train-baseline/result.json] [--limit N] [--python-arg=--epochs --python-arg=3]',
    );
  }
  const displays = values.displays ?? path.join('models', 'default', 'labels.json');
  if (!existsSync(displays)) throw new UsageError(`no label display texts at ${displays}: pass --displays <ICD-10-CM billable code list .tsv.gz>`);
  const result = await trainBundle({
    data: values.data,
    out: values.out,
    work: values.work!,
    seed: Number(values.seed),
    labels: Number(values.labels),
    vocabSize: Number(values.vocab),
    maxLength: Number(values['max-length']),
    overlap: Number(values.overlap),
    limit: values.limit ? Number(values.limit) : undefined,
    folds: Number(values.folds),
    displays,
    name: values.name!,
    version: values.version!,
    python: values.python!,
    baseline: values.baseline,
    pythonArgs: values['python-arg']!,
    log: (line) => console.error(line),
  });
  return { test: { ...result.test, perCode: undefined }, thresholds: result.thresholds };
});

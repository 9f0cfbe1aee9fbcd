/**
 * `npm run train:ranker -- --data <CodiEsp dir> --oof <oof-probabilities.json> --out models/ranker`:
 * the ranker bundles (ranker-both.json, ranker-index.json), trained on CodiEsp train only.
 *
 * Protocol (the classifier's: train/dataset.ts codiespSplits, same seed and folds):
 * 1. Candidates of every training document (engine/engine.ts candidatesOf), with the
 *    classifier's OUT-OF-FOLD probabilities (`--oof`, written by `npm run train` in its work
 *    directory: each document scored by a fold model that never saw it), so the ranker does not
 *    learn to trust probabilities the shipped model gives documents it was trained on.
 * 2. Five-fold cross-validation of the logistic model (category priors from the other folds
 *    only): every training candidate gets an out-of-fold score.
 * 3. Isotonic calibration fitted on those out-of-fold scores, and the threshold that maximises
 *    out-of-fold micro-F1 on the calibrated scale of what the service shows (after the coding
 *    rules, rules/check-coding.ts).
 * 4. The final weights on all training candidates.
 * CodiEsp dev is never read here: `npm run evaluate` reports on it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../../cli/command';
import { loadIndexEngine } from '../../engine/index-engine';
import { FEATURES, type FeatureName, type RankerBundle } from '../../engine/ranker';
import { DEFAULT_MODEL_DIR, PROJECT_ROOT, SOFTWARE_VERSION } from '../../paths';
import { createRuleChecker, type RuleChecker } from '../../rules/check-coding';
import { codiespSplits } from '../train/dataset';
import { candidateRows, goldDocsOf, priorsOf, vectorOf as vectorOfFeatures, type GoldDoc, type Scored } from './data';
import { bestThreshold, calibrationError, fitIsotonic, fitLogistic, scaleOf, scoreOf, type Sample } from './fit';

export interface TrainRankerOptions {
  data: string;
  /** Out-of-fold probabilities of the classifier on the training documents, in the protocol's order (without them only the index ranker is trained). */
  oof?: string;
  modelDir: string;
  codeSetDir: string;
  knowledgeDir: string;
  out: string;
  seed: number;
  folds: number;
  modelFloor: number;
  lambda: number;
  /** Features left out of the model (by name). */
  exclude?: readonly FeatureName[];
  log?: (line: string) => void;
}

/**
 * Features the rankers leave out by default, because CodiEsp's labels teach the opposite of
 * what discharge-summary coding needs: its annotators code hypertension and CKD apart rather
 * than the guideline's combination (combination), its label distribution is that of case
 * reports (categoryPrior, injuryChapter, statusChapter), its tables' codes follow the Spanish
 * edition's habits (table), and it seldom codes family or personal history (familyHistory,
 * personalHistory), which the guidelines require (I.C.21.c.4). Trained on, they would push
 * guideline-correct codes of discharge summaries below the threshold.
 */
export const EXCLUDED_FEATURES: readonly FeatureName[] = [
  'categoryPrior',
  'combination',
  'table',
  'injuryChapter',
  'statusChapter',
  'familyHistory',
  'personalHistory',
];

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

interface ModeResult {
  bundle: RankerBundle;
}

/**
 * The threshold that maximises out-of-fold micro-F1 of what the service shows: each document's
 * candidates at or above it, after the coding rules (integral symptoms left out).
 */
function bestThresholdWithRules(
  rows: readonly Scored[],
  calibrated: readonly number[],
  goldTotal: number,
  rules: RuleChecker,
): { threshold: number; f1: number } {
  let best = { threshold: 0.5, f1: 0 };
  for (const t of [...new Set(calibrated)].sort((a, b) => a - b)) {
    const byDoc = new Map<number, { code: string; y: 0 | 1 }[]>();
    rows.forEach((r, i) => {
      if (calibrated[i] < t) return;
      const list = byDoc.get(r.doc) ?? [];
      list.push({ code: r.candidate.code, y: r.y });
      byDoc.set(r.doc, list);
    });
    let tp = 0;
    let predicted = 0;
    for (const list of byDoc.values()) {
      const kept = rules.check(list, []).suggestions;
      predicted += kept.length;
      tp += kept.reduce((n, k) => n + k.y, 0);
    }
    const precision = tp / Math.max(1, predicted);
    const recall = tp / Math.max(1, goldTotal);
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { threshold: t, f1 };
  }
  return best;
}

/** Trains one mode's ranker from rows already computed. */
function trainMode(
  mode: RankerBundle['mode'],
  docs: readonly GoldDoc[],
  rows: readonly Scored[],
  folds: readonly number[],
  options: TrainRankerOptions,
  rules?: RuleChecker,
): ModeResult {
  const exclude = options.exclude ?? EXCLUDED_FEATURES;
  const features = FEATURES.filter((f) => !exclude.includes(f));
  const vectorOf = (facts: Scored['facts'], priors: Pick<RankerBundle, 'priors' | 'defaultPrior'>) => vectorOfFeatures(facts, priors, features);
  const k = Math.max(...folds) + 1;
  const oofScores = new Array<number>(rows.length).fill(0);
  for (let fold = 0; fold < k; fold++) {
    const trainDocs = docs.filter((_, i) => folds[i] !== fold);
    const priors = priorsOf(trainDocs);
    const fit: Sample[] = rows.filter((r) => folds[r.doc] !== fold).map((r) => ({ x: vectorOf(r.facts, priors), y: r.y }));
    const scale = scaleOf(fit);
    const w = fitLogistic(fit, scale, options.lambda);
    rows.forEach((r, i) => {
      if (folds[r.doc] === fold) oofScores[i] = scoreOf(vectorOf(r.facts, priors), scale, w);
    });
  }
  const labels = rows.map((r) => r.y);
  const calibration = fitIsotonic(oofScores, labels);
  const calibrate = (s: number) => {
    const { x, y } = calibration;
    if (s <= x[0]) return y[0];
    if (s >= x[x.length - 1]) return y[y.length - 1];
    let i = 0;
    while (x[i + 1] < s) i++;
    const t = (s - x[i]) / (x[i + 1] - x[i] || 1);
    return y[i] + t * (y[i + 1] - y[i]);
  };
  const calibratedOof = oofScores.map(calibrate);
  const goldTotal = docs.reduce((n, d) => n + d.gold.length, 0);
  const { threshold, f1 } = rules
    ? bestThresholdWithRules(rows, calibratedOof, goldTotal, rules)
    : bestThreshold(
        calibratedOof.map((p, i) => ({ p, y: labels[i] })),
        goldTotal,
      );
  const priors = priorsOf(docs);
  const all: Sample[] = rows.map((r) => ({ x: vectorOf(r.facts, priors), y: r.y }));
  const scale = scaleOf(all);
  const weights = fitLogistic(all, scale, options.lambda);
  const inCandidates = rows.filter((r) => r.y === 1).length;
  const bundle: RankerBundle = {
    name: `icd10-cds-ranker-${mode}`,
    version: SOFTWARE_VERSION,
    mode,
    features,
    scale: { mean: scale.mean.map((v) => round(v, 6)), std: scale.std.map((v) => round(v, 6)) },
    weights: weights.map((v) => round(v, 6)),
    calibration,
    threshold: round(threshold, 6),
    modelFloor: options.modelFloor,
    ...priors,
    metrics: {
      trainingDocuments: docs.length,
      candidates: rows.length,
      goldCodes: goldTotal,
      outOfFold: {
        microF1: round(f1),
        candidateRecall: round(inCandidates / goldTotal),
        expectedCalibrationError: round(calibrationError(calibratedOof, labels).ece),
      },
      command: `npm run train:ranker -- --data <CodiEsp dir> --oof <work>/oof-probabilities.json --out ${path.relative(PROJECT_ROOT, options.out) || options.out}`,
    },
  };
  return { bundle };
}

/**
 * Trains and writes both rankers.
 * @returns their bundles
 */
export async function trainRanker(options: TrainRankerOptions): Promise<RankerBundle[]> {
  const log = options.log ?? (() => undefined);
  const index = await loadIndexEngine(options.codeSetDir, options.knowledgeDir);
  const rules = createRuleChecker(index.codeSet, index.knowledge.integralSymptoms);
  const splits = codiespSplits(options.data, { labels: 50, folds: options.folds, seed: options.seed });
  const { docs, dropped, renamed } = goldDocsOf(splits.train, index);
  log(`training documents ${docs.length}; gold codes renamed ${renamed}, dropped ${dropped}`);
  const oof = options.oof ? (JSON.parse(readFileSync(options.oof, 'utf8')) as number[][]) : undefined;
  if (oof && oof.length !== docs.length)
    throw new Error(`${options.oof} holds ${oof.length} rows for ${docs.length} training documents: not this protocol's out-of-fold file`);
  const labels = (JSON.parse(readFileSync(path.join(options.modelDir, 'labels.json'), 'utf8')) as { code: string }[]).map((l) => l.code);
  mkdirSync(options.out, { recursive: true });
  const bundles: RankerBundle[] = [];
  for (const mode of oof ? (['both', 'index'] as const) : (['index'] as const)) {
    const rows = candidateRows(docs, {
      index,
      labels,
      probabilities: mode === 'both' && oof ? oof : docs.map(() => undefined),
      setting: 'inpatient',
      modelFloor: options.modelFloor,
    });
    const { bundle } = trainMode(mode, docs, rows, splits.folds, options, rules);
    log(`${mode}: ${JSON.stringify(bundle.metrics)}`);
    writeFileSync(path.join(options.out, `ranker-${mode}.json`), `${JSON.stringify(bundle, null, 2)}\n`);
    bundles.push(bundle);
  }
  return bundles;
}

runCommand(module, 'train:ranker', async () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      oof: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      codeset: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'icd10cm-2023') },
      knowledge: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'knowledge') },
      out: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'ranker') },
      seed: { type: 'string', default: '13' },
      folds: { type: 'string', default: '5' },
      floor: { type: 'string', default: '0.1' },
      lambda: { type: 'string', default: '1' },
      exclude: { type: 'string' },
    },
  });
  if (!values.data)
    throw new UsageError('usage: npm run train:ranker -- --data <CodiEsp dir> [--oof <work dir>/…/oof-probabilities.json] [--out models/ranker]');
  const bundles = await trainRanker({
    data: values.data,
    oof: values.oof,
    modelDir: values.model!,
    codeSetDir: values.codeset!,
    knowledgeDir: values.knowledge!,
    out: values.out!,
    seed: Number(values.seed),
    folds: Number(values.folds),
    modelFloor: Number(values.floor),
    lambda: Number(values.lambda),
    ...(values.exclude !== undefined ? { exclude: values.exclude.split(',').filter(Boolean) as FeatureName[] } : {}),
    log: (line) => console.error(line),
  });
  return bundles.map((b) => ({ mode: b.mode, threshold: b.threshold, metrics: b.metrics }));
});

/**
 * The ranker: a logistic model over what is known of a candidate code (how it was found, its
 * mentions' status and sections, its specificity, the classifier's probability, the code's
 * prior), then a calibration map fitted on out-of-fold scores, so that the confidence shown is
 * the observed rate of codes so scored being right. Weights, calibration and threshold are
 * the ranker bundle (models/ranker/ranker.json), made by `npm run train:ranker`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SectionKind } from '../evidence/sections';
import type { Rationale } from '../assign/code-note';

/** What the ranker reads of a candidate. */
export interface CandidateFacts {
  code: string;
  /** Found through the Index. */
  index: boolean;
  /** The classifier's probability, when the code is one of its labels. */
  modelProbability?: number;
  mentions: number;
  /** Subterm words matched along the best Index path (specificity). */
  pathScore: number;
  /** An unspecified subcode was taken for lack of documentation. */
  defaulted: boolean;
  /** The code's title says "unspecified". */
  unspecified: boolean;
  rationales: readonly Rationale[];
  sections: readonly (SectionKind | undefined)[];
  table: boolean;
  combination: boolean;
}

export const FEATURES = [
  'bias',
  'index',
  'model',
  'modelProbability',
  'modelLogit',
  'modelAbsent',
  'logMentions',
  'pathScore',
  'defaulted',
  'unspecified',
  'present',
  'uncertain',
  'chronicHistory',
  'personalHistory',
  'familyHistory',
  'diagnosisSection',
  'assessmentSection',
  'historySection',
  'courseSection',
  'otherSection',
  'noSection',
  'table',
  'combination',
  'symptomChapter',
  'statusChapter',
  'injuryChapter',
  'categoryPrior',
] as const;
export type FeatureName = (typeof FEATURES)[number];

export interface RankerBundle {
  name: string;
  version: string;
  /** Which candidates it was trained on: `both` (Index and classifier) or `index` (Index only). */
  mode: 'both' | 'index';
  features: readonly FeatureName[];
  /** Mean and spread of each feature on the training candidates (standardization; the bias has mean 0 and spread 1). */
  scale: { mean: number[]; std: number[] };
  weights: number[];
  /** Isotonic map from the logistic score to a calibrated probability: increasing knots. */
  calibration: { x: number[]; y: number[] };
  /** Suggested when the calibrated probability reaches it (tuned for F1 on out-of-fold data). */
  threshold: number;
  /** Classifier probability from which a label the Index did not find becomes a candidate. */
  modelFloor: number;
  /** Log prior of each 3-character category among the training documents' codes. */
  priors: Record<string, number>;
  defaultPrior: number;
  /** Figures of the training run (the model card reports them). */
  metrics?: Record<string, unknown>;
}

const HISTORY_SECTIONS = new Set<SectionKind>(['past-history', 'history-present-illness', 'social-history', 'family-history']);
const clamp = (p: number) => Math.min(1 - 1e-6, Math.max(1e-6, p));

/**
 * The feature vector of a candidate.
 * @param c - what is known of it
 * @param priors - category priors and their default (from the bundle, or while training)
 */
export function featuresOf(c: CandidateFacts, priors: Pick<RankerBundle, 'priors' | 'defaultPrior'>): Record<FeatureName, number> {
  const has = (r: Rationale) => (c.rationales.includes(r) ? 1 : 0);
  const section = (test: (k: SectionKind | undefined) => boolean) => (c.sections.some(test) ? 1 : 0);
  const p = c.modelProbability;
  return {
    bias: 1,
    index: c.index ? 1 : 0,
    model: p !== undefined ? 1 : 0,
    modelProbability: p ?? 0,
    modelLogit: p !== undefined ? Math.log(clamp(p) / (1 - clamp(p))) : 0,
    modelAbsent: p === undefined ? 1 : 0,
    logMentions: Math.log1p(c.mentions),
    pathScore: Math.min(c.pathScore, 6),
    defaulted: c.defaulted ? 1 : 0,
    unspecified: c.unspecified ? 1 : 0,
    present: has('present'),
    uncertain: has('uncertain-as-established'),
    chronicHistory: has('chronic-history'),
    personalHistory: has('personal-history'),
    familyHistory: has('family-history'),
    diagnosisSection: section((k) => k === 'diagnoses' || k === 'admission-diagnoses'),
    assessmentSection: section((k) => k === 'assessment-plan'),
    historySection: section((k) => k !== undefined && HISTORY_SECTIONS.has(k)),
    courseSection: section((k) => k === 'hospital-course'),
    otherSection: section(
      (k) => k !== undefined && !HISTORY_SECTIONS.has(k) && !['diagnoses', 'admission-diagnoses', 'assessment-plan', 'hospital-course'].includes(k),
    ),
    noSection: section((k) => k === undefined),
    table: c.table ? 1 : 0,
    combination: c.combination ? 1 : 0,
    symptomChapter: c.code.startsWith('R') ? 1 : 0,
    statusChapter: c.code.startsWith('Z') ? 1 : 0,
    injuryChapter: /^[ST]/.test(c.code) ? 1 : 0,
    categoryPrior: priors.priors[c.code.slice(0, 3)] ?? priors.defaultPrior,
  };
}

/** The logistic score of a feature vector under the bundle's weights. */
export function logisticScore(bundle: Pick<RankerBundle, 'features' | 'scale' | 'weights'>, features: Record<FeatureName, number>): number {
  let z = 0;
  bundle.features.forEach((name, i) => {
    const x = (features[name] - bundle.scale.mean[i]) / (bundle.scale.std[i] || 1);
    z += bundle.weights[i] * x;
  });
  return 1 / (1 + Math.exp(-z));
}

/** Piecewise-linear reading of an isotonic map (flat outside its knots). */
export function calibrated(calibration: RankerBundle['calibration'], score: number): number {
  const { x, y } = calibration;
  if (x.length === 0) return score;
  if (score <= x[0]) return y[0];
  if (score >= x[x.length - 1]) return y[y.length - 1];
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= score) lo = mid;
    else hi = mid;
  }
  const t = (score - x[lo]) / (x[hi] - x[lo] || 1);
  return y[lo] + t * (y[hi] - y[lo]);
}

export interface Ranker {
  readonly bundle: RankerBundle;
  /** The calibrated probability that the candidate is a code the note supports. */
  confidence(c: CandidateFacts): number;
}

/** @param bundle - a ranker bundle */
export function rankerOf(bundle: RankerBundle): Ranker {
  return { bundle, confidence: (c) => calibrated(bundle.calibration, logisticScore(bundle, featuresOf(c, bundle))) };
}

/**
 * Loads `ranker.json` of a ranker directory.
 * @param dir - RANKER_DIR
 * @param mode - the engine mode it must have been trained for
 */
export async function loadRanker(dir: string, mode: RankerBundle['mode']): Promise<Ranker> {
  const file = path.join(dir, `ranker-${mode}.json`);
  let bundle: RankerBundle;
  try {
    bundle = JSON.parse(await readFile(file, 'utf8')) as RankerBundle;
  } catch (error) {
    throw new Error(
      `ranker bundle ${file} cannot be read (${(error as { code?: string }).code ?? (error as Error).message}): train it with npm run train:ranker`,
      { cause: error },
    );
  }
  const unknown = bundle.features.filter((f) => !(FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0 || bundle.weights.length !== bundle.features.length)
    throw new Error(`ranker bundle ${file} does not match this service's features (${unknown.join(', ') || 'weights'})`);
  return rankerOf(bundle);
}

/**
 * A model bundle's description: config.json and labels.json of `models/<name>/`.
 *
 * Read and checked once at start-up; every problem is reported at once, naming the file and
 * field, so a misconfigured bundle fails before the service listens.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** One output label of the model: an ICD-10-CM code (dotted) and its display text. */
export interface Label {
  code: string;
  display: string;
}

export type Pooling = 'max' | 'mean';

/** config.json of a bundle. */
export interface BundleConfig {
  /** Model name and version: shown on every card and in Provenance. */
  name: string;
  version: string;
  description?: string;
  /** False for generated test models: their scores mean nothing clinically. */
  clinicallyMeaningful: boolean;
  /** ICD-10-CM edition the labels come from, e.g. "2026" (FHIR coding.version). */
  codeSystemVersion?: string;
  /** Model input length in tokens, special tokens included, and overlap between windows. */
  window: { maxLength: number; overlap: number };
  /** Windows per onnxruntime call. */
  batchSize: number;
  /** How per-window logits become one score per code. */
  pooling: Pooling;
  /** Overrides the tokenizer's pad token id (it must be the id the model was trained with). */
  padTokenId?: number;
  /** Decision thresholds on the sigmoid probability: one global, optional per code. */
  thresholds: { global: number; perCode?: Record<string, number> };
  /** Figures the model was validated with (free form; shown by documentation, not used). */
  metrics?: Record<string, unknown>;
}

export interface BundleFiles {
  dir: string;
  config: BundleConfig;
  labels: Label[];
  tokenizerJson: unknown;
  modelPath: string;
}

// ICD-10-CM code with its dot: letter, two characters, then up to four after the dot.
const ICD10CM_CODE = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;

/**
 * Reads and checks a bundle directory.
 * @param dir - the bundle directory (MODEL_DIR)
 * @throws Error listing every problem found
 */
export async function readBundle(dir: string): Promise<BundleFiles> {
  const modelPath = path.join(dir, 'model.onnx');
  // allSettled, not all: every unreadable file is named, in a fixed order, whichever read fails first.
  const read = await Promise.allSettled(['config.json', 'labels.json', 'tokenizer.json'].map((file) => readJson(path.join(dir, file))));
  const unreadable = read.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (unreadable.length > 0) throw new Error(unreadable.join('; '));
  const [configJson, labelsJson, tokenizerJson] = read.map((r) => (r as PromiseFulfilledResult<unknown>).value);
  const problems = [...checkConfig(configJson), ...checkLabels(labelsJson)];
  if (problems.length === 0) {
    const codes = new Set((labelsJson as Label[]).map((l) => l.code));
    for (const code of Object.keys((configJson as BundleConfig).thresholds.perCode ?? {})) {
      if (!codes.has(code)) problems.push(`config.json: "thresholds.perCode.${code}" is not a label of labels.json`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`model bundle ${dir} is invalid:\n- ${problems.join('\n- ')}`);
  }
  return { dir, config: configJson as BundleConfig, labels: labelsJson as Label[], tokenizerJson, modelPath };
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`model bundle file ${file} cannot be read`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`model bundle file ${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

function checkConfig(value: unknown): string[] {
  if (!isObject(value)) return ['config.json: must be a JSON object'];
  const c = value as Record<string, unknown>;
  const problems: string[] = [];
  const need = (ok: boolean, message: string) => ok || problems.push(`config.json: ${message}`);
  need(isText(c.name), '"name" must be a non-empty string');
  need(isText(c.version), '"version" must be a non-empty string');
  need(typeof c.clinicallyMeaningful === 'boolean', '"clinicallyMeaningful" must be true or false');
  need(c.codeSystemVersion === undefined || isText(c.codeSystemVersion), '"codeSystemVersion" must be a string');
  const window = c.window as Record<string, unknown> | undefined;
  if (!isObject(window)) {
    problems.push('config.json: "window" must be an object with "maxLength" and "overlap"');
  } else {
    need(isInt(window.maxLength) && (window.maxLength as number) >= 2, '"window.maxLength" must be an integer >= 2');
    need(isInt(window.overlap) && (window.overlap as number) >= 0, '"window.overlap" must be an integer >= 0');
  }
  need(isInt(c.batchSize) && (c.batchSize as number) >= 1, '"batchSize" must be an integer >= 1');
  need(c.pooling === 'max' || c.pooling === 'mean', '"pooling" must be "max" or "mean"');
  need(c.padTokenId === undefined || (isInt(c.padTokenId) && (c.padTokenId as number) >= 0), '"padTokenId" must be an integer >= 0');
  const thresholds = c.thresholds as Record<string, unknown> | undefined;
  if (!isObject(thresholds)) {
    problems.push('config.json: "thresholds" must be an object with "global"');
  } else {
    need(isProbability(thresholds.global), '"thresholds.global" must be a number in [0, 1]');
    if (thresholds.perCode !== undefined) {
      if (!isObject(thresholds.perCode)) problems.push('config.json: "thresholds.perCode" must be an object');
      else {
        for (const [code, t] of Object.entries(thresholds.perCode)) {
          need(isProbability(t), `"thresholds.perCode.${code}" must be a number in [0, 1]`);
        }
      }
    }
  }
  need(c.metrics === undefined || isObject(c.metrics), '"metrics" must be an object');
  return problems;
}

function checkLabels(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) return ['labels.json: must be a non-empty array of {"code", "display"}'];
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((label, i) => {
    if (!isObject(label) || !isText(label.code) || !isText(label.display)) {
      problems.push(`labels.json[${i}]: must be {"code": string, "display": string}`);
    } else if (!ICD10CM_CODE.test(label.code as string)) {
      problems.push(`labels.json[${i}]: "${label.code}" is not a dotted ICD-10-CM code`);
    } else if (seen.has(label.code as string)) {
      problems.push(`labels.json[${i}]: duplicate code "${label.code}"`);
    } else {
      seen.add(label.code as string);
    }
  });
  return problems;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isText(v: unknown): boolean {
  return typeof v === 'string' && v.trim().length > 0;
}
function isInt(v: unknown): boolean {
  return Number.isInteger(v);
}
function isProbability(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= 1;
}

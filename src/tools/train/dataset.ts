/**
 * Training data: reading labelled documents, the label set, code normalisation and splits.
 *
 * Data is never part of the repository: every function reads from a path given on the
 * command line. The CodiEsp corpus (CC BY 4.0; Zenodo records 3693570 and 3837305) comes as
 * `codiesp_en_D_train_dev.jsonl.gz`: one `{id, split, codes, text}` per line.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from '../random';

/** A labelled document (also the evaluator's input format: `{"id", "text", "codes"}`). */
export interface Doc {
  id: string;
  text: string;
  codes: string[];
}

/**
 * CodiEsp labels are CIE-10-ES 2018 codes (aligned with ICD-10-CM 2018). A few were split or
 * given a required 7th character in later ICD-10-CM years; suggestions must be valid codes, so
 * they are renamed to their FY2023 billable successor (the 7th character A, initial encounter,
 * is assumed for unspecified injuries). Gold and predicted codes are renamed alike, so scores
 * are unchanged by it.
 */
export const CODE_SUCCESSORS: Readonly<Record<string, string>> = {
  R51: 'R51.9', // FY2021: R51 split into R51.0 / R51.9 (Headache, unspecified)
  R05: 'R05.9', // FY2022: R05 split into R05.1–R05.9 (Cough, unspecified)
  'M54.5': 'M54.50', // FY2022: M54.5 split (Low back pain, unspecified)
  'T14.90': 'T14.90XA', // 7th character required (Injury, unspecified, initial encounter)
  'T14.8': 'T14.8XXA', // 7th character required (Other injury of unspecified body region, initial encounter)
};

/** Upper-case, dotted, renamed to its current successor. */
export function normalizeCode(code: string): string {
  const upper = code.trim().toUpperCase();
  return CODE_SUCCESSORS[upper] ?? upper;
}

/** Reads `{id, text, codes}` objects, one per line, from a .jsonl or .jsonl.gz file. */
export function readJsonl(file: string): Doc[] {
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const doc = JSON.parse(line);
      if (typeof doc.text !== 'string' || !Array.isArray(doc.codes)) {
        throw new Error(`${file}:${i + 1}: expected {"id", "text", "codes": [...]}`);
      }
      return { id: String(doc.id ?? i + 1), text: doc.text, codes: [...new Set<string>(doc.codes.map(normalizeCode))], split: doc.split };
    });
}

/**
 * The CodiEsp train and dev splits.
 * @param source - the CodiEsp directory (holding codiesp_en_D_train_dev.jsonl.gz), or a file
 *   of the same format (`{id, split, codes, text}` lines)
 */
export function readCodiesp(source: string): { train: Doc[]; dev: Doc[] } {
  const file = statSync(source).isDirectory() ? path.join(source, 'codiesp_en_D_train_dev.jsonl.gz') : source;
  const docs = readJsonl(file) as (Doc & { split?: string })[];
  const strip = ({ id, text, codes }: Doc) => ({ id, text, codes });
  return { train: docs.filter((d) => d.split === 'train').map(strip), dev: docs.filter((d) => d.split === 'dev').map(strip) };
}

/**
 * The `k` codes present in the most documents; ties broken by code order.
 * @param docs - documents whose codes are counted (each code once per document)
 * @param k - number of labels
 */
export function topCodes(docs: readonly Doc[], k: number): string[] {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const code of new Set(doc.codes)) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, k)
    .map(([code]) => code);
}

/**
 * Documents in a seeded pseudo-random order that does not depend on their input order.
 * @param docs - documents
 * @param seed - shuffle seed
 */
export function shuffleDocs(docs: readonly Doc[], seed: number): Doc[] {
  const random = seededRandom(seed);
  const sorted = [...docs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  return sorted;
}

export interface Splits {
  /** Label codes, in label order. */
  codes: string[];
  /** Documents models are trained on (CodiEsp train), and the cross-validation fold of each. */
  train: Doc[];
  folds: number[];
  /** Held-out documents (CodiEsp dev): never used to fit, select or tune anything. */
  test: Doc[];
}

/**
 * The project's protocol on CodiEsp, shared by every model so results compare like for like:
 * labels from train+dev; CodiEsp train for training, split into `folds` seeded folds for
 * cross-validation (model selection and threshold tuning use out-of-fold scores); CodiEsp
 * dev held out as the test set.
 * @param dir - the CodiEsp directory (or a file of its format)
 * @param options - label count, fold count, seed, and an optional per-split document limit
 */
export function codiespSplits(dir: string, options: { labels: number; folds: number; seed: number; limit?: number }): Splits {
  const codiesp = readCodiesp(dir);
  const limit = (docs: Doc[]) => (options.limit ? docs.slice(0, options.limit) : docs);
  const test = limit(codiesp.dev);
  const shuffled = shuffleDocs(limit(codiesp.train), options.seed);
  const codes = topCodes([...shuffled, ...test], options.labels);
  return { codes, train: shuffled, folds: shuffled.map((_, i) => i % options.folds), test };
}

/** Writes documents as `{"id", "text", "codes"}` lines (the evaluator's input format). */
export function toJsonl(docs: readonly Doc[]): string {
  return docs.map((d) => JSON.stringify({ id: d.id, text: d.text, codes: d.codes })).join('\n') + '\n';
}

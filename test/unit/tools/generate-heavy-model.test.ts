/**
 * generate-heavy-model at a tiny size (seconds): the bundle it writes is one the service loads
 * (createClassifier), its weights live in an external data file, and the int8 variant of the
 * same weights loads and gives nearly the same logits.
 */
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readBundle } from '../../../src/model/bundle';
import { createClassifier } from '../../../src/model/classifier';
import { createNoteTokenizer } from '../../../src/model/tokenizer';
import type { Classification, Classifier } from '../../../src/model/types';
import { planWindows } from '../../../src/model/windows';
import { GraphBuilder } from '../../../src/tools/onnx/builder';
import { ModelProto } from '../../../src/tools/onnx/onnx-schema';
import {
  DATA_FILE,
  generateHeavyModel,
  oneWindowNote,
  parameterCount,
  quantizePerColumn,
  SeededNormal,
  type HeavyModelOptions,
  type HeavyModelSummary,
} from '../../../src/tools/generate-heavy-model';

const TINY: HeavyModelOptions = {
  layers: 2,
  hidden: 64,
  heads: 4,
  ffn: 128,
  vocab: 3000,
  labels: 50,
  maxLength: 64,
  seed: 7,
  int8: false,
  causal: true,
};
const NOTE = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'notes', 'discharge-summary.txt'), 'utf8');

let root: string;
let fp32: HeavyModelSummary;
let int8: HeavyModelSummary;
const classifiers: Classifier[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'heavy-model-'));
  fp32 = generateHeavyModel(path.join(root, 'fp32'), TINY);
  int8 = generateHeavyModel(path.join(root, 'int8'), { ...TINY, int8: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(classifiers.map((c) => c.dispose()));
  if (root) rmSync(root, { recursive: true, force: true });
});

async function load(dir: string): Promise<Classifier> {
  const classifier = await createClassifier(dir, { intraOpThreads: 1 });
  classifiers.push(classifier);
  return classifier;
}

function expectFinite(c: Classification): void {
  for (const x of c.logits) expect(Number.isFinite(x)).toBe(true);
  for (const p of c.probabilities) {
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  }
}

describe('generateHeavyModel', () => {
  it('writes a valid bundle: random-weight config, 50 dotted labels, a tokenizer of the requested size', async () => {
    const bundle = await readBundle(fp32.dir);
    expect(bundle.labels).toHaveLength(50);
    expect(bundle.config).toMatchObject({
      name: 'icd10-cds-heavy-random',
      clinicallyMeaningful: false,
      window: { maxLength: 64, overlap: 8 },
      batchSize: 1,
      thresholds: { global: 0.4 },
    });
    expect(bundle.config.description).toMatch(/RANDOM WEIGHTS/);
    expect(createNoteTokenizer(bundle.tokenizerJson).vocabSize).toBe(3000);
    expect(fp32.vocab).toBe(3000);
  });

  it('stores the weights in model.onnx.data (ONNX external data), not in model.onnx', () => {
    expect(fp32.parameters).toBe(parameterCount(TINY));
    const dataBytes = statSync(path.join(fp32.dir, DATA_FILE)).size;
    expect(dataBytes).toBe(fp32.dataBytes);
    // fp32: 4 bytes per parameter, give or take alignment padding and the small tensors
    // kept inline.
    expect(dataBytes).toBeGreaterThan(3.5 * fp32.parameters);
    expect(dataBytes).toBeLessThan(4 * fp32.parameters + (1 << 20));
    const model = ModelProto.decode(readFileSync(path.join(fp32.dir, 'model.onnx'))) as unknown as {
      graph: { initializer: { name: string; data_location?: number; external_data: { key: string; value: string }[] }[] };
    };
    const external = model.graph.initializer.filter((t) => t.data_location === 1);
    expect(external.map((t) => t.name)).toContain('embed_tokens.weight');
    for (const t of external) {
      expect(t.external_data.find((e) => e.key === 'location')?.value).toBe(DATA_FILE);
    }
    expect(statSync(path.join(fp32.dir, 'model.onnx')).size).toBeLessThan(64 * 1024);
  });

  it('loads with createClassifier and classifies a note over the expected windows', async () => {
    const classifier = await load(fp32.dir);
    expect(classifier.info.labels).toHaveLength(50);
    expect(classifier.info.hasTokenScores).toBe(false);
    const result = await classifier.classify(NOTE);
    expect(result.probabilities).toHaveLength(50);
    expectFinite(result);
    // [CLS] and [SEP] frame every window: 62 note tokens per window, 8 shared.
    const expected = planWindows(result.tokenCount, 62, 8).length;
    expect(expected).toBeGreaterThan(1);
    expect(result.windowCount).toBe(expected);
  });

  it('writes the same weights quantised with --int8: smaller, loads, logits close to fp32', async () => {
    expect(int8.parameters).toBe(fp32.parameters);
    expect(int8.dataBytes).toBeLessThan(fp32.dataBytes / 2);
    expect((await readBundle(int8.dir)).config.name).toBe('icd10-cds-heavy-random-int8');
    const [a, b] = [await load(fp32.dir), await load(int8.dir)];
    const [x, y] = [await a.classify(NOTE), await b.classify(NOTE)];
    expectFinite(y);
    expect(y.windowCount).toBe(x.windowCount);
    const maxDiff = Math.max(...x.windowLogits.map((v, k) => Math.abs(v - y.windowLogits[k])));
    const spread = Math.max(...x.windowLogits) - Math.min(...x.windowLogits);
    expect(spread).toBeGreaterThan(0.1);
    expect(maxDiff).toBeGreaterThan(0); // really quantised
    expect(maxDiff).toBeLessThan(0.05 * spread);
  });

  it('builds a note that fills exactly one window', async () => {
    const tokenizer = createNoteTokenizer((await readBundle(fp32.dir)).tokenizerJson);
    const note = oneWindowNote(tokenizer, 64, NOTE);
    expect(note).toBeDefined();
    expect(tokenizer.encode(note!).ids.length).toBe(62);
    const result = await (await load(fp32.dir)).classify(note!);
    expect(result.windowCount).toBe(1);
  });
});

describe('weights and quantisation', () => {
  it('draws the same normal samples for the same seed, with mean 0 and the requested spread', () => {
    const a = new SeededNormal(1).fill(new Float32Array(20001), 0.02);
    const b = new SeededNormal(1).fill(new Float32Array(20001), 0.02);
    expect(a).toEqual(b);
    expect(new SeededNormal(2).fill(new Float32Array(3), 0.02)).not.toEqual(a.subarray(0, 3));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeCloseTo(0.02, 3);
  });

  it('quantises each column to 0..255 with a zero point, within half a step', () => {
    const rows = 50;
    const cols = 3;
    const w = new SeededNormal(3).fill(new Float32Array(rows * cols), 0.02);
    w[0] = 2; // one large value widens only column 0's scale
    const { q, scales, zeroPoints } = quantizePerColumn(w, rows, cols);
    expect(scales[0]).toBeGreaterThan(10 * scales[1]);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const back = (q[r * cols + c] - zeroPoints[c]) * scales[c];
        expect(Math.abs(back - w[r * cols + c])).toBeLessThanOrEqual(scales[c] / 2 + 1e-7);
      }
    }
  });
});

describe('GraphBuilder.externalInitializer', () => {
  const ref = { location: DATA_FILE, offset: 0, length: 24 };
  it('checks the byte length against the shape', () => {
    expect(() => new GraphBuilder('g').externalInitializer('w', 'float32', [2, 3], ref)).not.toThrow();
    expect(() => new GraphBuilder('g').externalInitializer('w', 'float32', [2, 2], ref)).toThrow(/needs 16 bytes/);
  });
  it('refuses a location outside the model directory', () => {
    for (const location of ['../w.data', '/tmp/w.data', 'a/../../w.data', '']) {
      expect(() => new GraphBuilder('g').externalInitializer('w', 'int8', [24], { ...ref, location })).toThrow(/relative path/);
    }
  });
});

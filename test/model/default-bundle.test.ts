/**
 * The shipped default bundle (models/default) loads, fits the contract, and reproduces the
 * figures recorded in its config.json (and MODEL_CARD.md):
 * - always, on the committed reference slice (metrics.referenceSlice);
 * - when CODIESP_DIR names the CodiEsp directory (.ci/run sets it where the data exists), on
 *   the held-out test split (metrics.test), exactly what `npm run evaluate:model -- --data <dir>`
 *   prints.
 * Tolerance: 0.005 on every figure. The same bytes on the same runtime give identical
 * scores; across CPUs, float rounding could move one score across its threshold, which shifts
 * an F1 on these document counts by less than that.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { createClassifier } from '../../src/model/classifier';
import { evaluate } from '../../src/tools/evaluate';
import { referenceSliceMetrics, REFERENCE_SLICE } from '../../src/tools/train/train';

const BUNDLE = path.join(PROJECT_ROOT, 'models', 'default');
const TOLERANCE = 0.005;
const config = JSON.parse(readFileSync(path.join(BUNDLE, 'config.json'), 'utf8'));
jest.setTimeout(120_000);

function expectClose(actual: Record<string, unknown>, expected: Record<string, unknown>) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      expect({ [key]: Math.abs((actual[key] as number) - value) <= TOLERANCE }).toEqual({ [key]: true });
    } else {
      expect({ [key]: actual[key] }).toEqual({ [key]: value });
    }
  }
}

test('is a trained model of 50 ICD-10-CM codes with token scores, within the size limit', async () => {
  expect(config.clinicallyMeaningful).toBe(true);
  const classifier = await createClassifier(BUNDLE, { intraOpThreads: 1 });
  try {
    expect(classifier.info.labels).toHaveLength(50);
    expect(classifier.info.hasTokenScores).toBe(true);
  } finally {
    await classifier.dispose();
  }
  const bytes = readFileSync(path.join(BUNDLE, 'model.onnx')).length;
  expect(bytes).toBeLessThanOrEqual(25 * 1024 * 1024);
});

test('beats the TF-IDF baseline recorded with it on the held-out test split', () => {
  expect(config.metrics.test.microF1).toBeGreaterThan(config.metrics.baseline.test.microF1);
});

test(`reproduces its figures on the reference slice (${REFERENCE_SLICE})`, async () => {
  expectClose(await referenceSliceMetrics(BUNDLE), config.metrics.referenceSlice);
});

const codiesp = process.env.CODIESP_DIR;
(codiesp ? test : test.skip)('reproduces its test figures on the CodiEsp held-out split (CODIESP_DIR)', async () => {
  const { perCode, ...figures } = (await evaluate(codiesp!, BUNDLE)).metrics;
  expect(perCode.length).toBeGreaterThan(0);
  expectClose(figures, config.metrics.test);
});

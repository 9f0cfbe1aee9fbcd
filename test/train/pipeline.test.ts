/**
 * The training pipeline end to end on a small committed slice (synthetic case reports, see
 * test/fixtures/train-slice/README.md): tokenizer training, windowing, PyTorch training with
 * cross-validation (needs Debian's python3-torch, installed by .ci/run), ONNX export, parity
 * with onnxruntime, threshold tuning and test figures. Tiny settings keep it to seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClassifier } from '../../src/model/classifier';
import { evaluate } from '../../src/tools/evaluate';
import { trainBundle, type TrainOptions } from '../../src/tools/train/train';
import { describeWithPackages, PYTHON3_TORCH } from '../helpers/system-packages';

const SLICE = path.join(__dirname, '..', 'fixtures', 'train-slice');
jest.setTimeout(120_000);

describeWithPackages([PYTHON3_TORCH], 'training pipeline', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'train-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function options(name: string): TrainOptions {
    return {
      data: path.join(SLICE, 'cases.jsonl'),
      out: path.join(root, name, 'bundle'),
      work: path.join(root, name, 'work'),
      seed: 13,
      labels: 8,
      folds: 3,
      vocabSize: 600,
      maxLength: 96,
      overlap: 16,
      displays: path.join(SLICE, 'displays.json'),
      name: 'slice-test',
      version: '0.0.1',
      python: '/usr/bin/python3',
      pythonArgs: ['--epochs', '4', '--patience', '2', '--dim', '16', '--hidden', '16', '--attention', '8', '--kernel', '3'],
      log: () => {},
    };
  }

  test('trains, exports and evaluates a bundle that serves; the evaluator reproduces the stored figures', async () => {
    const result = await trainBundle(options('a'));
    const dir = options('a').out;
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ name: 'slice-test', version: '0.0.1', clinicallyMeaningful: true, window: { maxLength: 96, overlap: 16 } });
    expect(config.metrics.parityMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(Object.keys(config.metrics.test).sort()).toEqual([
      'documents',
      'hammingLoss',
      'labels',
      'macroCodes',
      'macroF1',
      'microF1',
      'microPrecision',
      'microRecall',
      'precisionAt5',
    ]);
    expect(config.metrics.test.documents).toBe(20);
    expect(JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8'))).toHaveLength(8);

    const classifier = await createClassifier(dir, { intraOpThreads: 1 });
    expect(classifier.info.hasTokenScores).toBe(true);
    await classifier.dispose();

    // The evaluator, on the test split the training wrote, gives the figures stored in the bundle.
    const evaluation = await evaluate(path.join(options('a').work, 'test.jsonl'), dir);
    const { perCode, ...figures } = evaluation.metrics;
    expect(figures).toEqual(config.metrics.test);
    expect(perCode).toHaveLength(8);
    expect(result.test.microF1).toBe(config.metrics.test.microF1);
  });

  test('training is deterministic: the same data and seed give the same model bytes', async () => {
    await trainBundle(options('b'));
    for (const file of ['model.onnx', 'tokenizer.json', 'labels.json', 'config.json']) {
      expect(readFileSync(path.join(options('b').out, file)).equals(readFileSync(path.join(options('a').out, file)))).toBe(true);
    }
  });
});

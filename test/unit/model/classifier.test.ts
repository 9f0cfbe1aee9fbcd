import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClassifier } from '../../../src/model/classifier';
import { attr, encodeModel, GraphBuilder, type ElemType } from '../../../src/tools/onnx/builder';
import { generateTestModel } from '../../../src/tools/generate-test-model';
import { TINY_MODEL_DIR, tinyClassifier } from '../../helpers/app';

const LABELS = JSON.parse(readFileSync(path.join(TINY_MODEL_DIR, 'labels.json'), 'utf8')).length;
const VOCAB = Object.keys(JSON.parse(readFileSync(path.join(TINY_MODEL_DIR, 'tokenizer.json'), 'utf8')).model.vocab).length;

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

interface Variant {
  idsType?: ElemType;
  inputs?: string[];
  logitsName?: string;
  width?: number;
  tokenScores?: 'none' | 'ok' | 'wrong-shape';
}

/** A bundle like the tiny one, with a model.onnx built to the variant's (mis)shape. */
function bundleWith(variant: Variant, edit: (dir: string) => void = () => {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bundle-'));
  dirs.push(dir);
  cpSync(TINY_MODEL_DIR, dir, { recursive: true });
  const { idsType = 'int64', inputs = ['input_ids', 'attention_mask'], logitsName = 'logits', width = LABELS, tokenScores = 'none' } = variant;
  const g = new GraphBuilder('variant');
  for (const name of inputs) g.input(name, name === 'input_ids' ? idsType : 'int64', ['batch', 'sequence']);
  g.initializer('table', new Float32Array(VOCAB * width).fill(0.1), [VOCAB, width])
    .initializer('axis_1', BigInt64Array.from([1n]), [1])
    .node('Cast', [inputs[0]], ['ids64'], { to: attr.i(7) })
    .node('Gather', ['table', 'ids64'], ['per_token'])
    .node('ReduceSum', ['per_token', 'axis_1'], [logitsName], { keepdims: attr.i(0) })
    .output(logitsName, 'float32', ['batch', width]);
  if (tokenScores === 'ok') g.node('Identity', ['per_token'], ['token_scores']).output('token_scores', 'float32', ['batch', 'sequence', width]);
  if (tokenScores === 'wrong-shape') g.node('ReduceSum', ['per_token', 'axis_1'], ['token_scores'], { keepdims: attr.i(1) }).output('token_scores', 'float32');
  writeFileSync(path.join(dir, 'model.onnx'), encodeModel(g, { opset: 17, producerName: 'test' }));
  edit(dir);
  return dir;
}

const load = (dir: string) => createClassifier(dir, { intraOpThreads: 1 });
const editJson = (dir: string, file: string, change: (json: any) => void) => {
  const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  change(json);
  writeFileSync(path.join(dir, file), JSON.stringify(json));
};

describe('the model contract is checked at load time, with a message naming the problem', () => {
  test.each<[string, Variant, RegExp]>([
    ['missing attention_mask', { inputs: ['input_ids'] }, /missing input "attention_mask"/],
    ['an input the contract does not feed', { inputs: ['input_ids', 'attention_mask', 'position_ids'] }, /unexpected input "position_ids"/],
    ['float ids', { idsType: 'float32' }, /input "input_ids" is float32, expected int32 or int64/],
    ['no logits output', { logitsName: 'scores' }, /missing output "logits" \(outputs: scores\)/],
    ['logits narrower than labels.json', { width: 3 }, new RegExp(`gives 3 logits per window but labels.json has ${LABELS} labels`)],
    ['token_scores of the wrong shape', { tokenScores: 'wrong-shape' }, /output "token_scores" has shape \[1, 1, 11\], expected \[1, \d+, 11\]/],
  ])('%s', async (_name, variant, message) => {
    await expect(load(bundleWith(variant))).rejects.toThrow(message);
  });

  test('int32 ids and an optional token_scores output are accepted', async () => {
    const classifier = await load(bundleWith({ idsType: 'int32', tokenScores: 'ok' }));
    expect(classifier.info.hasTokenScores).toBe(true);
    await classifier.dispose();
  });

  test('a file that is not ONNX', async () => {
    const dir = bundleWith({}, (d) => writeFileSync(path.join(d, 'model.onnx'), 'not a model'));
    await expect(load(dir)).rejects.toThrow(/model.onnx could not be loaded by onnxruntime/);
  });

  test('config.json problems are all reported at once', async () => {
    const dir = bundleWith({}, (d) =>
      editJson(d, 'config.json', (c) => {
        c.pooling = 'avg';
        c.thresholds.global = 2;
        delete c.version;
        c.thresholds.perCode = { 'Z99.9': 0.5 };
      }),
    );
    await expect(load(dir)).rejects.toThrow(
      /"version" must be a non-empty string\n- config.json: "pooling" must be "max" or "mean"\n- config.json: "thresholds.global" must be a number in \[0, 1\]/,
    );
  });

  test('per-code thresholds must name labels', async () => {
    const dir = bundleWith({}, (d) =>
      editJson(d, 'config.json', (c) => {
        c.thresholds.perCode = { 'Z99.9': 0.5 };
      }),
    );
    await expect(load(dir)).rejects.toThrow(/"thresholds.perCode.Z99.9" is not a label of labels.json/);
  });

  test('labels must be dotted ICD-10-CM codes, without duplicates', async () => {
    const dir = bundleWith({}, (d) =>
      editJson(d, 'labels.json', (l) => {
        l[0].code = 'J189';
        l[2].code = l[1].code;
      }),
    );
    await expect(load(dir)).rejects.toThrow(/labels.json\[0\]: "J189" is not a dotted ICD-10-CM code\n- labels.json\[2\]: duplicate code "I10"/);
  });

  test('a window too short for the special tokens and the overlap', async () => {
    const dir = bundleWith({}, (d) =>
      editJson(d, 'config.json', (c) => {
        c.window = { maxLength: 10, overlap: 8 };
      }),
    );
    await expect(load(dir)).rejects.toThrow(/window.maxLength 10 leaves 8 note tokens after 2 special tokens, not more than window.overlap 8/);
  });

  test('a missing file is named', async () => {
    const dir = bundleWith({}, (d) => rmSync(path.join(d, 'labels.json')));
    await expect(load(dir)).rejects.toThrow(/labels.json cannot be read/);
  });
});

describe('the tiny model', () => {
  test('is what the generator produces (byte for byte)', () => {
    for (const [name, content] of Object.entries(generateTestModel())) {
      expect(Buffer.compare(readFileSync(path.join(TINY_MODEL_DIR, name)), Buffer.from(content))).toBe(0);
    }
  });

  test('token scores add up to the logit (exact contributions) and follow the offsets', async () => {
    const classifier = await tinyClassifier();
    const text = 'Acute kidney injury. Pneumonia!';
    const result = await classifier.classify(text);
    const L = classifier.info.labels.length;
    const n17 = classifier.info.labels.findIndex((l) => l.code === 'N17.9');
    let sum = 0;
    for (let t = 0; t < result.tokenCount; t++) sum += result.tokenScores![t * L + n17];
    expect(Math.log(result.probabilities[n17] / (1 - result.probabilities[n17]))).toBeCloseTo(-4 + sum, 4);
    const words = Array.from({ length: result.tokenCount }, (_, t) => text.slice(result.tokenOffsets[2 * t], result.tokenOffsets[2 * t + 1]));
    // Together the tokens cover every non-space character, in order.
    expect(words.join('')).toBe(text.replace(/\s/g, ''));
  });

  test('a code mentioned in several windows is pooled by max, not summed', async () => {
    const classifier = await tinyClassifier();
    const filler = 'the patient walked today. '.repeat(30);
    const once = await classifier.classify(`pneumonia ${filler}`);
    const twice = await classifier.classify(`pneumonia ${filler} pneumonia`);
    expect(twice.windowCount).toBeGreaterThan(1);
    expect(twice.probabilities[0]).toBeCloseTo(once.probabilities[0], 6);
  });
});

/**
 * Generates a transformer classifier bundle of BioGPT's size with RANDOM weights, and measures
 * how long one window takes: what a model like the seed (BioGPT, 350M parameters, 1024-token
 * windows) costs this service, without its weights.
 *
 *   npm run generate:heavy-model -- [--out models/heavy] [--layers 24 --hidden 1024 --heads 16
 *     --ffn 4096 --vocab 42384 --labels 50 --max-length 1024 --overlap 124 --seed 1]
 *     [--int8] [--bidirectional] [--no-check]
 *   npm run generate:heavy-model -- --bench models/heavy --bench models/heavy-int8 [--runs 5] [--threads 2]
 *
 * The model (model.onnx + model.onnx.data) is a pre-LayerNorm transformer like BioGPT's
 * decoder: token embeddings scaled by √hidden plus learned positions; per layer LayerNorm,
 * Q/K/V projections, scaled dot-product attention over `heads` heads with the padding mask
 * and (unless --bidirectional) the causal mask, output projection, residual, LayerNorm, FFN
 * with Gelu, residual; final LayerNorm of the last non-pad token (BioGPT's classification
 * head pools it) and a linear layer to `labels` logits. Inputs input_ids/attention_mask
 * int64 [batch, sequence], output logits [batch, labels], no token_scores: the shape of an
 * exported Hugging Face classifier. Weights are N(0, 0.02) from a seeded generator (biases
 * too, so no Add is optimised away as a no-op; LayerNorm scales 1), so the same options give
 * the same weights. The logits mean nothing: the bundle is for measurement only and says so.
 *
 * --int8 writes the same weights quantised the way onnxruntime's quantize_dynamic does:
 * every weight MatMul becomes DynamicQuantizeLinear (activations to uint8 at run time) →
 * MatMulInteger with 8-bit weights → Cast → Mul by the scales, a pattern onnxruntime fuses
 * into its DynamicQuantizeMatMul / MatMulIntegerToFloat kernels; the token embedding table
 * is int8 (Gather → DequantizeLinear). Attention score products, LayerNorm, Softmax and
 * position embeddings stay fp32. Weights are uint8 with a zero point per output column
 * (quantize_dynamic's QUInt8, per_channel), not int8: on CPUs without VNNI (AVX2 only, like
 * the build machines) onnxruntime's uint8×int8 kernel sums pairs of products in saturating
 * 16-bit arithmetic: on a [1024×1024]·[1024×4096] product full-range int8 weights gave a largest
 * error of 0.34 against 0.046 with uint8 per column, which is as fast there.
 * Default --out: models/heavy-int8.
 *
 * Weights are streamed to model.onnx.data (ONNX external data) one tensor at a time, so a
 * 1.4 GB model needs about one tensor of memory, and model.onnx holds only the graph.
 * onnxruntime finds the data file next to model.onnx (the service opens models by path).
 *
 * --bench runs each bundle in a child process (so load time and RSS are its own): load time
 * (createClassifier, which includes a probe inference), then `--runs` classifications of a
 * note that fills exactly one window (batch 1) after one warm-up, and the peak RSS. With two
 * or more bundles it also gives the largest logit difference from the first on that note.
 */
import { fork } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../paths';
import type { BundleConfig, Label } from '../model/bundle';
import { createClassifier } from '../model/classifier';
import { createNoteTokenizer, type NoteTokenizer } from '../model/tokenizer';
import { attr, encodeModel, GraphBuilder, littleEndianBytes, type ExternalDataRef, type TensorData } from './onnx/builder';
import { trainWordPiece, wordPieceTokenizerJson } from './train/wordpiece';
import { noteOfWords } from './bench-model';
import { runCommand } from '../cli/command';
import { seededRandom } from './random';
import { percentile } from './stats';

/** Shape and variant of the generated model. */
export interface HeavyModelOptions {
  layers: number;
  hidden: number;
  heads: number;
  /** Inner size of the feed-forward block. */
  ffn: number;
  /** Tokenizer vocabulary size (and rows of the embedding table). */
  vocab: number;
  labels: number;
  /** Window length in tokens (special tokens included) and rows of the position table. */
  maxLength: number;
  /** Window overlap written to config.json (default: 124 for 1024 like the seed, else maxLength / 8). */
  overlap?: number;
  seed: number;
  int8: boolean;
  /** True: causal + padding mask (BioGPT is a decoder); false: padding mask only. */
  causal: boolean;
}

/** BioGPT's size (microsoft/biogpt: 24 layers, hidden 1024, 16 heads, FFN 4096, 42,384 tokens). */
export const BIOGPT_SIZE: HeavyModelOptions = {
  layers: 24,
  hidden: 1024,
  heads: 16,
  ffn: 4096,
  vocab: 42384,
  labels: 50,
  maxLength: 1024,
  seed: 1,
  int8: false,
  causal: true,
};

/**
 * A small configuration that takes a noticeable but short time per window (about 0.2 s for a
 * 512-token window on two idle cores, see README "A heavy model for measurement"; generated in
 * a few seconds): for tests of time budgets.
 */
export const TIMING_TEST_SIZE: HeavyModelOptions = {
  layers: 6,
  hidden: 512,
  heads: 8,
  ffn: 2048,
  vocab: 8000,
  labels: 50,
  maxLength: 512,
  seed: 1,
  int8: false,
  causal: true,
};

export interface HeavyModelSummary {
  dir: string;
  parameters: number;
  /** Bytes of model.onnx (graph) and model.onnx.data (weights). */
  graphBytes: number;
  dataBytes: number;
  vocab: number;
  seconds: number;
}

/** Name of the external data file next to model.onnx. */
export const DATA_FILE = 'model.onnx.data';
const INIT_STD = 0.02;
const LN_EPSILON = 1e-5;
// Additive mask for padding and future positions: exp(-1e4 + small) is 0 in float32.
const MASKED = -1e4;
// Tensors of at least this many bytes start at a multiple of ALIGNMENT in the data file
// (what onnx's own external-data writer does), so onnxruntime can map them directly.
const ALIGN_FROM = 1 << 20;
const ALIGNMENT = 1 << 16;
// Tensors smaller than this stay inside model.onnx.
const INLINE_BELOW = 4096;

/** The 50 labels of the default model (ICD-10-CM FY2023 titles); the first `labels` are used. */
const LABELS: ReadonlyArray<readonly [string, string]> = [
  ['R52', 'Pain, unspecified'],
  ['R69', 'Illness, unspecified'],
  ['R50.9', 'Fever, unspecified'],
  ['I10', 'Essential (primary) hypertension'],
  ['R59.9', 'Enlarged lymph nodes, unspecified'],
  ['R60.9', 'Edema, unspecified'],
  ['R11.10', 'Vomiting, unspecified'],
  ['B99.9', 'Unspecified infectious disease'],
  ['R53.1', 'Weakness'],
  ['R59.0', 'Localized enlarged lymph nodes'],
  ['E11.9', 'Type 2 diabetes mellitus without complications'],
  ['R58', 'Hemorrhage, not elsewhere classified'],
  ['R10.9', 'Unspecified abdominal pain'],
  ['D64.9', 'Anemia, unspecified'],
  ['I96', 'Gangrene, not elsewhere classified'],
  ['R31.9', 'Hematuria, unspecified'],
  ['R63.4', 'Abnormal weight loss'],
  ['R51.9', 'Headache, unspecified'],
  ['B20', 'Human immunodeficiency virus [HIV] disease'],
  ['L53.9', 'Erythematous condition, unspecified'],
  ['N28.9', 'Disorder of kidney and ureter, unspecified'],
  ['R06.00', 'Dyspnea, unspecified'],
  ['T14.8XXA', 'Other injury of unspecified body region, initial encounter'],
  ['T14.90XA', 'Injury, unspecified, initial encounter'],
  ['D72.829', 'Elevated white blood cell count, unspecified'],
  ['R23.1', 'Pallor'],
  ['B19.20', 'Unspecified viral hepatitis C without hepatic coma'],
  ['F17.210', 'Nicotine dependence, cigarettes, uncomplicated'],
  ['L90.5', 'Scar conditions and fibrosis of skin'],
  ['N28.89', 'Other specified disorders of kidney and ureter'],
  ['L98.9', 'Disorder of the skin and subcutaneous tissue, unspecified'],
  ['R19.7', 'Diarrhea, unspecified'],
  ['M54.50', 'Low back pain, unspecified'],
  ['K65.9', 'Peritonitis, unspecified'],
  ['K75.9', 'Inflammatory liver disease, unspecified'],
  ['I82.90', 'Acute embolism and thrombosis of unspecified vein'],
  ['N18.9', 'Chronic kidney disease, unspecified'],
  ['R20.2', 'Paresthesia of skin'],
  ['E80.7', 'Disorder of bilirubin metabolism, unspecified'],
  ['R11.0', 'Nausea'],
  ['R63.0', 'Anorexia'],
  ['B19.10', 'Unspecified viral hepatitis B without hepatic coma'],
  ['F17.200', 'Nicotine dependence, unspecified, uncomplicated'],
  ['J18.9', 'Pneumonia, unspecified organism'],
  ['R80.9', 'Proteinuria, unspecified'],
  ['B25.9', 'Cytomegaloviral disease, unspecified'],
  ['I95.9', 'Hypotension, unspecified'],
  ['R05.9', 'Cough, unspecified'],
  ['R60.0', 'Localized edema'],
  ['C64.9', 'Malignant neoplasm of unspecified kidney, except renal pelvis'],
];

/** Tokenizer training text when the repository's synthetic case reports are not there. */
const FALLBACK_CORPUS = [
  'The patient is a 67-year-old man admitted with fever, productive cough and shortness of breath.',
  'Chest x-ray showed a right lower lobe infiltrate consistent with community-acquired pneumonia.',
  'Past medical history: hypertension, type 2 diabetes mellitus, hyperlipidemia and chronic kidney disease.',
  'Hospital course was complicated by acute kidney injury, which resolved with intravenous fluids.',
  'Medications on discharge: metformin 500 mg twice daily, lisinopril 10 mg daily, atorvastatin 40 mg at night.',
].join('\n');

/**
 * Seeded normal samples: uniforms from the tools' one generator (random.ts) through the
 * Box–Muller transform. Deterministic across runs and machines (only IEEE double arithmetic).
 */
export class SeededNormal {
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** Uniform in (0, 1): log(0) must never be drawn. */
  uniform(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return u;
  }

  /** Fills `out` with N(mean, std²) samples. */
  fill(out: Float32Array, std: number, mean = 0): Float32Array {
    let k = 0;
    if (this.spare !== undefined && out.length > 0) {
      out[k++] = mean + std * this.spare;
      this.spare = undefined;
    }
    for (; k < out.length; k += 2) {
      const r = Math.sqrt(-2 * Math.log(this.uniform()));
      const theta = 2 * Math.PI * this.uniform();
      out[k] = mean + std * r * Math.cos(theta);
      if (k + 1 < out.length) out[k + 1] = mean + std * r * Math.sin(theta);
      else this.spare = r * Math.sin(theta);
    }
    return out;
  }
}

/** Appends tensors to an external data file and says where each one is. */
class ExternalDataFile {
  private readonly fd: number;
  private offset = 0;

  constructor(
    dir: string,
    readonly location: string,
  ) {
    this.fd = openSync(path.join(dir, location), 'w');
  }

  get bytes(): number {
    return this.offset;
  }

  append(data: TensorData): ExternalDataRef {
    const bytes = littleEndianBytes(data);
    if (bytes.length >= ALIGN_FROM && this.offset % ALIGNMENT !== 0) {
      this.write(new Uint8Array(ALIGNMENT - (this.offset % ALIGNMENT)));
    }
    const ref = { location: this.location, offset: this.offset, length: bytes.length };
    this.write(bytes);
    return ref;
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done, this.offset + done);
    this.offset += bytes.length;
  }
}

/**
 * Asymmetric 8-bit quantisation per output column of a row-major `[rows, cols]` weight, as
 * quantize_dynamic does with weight_type QUInt8 and per_channel: the column's range (widened
 * to hold 0) maps onto 0..255, `w ≈ (q - zeroPoint) * scale`.
 */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): { q: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array } {
  const lo = new Float32Array(cols);
  const hi = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  const scales = new Float32Array(cols);
  const zeroPoints = new Uint8Array(cols);
  for (let c = 0; c < cols; c++) {
    scales[c] = hi[c] > lo[c] ? (hi[c] - lo[c]) / 255 : 1;
    zeroPoints[c] = Math.max(0, Math.min(255, Math.round(-lo[c] / scales[c])));
  }
  const q = new Uint8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      q[r * cols + c] = Math.max(0, Math.min(255, Math.round(w[r * cols + c] / scales[c]) + zeroPoints[c]));
    }
  }
  return { q, scales, zeroPoints };
}

/** Symmetric int8 quantisation of a whole tensor (one scale). */
function quantizePerTensor(w: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (let k = 0; k < w.length; k++) max = Math.max(max, Math.abs(w[k]));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(w.length);
  for (let k = 0; k < w.length; k++) q[k] = Math.max(-127, Math.min(127, Math.round(w[k] / scale)));
  return { q, scale: Math.fround(scale) };
}

/** Training text for the tokenizer: the repository's synthetic case reports and notes. */
function tokenizerCorpus(): string[] {
  const texts = [FALLBACK_CORPUS];
  const cases = path.join(PROJECT_ROOT, 'test', 'fixtures', 'train-slice', 'cases.jsonl');
  if (existsSync(cases)) {
    for (const line of readFileSync(cases, 'utf8').split('\n')) if (line.trim()) texts.push((JSON.parse(line) as { text: string }).text);
  }
  const notes = path.join(PROJECT_ROOT, 'test', 'fixtures', 'notes');
  if (existsSync(notes)) {
    for (const file of readdirSync(notes).sort()) if (file.endsWith('.txt')) texts.push(readFileSync(path.join(notes, file), 'utf8'));
  }
  // Every printable ASCII character, so no ASCII text maps to [UNK].
  texts.push(Array.from({ length: 95 }, (_, k) => String.fromCharCode(32 + k)).join(' '));
  return texts;
}

/**
 * A WordPiece vocabulary of exactly `size` tokens: trained on the corpus above (it runs out of
 * merges at a few thousand), then filled with never-produced `[unusedN]` entries, as BERT's
 * vocabulary has, so the embedding table has the requested number of rows.
 */
export function heavyVocab(size: number): string[] {
  const vocab = trainWordPiece(tokenizerCorpus(), { vocabSize: size, minFrequency: 2 });
  for (let k = 0; vocab.length < size; k++) vocab.push(`[unused${k}]`);
  return vocab;
}

function checkOptions(o: HeavyModelOptions): void {
  const positive = ['layers', 'hidden', 'heads', 'ffn', 'vocab', 'labels', 'maxLength'] as const;
  for (const key of positive) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new Error(`--${key} must be a positive integer, got ${o[key]}`);
  }
  if (o.hidden % o.heads !== 0) throw new Error(`--hidden ${o.hidden} is not a multiple of --heads ${o.heads}`);
  if (o.labels > LABELS.length) throw new Error(`--labels: at most ${LABELS.length}`);
  if (o.vocab < 200) throw new Error('--vocab: at least 200 (the alphabet alone needs about that)');
  if (o.maxLength < 8) throw new Error('--max-length: at least 8');
}

/** Number of weights of the model (biases and LayerNorm included). */
export function parameterCount(o: HeavyModelOptions): number {
  const D = o.hidden;
  const layer = 4 * (D * D + D) + (D * o.ffn + o.ffn) + (o.ffn * D + D) + 4 * D;
  return o.vocab * D + o.maxLength * D + o.layers * layer + 2 * D + D * o.labels + o.labels;
}

/**
 * Writes a complete bundle (model.onnx, model.onnx.data, tokenizer.json, labels.json,
 * config.json) into `dir`, replacing those files.
 * @param dir - bundle directory, created if needed
 * @param options - shape and variant
 */
export function generateHeavyModel(dir: string, options: HeavyModelOptions): HeavyModelSummary {
  checkOptions(options);
  const started = performance.now();
  const { layers, hidden: D, heads: H, ffn, labels: L, maxLength, int8, causal } = options;
  const headDim = D / H;
  mkdirSync(dir, { recursive: true });
  rmSync(path.join(dir, 'model.onnx'), { force: true });

  const vocab = heavyVocab(options.vocab);
  const V = vocab.length;
  const normal = new SeededNormal(options.seed);
  const data = new ExternalDataFile(dir, DATA_FILE);
  const g = new GraphBuilder(int8 ? 'heavy_transformer_classifier_int8' : 'heavy_transformer_classifier');
  let parameters = 0;

  const store = (name: string, values: TensorData, dims: number[]) => {
    if (values.byteLength < INLINE_BELOW) g.initializer(name, values, dims);
    else g.externalInitializer(name, ELEM_TYPE[values[Symbol.toStringTag]], dims, data.append(values));
  };
  /** A random weight (the generator is drawn in the same order for fp32 and int8). */
  const random = (count: number) => {
    parameters += count;
    return normal.fill(new Float32Array(count), INIT_STD);
  };
  const constant = (name: string, count: number, value: number) => {
    parameters += count;
    store(name, new Float32Array(count).fill(value), [count]);
  };
  const ints = (name: string, values: number[], dims = [values.length]) =>
    g.initializer(
      name,
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  const scalar = (name: string, value: number) => g.initializer(name, Float32Array.from([value]), []);

  /** `x · W + b` for `x [..., inDim]`; int8: quantize_dynamic's pattern. Returns the output name. */
  const linear = (x: string, name: string, inDim: number, outDim: number, bias: number | 'random' = 'random'): string => {
    const w = random(inDim * outDim);
    const product = `${name}/MatMul_output`;
    if (!int8) {
      store(`${name}.weight`, w, [inDim, outDim]);
      g.node('MatMul', [x, `${name}.weight`], [product], {}, `${name}/MatMul`);
    } else {
      const { q, scales, zeroPoints } = quantizePerColumn(w, inDim, outDim);
      store(`${name}.weight_quantized`, q, [inDim, outDim]);
      store(`${name}.weight_scale`, scales, [outDim]);
      store(`${name}.weight_zero_point`, zeroPoints, [outDim]);
      g.node('DynamicQuantizeLinear', [x], [`${name}/x_quantized`, `${name}/x_scale`, `${name}/x_zero_point`], {}, `${name}/DynamicQuantizeLinear`)
        .node('Mul', [`${name}/x_scale`, `${name}.weight_scale`], [`${name}/scale`], {}, `${name}/MulScales`)
        .node(
          'MatMulInteger',
          [`${name}/x_quantized`, `${name}.weight_quantized`, `${name}/x_zero_point`, `${name}.weight_zero_point`],
          [`${name}/MatMulInteger_output`],
          {},
          `${name}/MatMulInteger`,
        )
        .node('Cast', [`${name}/MatMulInteger_output`], [`${name}/Cast_output`], { to: attr.i(FLOAT) }, `${name}/Cast`)
        .node('Mul', [`${name}/Cast_output`, `${name}/scale`], [product], {}, `${name}/MulOutput`);
    }
    if (bias === 'random') store(`${name}.bias`, random(outDim), [outDim]);
    else constant(`${name}.bias`, outDim, bias);
    g.node('Add', [product, `${name}.bias`], [`${name}/output`], {}, `${name}/Add`);
    return `${name}/output`;
  };
  const layerNorm = (x: string, name: string): string => {
    constant(`${name}.weight`, D, 1);
    store(`${name}.bias`, random(D), [D]);
    g.node('LayerNormalization', [x, `${name}.weight`, `${name}.bias`], [`${name}/output`], { axis: attr.i(-1), epsilon: attr.f(LN_EPSILON) }, name);
    return `${name}/output`;
  };

  g.input('input_ids', 'int64', ['batch', 'sequence']).input('attention_mask', 'int64', ['batch', 'sequence']);
  ints('axes_0', [0]);
  ints('axes_1', [1]);
  ints('axes_1_2', [1, 2]);
  ints('heads_shape', [0, 0, H, headDim]);
  ints('hidden_shape', [0, 0, D]);
  ints('index_1', [1], []);
  ints('zero_i64', [0], []);
  ints('one_i64', [1], []);
  scalar('one', 1);
  scalar('masked', MASKED);
  scalar('embed_scale', Math.sqrt(D));
  scalar('query_scale', 1 / Math.sqrt(headDim));

  // Masks, computed once: [batch, 1, 1, sequence] for padding, plus [sequence, sequence] for
  // future positions when causal.
  g.node('Shape', ['input_ids'], ['ids_shape'])
    .node('Gather', ['ids_shape', 'index_1'], ['sequence_length'], { axis: attr.i(0) })
    .node('Range', ['zero_i64', 'sequence_length', 'one_i64'], ['positions'])
    .node('Unsqueeze', ['positions', 'axes_0'], ['key_positions'])
    .node('Cast', ['attention_mask'], ['mask_float'], { to: attr.i(FLOAT) })
    .node('Sub', ['one', 'mask_float'], ['padding'])
    .node('Mul', ['padding', 'masked'], ['padding_bias'])
    .node('Unsqueeze', ['padding_bias', 'axes_1_2'], ['padding_bias_4d']);
  let attentionBias = 'padding_bias_4d';
  if (causal) {
    g.node('Unsqueeze', ['positions', 'axes_1'], ['query_positions'])
      .node('Greater', ['key_positions', 'query_positions'], ['future'])
      .node('Cast', ['future'], ['future_float'], { to: attr.i(FLOAT) })
      .node('Mul', ['future_float', 'masked'], ['causal_bias'])
      .node('Add', ['padding_bias_4d', 'causal_bias'], ['attention_bias']);
    attentionBias = 'attention_bias';
  }

  // Embeddings.
  const tokenTable = random(V * D);
  if (!int8) {
    store('embed_tokens.weight', tokenTable, [V, D]);
    g.node('Gather', ['embed_tokens.weight', 'input_ids'], ['tokens'], { axis: attr.i(0) });
  } else {
    const { q, scale } = quantizePerTensor(tokenTable);
    store('embed_tokens.weight_quantized', q, [V, D]);
    scalar('embed_tokens.weight_scale', scale);
    g.initializer('embed_tokens.weight_zero_point', Int8Array.from([0]), []);
    g.node('Gather', ['embed_tokens.weight_quantized', 'input_ids'], ['tokens_quantized'], { axis: attr.i(0) }).node(
      'DequantizeLinear',
      ['tokens_quantized', 'embed_tokens.weight_scale', 'embed_tokens.weight_zero_point'],
      ['tokens'],
    );
  }
  store('embed_positions.weight', random(maxLength * D), [maxLength, D]);
  g.node('Mul', ['tokens', 'embed_scale'], ['tokens_scaled'])
    .node('Gather', ['embed_positions.weight', 'positions'], ['position_embeddings'], { axis: attr.i(0) })
    .node('Add', ['tokens_scaled', 'position_embeddings'], ['layers.0/input']);

  let h = 'layers.0/input';
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}`;
    const a = layerNorm(h, `${p}.self_attn_layer_norm`);
    const q = linear(a, `${p}.self_attn.q_proj`, D, D);
    const k = linear(a, `${p}.self_attn.k_proj`, D, D);
    const v = linear(a, `${p}.self_attn.v_proj`, D, D);
    g.node('Mul', [q, 'query_scale'], [`${p}/q_scaled`])
      .node('Reshape', [`${p}/q_scaled`, 'heads_shape'], [`${p}/q_heads`])
      .node('Transpose', [`${p}/q_heads`], [`${p}/q_t`], { perm: attr.ints([0, 2, 1, 3]) })
      .node('Reshape', [k, 'heads_shape'], [`${p}/k_heads`])
      .node('Transpose', [`${p}/k_heads`], [`${p}/k_t`], { perm: attr.ints([0, 2, 3, 1]) })
      .node('Reshape', [v, 'heads_shape'], [`${p}/v_heads`])
      .node('Transpose', [`${p}/v_heads`], [`${p}/v_t`], { perm: attr.ints([0, 2, 1, 3]) })
      .node('MatMul', [`${p}/q_t`, `${p}/k_t`], [`${p}/scores`])
      .node('Add', [`${p}/scores`, attentionBias], [`${p}/scores_masked`])
      .node('Softmax', [`${p}/scores_masked`], [`${p}/attention`], { axis: attr.i(-1) })
      .node('MatMul', [`${p}/attention`, `${p}/v_t`], [`${p}/context_heads`])
      .node('Transpose', [`${p}/context_heads`], [`${p}/context_t`], { perm: attr.ints([0, 2, 1, 3]) })
      .node('Reshape', [`${p}/context_t`, 'hidden_shape'], [`${p}/context`]);
    const o = linear(`${p}/context`, `${p}.self_attn.out_proj`, D, D);
    g.node('Add', [h, o], [`${p}/attention_residual`]);
    const f = layerNorm(`${p}/attention_residual`, `${p}.final_layer_norm`);
    const up = linear(f, `${p}.fc1`, D, ffn);
    g.node('Gelu', [up], [`${p}/gelu`]);
    const down = linear(`${p}/gelu`, `${p}.fc2`, ffn, D);
    g.node('Add', [`${p}/attention_residual`, down], [`layers.${l + 1}/input`]);
    h = `layers.${l + 1}/input`;
  }

  // The last non-pad token of each row (windows are right-padded): a one-hot row times the
  // hidden states, then the final LayerNorm and the classifier.
  g.node('ReduceSum', ['attention_mask', 'axes_1'], ['lengths'], { keepdims: attr.i(1) })
    .node('Sub', ['lengths', 'one_i64'], ['last_position'])
    .node('Equal', ['key_positions', 'last_position'], ['is_last'])
    .node('Cast', ['is_last'], ['is_last_float'], { to: attr.i(FLOAT) })
    .node('Unsqueeze', ['is_last_float', 'axes_1'], ['pick_last'])
    .node('MatMul', ['pick_last', h], ['last_hidden_3d'])
    .node('Squeeze', ['last_hidden_3d', 'axes_1'], ['last_hidden']);
  const pooled = layerNorm('last_hidden', 'layer_norm');
  // A negative bias puts the threshold (0.4) about 1.3 standard deviations above the mean
  // logit, so a few codes per note pass it rather than half of them.
  const logitStd = INIT_STD * Math.sqrt(D);
  const score = linear(pooled, 'score', D, L, Math.log(0.4 / 0.6) - 1.3 * logitStd);
  g.node('Identity', [score], ['logits']).output('logits', 'float32', ['batch', L]);
  data.close();

  const size = `${layers} layers, hidden ${D}, ${H} heads, FFN ${ffn}, vocab ${V}, ${maxLength} positions, ${L} labels`;
  const model = encodeModel(g, {
    opset: 20,
    irVersion: 9,
    producerName: 'icd10-cds generate-heavy-model',
    docString: `Random-weight ${causal ? 'causal' : 'bidirectional'} transformer classifier (${size})${int8 ? ', int8 weights (dynamic quantisation)' : ''}, for latency measurement only.`,
    metadata: { options: JSON.stringify(options), parameters: String(parameters) },
  });
  writeFileSync(path.join(dir, 'model.onnx'), model);

  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const labels: Label[] = LABELS.slice(0, L).map(([code, display]) => ({ code, display }));
  const overlap = options.overlap ?? (maxLength === 1024 ? 124 : Math.floor(maxLength / 8));
  const config: BundleConfig = {
    name: `icd10-cds-heavy-random${int8 ? '-int8' : ''}`,
    version: '1.0.0',
    description: `RANDOM WEIGHTS, for latency and memory measurement only: a BioGPT-shaped transformer classifier (${size}; ${parameters.toLocaleString('en-US')} parameters${int8 ? '; int8 weights' : ''}) generated by npm run generate:heavy-model with seed ${options.seed}. Its scores mean nothing.`,
    clinicallyMeaningful: false,
    codeSystemVersion: '2023',
    window: { maxLength, overlap },
    batchSize: 1,
    pooling: 'max',
    thresholds: { global: 0.4 },
    metrics: { note: 'none: random weights, not trained' },
  };
  writeFileSync(path.join(dir, 'tokenizer.json'), json(wordPieceTokenizerJson(vocab)));
  writeFileSync(path.join(dir, 'labels.json'), json(labels));
  writeFileSync(path.join(dir, 'config.json'), json(config));
  return {
    dir,
    parameters,
    graphBytes: model.byteLength,
    dataBytes: data.bytes,
    vocab: V,
    seconds: (performance.now() - started) / 1000,
  };
}

const FLOAT = 1; // TensorProto.DataType FLOAT, for Cast
const ELEM_TYPE: Readonly<Record<string, 'float32' | 'int8' | 'uint8' | 'int32' | 'int64'>> = {
  Float32Array: 'float32',
  Int8Array: 'int8',
  Uint8Array: 'uint8',
  Int32Array: 'int32',
  BigInt64Array: 'int64',
};

/**
 * A note that fills exactly one window: the test discharge summary repeated, cut to the
 * window's note tokens, then topped up with one-token "." words.
 * @returns undefined when no such text is found (a tokenizer that merges "." with neighbours)
 */
export function oneWindowNote(tokenizer: NoteTokenizer, maxLength: number, source?: string): string | undefined {
  const content = maxLength - tokenizer.prefixIds.length - tokenizer.suffixIds.length;
  const text = source ?? readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'notes', 'discharge-summary.txt'), 'utf8');
  const count = (words: number) => tokenizer.encode(noteOfWords(text, words)).ids.length;
  let lo = 0;
  let hi = Math.max(1, content);
  while (count(hi) <= content) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (count(mid) <= content) lo = mid;
    else hi = mid;
  }
  let note = noteOfWords(text, lo);
  for (let n = count(lo); n < content; n++) note += ' .';
  return tokenizer.encode(note).ids.length === content ? note : undefined;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const mib = (bytes: number) => round(bytes / 2 ** 20, bytes < 10 * 2 ** 20 ? 1 : 0);

/** Peak and current resident set size of this process, in bytes (Linux; else current only). */
function residentSet(): { rss: number; peak?: number } {
  const rss = process.memoryUsage().rss;
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return { rss, peak: hwm ? Number(hwm[1]) * 1024 : undefined };
  } catch {
    return { rss };
  }
}

interface BenchResult {
  dir: string;
  model: string;
  window: { maxLength: number; tokens: number; windows: number };
  threads: number;
  runs: number;
  loadMs: number;
  windowMs: { p50: number; p95: number; min: number; max: number; mean: number; all: number[] };
  rssMiB: { afterLoad: number; peak?: number };
  logits: number[];
}

/** Measures one bundle in this process (see the file's doc comment). */
async function benchOne(dir: string, runs: number, threads: number): Promise<BenchResult> {
  const loadStarted = performance.now();
  const classifier = await createClassifier(dir, { intraOpThreads: threads });
  const loadMs = performance.now() - loadStarted;
  const afterLoad = residentSet().rss;
  const tokenizer = createNoteTokenizer(JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')));
  const note = oneWindowNote(tokenizer, classifier.info.maxLength);
  if (!note) throw new Error(`${dir}: could not build a note that fills exactly one window`);
  const first = await classifier.classify(note); // warm-up
  if (first.windowCount !== 1) throw new Error(`${dir}: the note takes ${first.windowCount} windows, expected 1`);
  if (first.logits.some((x) => !Number.isFinite(x))) throw new Error(`${dir}: non-finite logits`);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    await classifier.classify(note);
    times.push(performance.now() - started);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const memory = residentSet();
  await classifier.dispose();
  return {
    dir,
    model: `${classifier.info.name} ${classifier.info.version}`,
    window: { maxLength: classifier.info.maxLength, tokens: first.tokenCount, windows: first.windowCount },
    threads,
    runs,
    loadMs: round(loadMs, 0),
    windowMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      min: round(sorted[0]),
      max: round(sorted[sorted.length - 1]),
      mean: round(times.reduce((a, b) => a + b, 0) / times.length),
      all: times.map((t) => round(t)),
    },
    rssMiB: { afterLoad: mib(afterLoad), peak: memory.peak === undefined ? undefined : mib(memory.peak) },
    logits: Array.from(first.logits),
  };
}

/** Runs benchOne for `dir` in a child process of this script and returns its result. */
function benchInChild(dir: string, runs: number, threads: number): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--bench-one', dir, '--runs', String(runs), '--threads', String(threads)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: BenchResult | undefined;
    child.on('message', (message) => (result = message as BenchResult));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`benchmark of ${dir} failed (exit code ${code}${signal ? `, signal ${signal}` : ''})`));
    });
  });
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be an integer, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      heads: { type: 'string' },
      ffn: { type: 'string' },
      vocab: { type: 'string' },
      labels: { type: 'string' },
      'max-length': { type: 'string' },
      overlap: { type: 'string' },
      seed: { type: 'string' },
      int8: { type: 'boolean', default: false },
      bidirectional: { type: 'boolean', default: false },
      'no-check': { type: 'boolean', default: false },
      bench: { type: 'string', multiple: true },
      'bench-one': { type: 'string' },
      runs: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
    },
  });
  const runs = integer(values.runs, 'runs')!;
  const threads = integer(values.threads, 'threads')!;

  if (values['bench-one']) {
    const result = await benchOne(values['bench-one'], runs, threads);
    process.send!(result);
    return;
  }
  if (values.bench?.length) {
    const results: BenchResult[] = [];
    for (const dir of values.bench) {
      console.error(`benchmarking ${dir} (${runs} runs, ${threads} threads)…`);
      results.push(await benchInChild(dir, runs, threads));
    }
    const reference = results[0].logits;
    const report = results.map(({ logits, ...rest }, k) => ({
      ...rest,
      ...(k > 0 && { maxAbsLogitDiffFromFirst: Number(Math.max(...logits.map((x, i) => Math.abs(x - reference[i]))).toPrecision(3)) }),
      logitRange: [round(Math.min(...logits), 3), round(Math.max(...logits), 3)],
    }));
    const load = os.loadavg().map((x) => round(x, 2));
    console.log(
      JSON.stringify(
        {
          results: report,
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), loadAverage: load, node: process.version },
        },
        null,
        2,
      ),
    );
    return;
  }

  const int8 = values.int8 ?? false;
  const options: HeavyModelOptions = {
    layers: integer(values.layers, 'layers') ?? BIOGPT_SIZE.layers,
    hidden: integer(values.hidden, 'hidden') ?? BIOGPT_SIZE.hidden,
    heads: integer(values.heads, 'heads') ?? BIOGPT_SIZE.heads,
    ffn: integer(values.ffn, 'ffn') ?? BIOGPT_SIZE.ffn,
    vocab: integer(values.vocab, 'vocab') ?? BIOGPT_SIZE.vocab,
    labels: integer(values.labels, 'labels') ?? BIOGPT_SIZE.labels,
    maxLength: integer(values['max-length'], 'max-length') ?? BIOGPT_SIZE.maxLength,
    overlap: integer(values.overlap, 'overlap'),
    seed: integer(values.seed, 'seed') ?? BIOGPT_SIZE.seed,
    int8,
    causal: !values.bidirectional,
  };
  const dir = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'models', int8 ? 'heavy-int8' : 'heavy'));
  console.error(`generating ${parameterCount(options).toLocaleString('en-US')} parameters${int8 ? ' (int8)' : ''} into ${dir}…`);
  const summary = generateHeavyModel(dir, options);
  console.error(
    `wrote ${dir}: ${summary.parameters.toLocaleString('en-US')} parameters, model.onnx ${mib(summary.graphBytes)} MiB + ${DATA_FILE} ${mib(summary.dataBytes)} MiB, vocab ${summary.vocab}, in ${round(summary.seconds)} s`,
  );
  if (!values['no-check']) {
    // The service's own loader is the check: contract, tokenizer, labels, probe inference.
    const started = performance.now();
    const classifier = await createClassifier(dir, { intraOpThreads: threads });
    const loaded = performance.now() - started;
    const result = await classifier.classify('Chest x-ray showed a right lower lobe infiltrate consistent with pneumonia.');
    await classifier.dispose();
    if (result.logits.some((x) => !Number.isFinite(x))) throw new Error('the model gives non-finite logits');
    console.error(
      `checked: createClassifier loads it in ${round(loaded / 1000)} s; logits finite, in [${round(Math.min(...result.logits), 3)}, ${round(Math.max(...result.logits), 3)}]`,
    );
  }
}

runCommand(module, 'generate:heavy-model', main);

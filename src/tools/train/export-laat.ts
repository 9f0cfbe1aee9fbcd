/**
 * Builds model.onnx of the label-wise attention classifier from the weights laat.py writes.
 *
 * The graph mirrors laat.py's forward pass (see its docstring) and fits the bundle contract:
 * inputs `input_ids`, `attention_mask` (int32), outputs `logits` [batch, labels] and
 * `token_scores` [batch, sequence, labels] (exact token contributions to the logit).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { attr, encodeModel, GraphBuilder } from '../onnx/builder';

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

export interface LaatWeights {
  tensors: Map<string, { data: Float32Array; shape: number[] }>;
  manifest: { hyperParameters: Record<string, number>; [key: string]: unknown };
}

/** Reads weights.json + weights.bin from a directory written by laat.py. */
export function readLaatWeights(dir: string): LaatWeights {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'weights.json'), 'utf8'));
  const bytes = readFileSync(path.join(dir, 'weights.bin'));
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const entry of manifest.tensors as TensorEntry[]) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    // Copy into an aligned buffer: the Buffer's own offset need not be a multiple of 4.
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(bytes.subarray(entry.offset, entry.offset + count * 4));
    tensors.set(entry.name, { data, shape: entry.shape });
  }
  return { tensors, manifest };
}

/**
 * @param weights - from readLaatWeights
 * @param docString - stored in the model file
 */
export function laatToOnnx(weights: LaatWeights, docString: string): Uint8Array {
  const t = (name: string) => {
    const tensor = weights.tensors.get(name);
    if (!tensor) throw new Error(`weights lack "${name}"`);
    return tensor;
  };
  const conv = t('conv_weight');
  const labels = t('output_b').shape[0];
  const kernel = conv.shape[2];
  const pad = Math.floor(kernel / 2);

  const g = new GraphBuilder('laat_icd10cm').input('input_ids', 'int32', ['batch', 'sequence']).input('attention_mask', 'int32', ['batch', 'sequence']);
  for (const name of ['embedding', 'conv_weight', 'conv_bias', 'attention_w', 'attention_u', 'output_v', 'output_b']) {
    g.initializer(name, t(name).data, t(name).shape);
  }
  g.initializer('axis_1', BigInt64Array.from([1n]), [1])
    .initializer('axis_2', BigInt64Array.from([2n]), [1])
    .initializer('one', Float32Array.from([1]), [])
    .initializer('masked', Float32Array.from([-1e4]), [])
    .node('Gather', ['embedding', 'input_ids'], ['embedded'])
    .node('Transpose', ['embedded'], ['embedded_t'], { perm: attr.ints([0, 2, 1]) })
    .node('Conv', ['embedded_t', 'conv_weight', 'conv_bias'], ['conv_out'], { pads: attr.ints([pad, pad]), kernel_shape: attr.ints([kernel]) })
    .node('Tanh', ['conv_out'], ['hidden_t'])
    .node('Transpose', ['hidden_t'], ['hidden'], { perm: attr.ints([0, 2, 1]) })
    .node('MatMul', ['hidden', 'attention_w'], ['attention_pre'])
    .node('Tanh', ['attention_pre'], ['attention_z'])
    .node('MatMul', ['attention_z', 'attention_u'], ['attention_scores'])
    // Padding gets -1e4 before the softmax over tokens, as in training (masked_fill).
    .node('Cast', ['attention_mask'], ['mask_f'], { to: attr.i(1) })
    .node('Unsqueeze', ['mask_f', 'axis_2'], ['mask_3d'])
    .node('Sub', ['one', 'mask_3d'], ['inverse_mask'])
    .node('Mul', ['inverse_mask', 'masked'], ['mask_penalty'])
    .node('Add', ['attention_scores', 'mask_penalty'], ['attention_masked'])
    .node('Softmax', ['attention_masked'], ['attention'], { axis: attr.i(1) })
    .node('MatMul', ['hidden', 'output_v'], ['projection'])
    .node('Mul', ['attention', 'projection'], ['weighted'])
    .node('Mul', ['weighted', 'mask_3d'], ['token_scores'])
    .node('ReduceSum', ['token_scores', 'axis_1'], ['summed'], { keepdims: attr.i(0) })
    .node('Add', ['summed', 'output_b'], ['logits'])
    .output('logits', 'float32', ['batch', labels])
    .output('token_scores', 'float32', ['batch', 'sequence', labels]);
  return encodeModel(g, { opset: 17, producerName: 'icd10-cds train', docString });
}

/**
 * The only importer of onnxruntime-node.
 *
 * Opens the bundle's model.onnx, checks it against the model contract (inputs `input_ids`
 * and `attention_mask`, output `logits` [batch, labels], optional `token_scores`
 * [batch, sequence, labels]) and runs batches. Tensors never leave this file.
 */
import * as ort from 'onnxruntime-node';

/** Name of the optional per-token output used for evidence. */
export const TOKEN_SCORES_OUTPUT = 'token_scores';
const REQUIRED_INPUTS = ['input_ids', 'attention_mask'];
// BERT-family exports also take segment ids; a single-segment note feeds zeros.
const OPTIONAL_INPUTS = ['token_type_ids'];
const INTEGER_TYPES = ['int32', 'int64'];

export interface SessionOutput {
  /** Row-major `[batch, labels]`. */
  logits: Float32Array;
  labels: number;
  /** Row-major `[batch, seqLen, labels]`, when the model has the output. */
  tokenScores?: Float32Array;
}

export interface ModelSession {
  readonly hasTokenScores: boolean;
  run(ids: Int32Array, mask: Int32Array, batch: number, seqLen: number): Promise<SessionOutput>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Threads for one inference (0: onnxruntime's default, one per core). */
  intraOpThreads: number;
}

/**
 * Opens a model and checks its inputs and outputs.
 * @param modelPath - path of model.onnx
 * @param options - thread settings
 * @throws Error naming the missing or unexpected input/output
 */
export async function openSession(modelPath: string, options: SessionOptions): Promise<ModelSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      // onnxruntime's pool threads spin after each run by default, holding a core while this
      // thread tokenizes the next note: on two cores that made tokenizing ~70% slower.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  } catch (error) {
    throw new Error(`model.onnx could not be loaded by onnxruntime: ${(error as Error).message}`, { cause: error });
  }

  const inputTypes = new Map<string, string>();
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`model input "${meta.name}" is not a tensor`);
    inputTypes.set(meta.name, meta.type);
  }
  const problems: string[] = [];
  for (const name of REQUIRED_INPUTS) {
    const type = inputTypes.get(name);
    if (!type) problems.push(`missing input "${name}"`);
    else if (!INTEGER_TYPES.includes(type)) problems.push(`input "${name}" is ${type}, expected int32 or int64`);
  }
  for (const [name, type] of inputTypes) {
    if (!REQUIRED_INPUTS.includes(name) && !OPTIONAL_INPUTS.includes(name)) {
      problems.push(`unexpected input "${name}" (the contract feeds only ${[...REQUIRED_INPUTS, ...OPTIONAL_INPUTS].join(', ')})`);
    } else if (OPTIONAL_INPUTS.includes(name) && !INTEGER_TYPES.includes(type)) {
      problems.push(`input "${name}" is ${type}, expected int32 or int64`);
    }
  }
  const outputTypes = new Map(session.outputMetadata.map((m) => [m.name, m.isTensor ? m.type : 'non-tensor']));
  if (!outputTypes.has('logits')) problems.push(`missing output "logits" (outputs: ${[...outputTypes.keys()].join(', ')})`);
  for (const name of ['logits', TOKEN_SCORES_OUTPUT]) {
    const type = outputTypes.get(name);
    if (type && type !== 'float32') problems.push(`output "${name}" is ${type}, expected float32`);
  }
  if (problems.length > 0) {
    await session.release();
    throw new Error(`model.onnx does not fit the model contract: ${problems.join('; ')}`);
  }

  const hasTokenScores = outputTypes.has(TOKEN_SCORES_OUTPUT);
  const fetches = hasTokenScores ? ['logits', TOKEN_SCORES_OUTPUT] : ['logits'];
  const tensorOf = (name: string, data: Int32Array, dims: number[]) =>
    inputTypes.get(name) === 'int64'
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from(data, (v) => BigInt(v)),
          dims,
        )
      : new ort.Tensor('int32', data, dims);

  return {
    hasTokenScores,
    async run(ids, mask, batch, seqLen) {
      const dims = [batch, seqLen];
      const feeds: Record<string, ort.Tensor> = {
        input_ids: tensorOf('input_ids', ids, dims),
        attention_mask: tensorOf('attention_mask', mask, dims),
      };
      if (inputTypes.has('token_type_ids')) {
        feeds.token_type_ids = tensorOf('token_type_ids', new Int32Array(ids.length), dims);
      }
      const out = await session.run(feeds, fetches);
      const logits = out.logits;
      if (logits.dims.length !== 2 || logits.dims[0] !== batch) {
        throw new Error(`output "logits" has shape [${logits.dims.join(', ')}], expected [${batch}, labels]`);
      }
      const labels = logits.dims[1];
      const result: SessionOutput = { logits: logits.data as Float32Array, labels };
      const scores = out[TOKEN_SCORES_OUTPUT];
      if (scores) {
        const expected = [batch, seqLen, labels];
        if (scores.dims.join() !== expected.join()) {
          throw new Error(`output "${TOKEN_SCORES_OUTPUT}" has shape [${scores.dims.join(', ')}], expected [${expected.join(', ')}]`);
        }
        result.tokenScores = scores.data as Float32Array;
      }
      return result;
    },
    release: () => session.release(),
  };
}

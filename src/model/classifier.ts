/**
 * The model stage's entry: createClassifier(dir) → classify(text).
 *
 * Loads a bundle once at start-up (tokenizer, onnxruntime session and labels in parallel),
 * checks that they fit together with a probe inference, and then classifies notes:
 * tokenize with offsets → windows → batches → onnxruntime → pooled probabilities.
 * Imports no HTTP, FHIR or CDS code.
 */
import { readBundle } from './bundle';
import { poolLogits, selectPredictions, sigmoid } from './postprocess';
import { openSession } from './session';
import { createNoteTokenizer } from './tokenizer';
import type { Classification, Classifier } from './types';
import { buildBatches, planWindows } from './windows';

export interface ClassifierOptions {
  /** onnxruntime intra-op threads (0: one per core). */
  intraOpThreads: number;
}

/**
 * Loads and checks a model bundle.
 * @param dir - bundle directory (model.onnx, tokenizer.json, labels.json, config.json)
 * @param options - runtime settings
 * @throws Error naming the problem when the files do not fit the model contract
 */
export async function createClassifier(dir: string, options: ClassifierOptions): Promise<Classifier> {
  const bundle = await readBundle(dir);
  const { config, labels } = bundle;
  const tokenizer = createNoteTokenizer(bundle.tokenizerJson);
  const session = await openSession(bundle.modelPath, { intraOpThreads: options.intraOpThreads });

  const padId = config.padTokenId ?? tokenizer.padId;
  const specialCount = tokenizer.prefixIds.length + tokenizer.suffixIds.length;
  const contentLength = config.window.maxLength - specialCount;
  const problems: string[] = [];
  if (padId === undefined) problems.push('the tokenizer names no pad token: set "padTokenId" in config.json');
  if (contentLength <= config.window.overlap) {
    problems.push(`window.maxLength ${config.window.maxLength} leaves ${contentLength} note tokens after ${specialCount} special tokens, not more than window.overlap ${config.window.overlap}`);
  }
  if (problems.length > 0) {
    await session.release();
    throw new Error(`model bundle ${dir} is invalid: ${problems.join('; ')}`);
  }
  const special = { prefixIds: tokenizer.prefixIds, suffixIds: tokenizer.suffixIds, padId: padId as number };
  const L = labels.length;

  async function classify(text: string): Promise<Classification> {
    const tokens = tokenizer.encode(text);
    const n = tokens.ids.length;
    const windows = planWindows(n, contentLength, config.window.overlap);
    const windowLogits = new Float32Array(windows.length * L);
    let tokenScores: Float32Array | undefined;
    let w = 0;
    for (const batch of buildBatches(tokens.ids, windows, config.batchSize, special)) {
      const out = await session.run(batch.ids, batch.mask, batch.windows.length, batch.seqLen);
      if (out.labels !== L) {
        throw new Error(`model gives ${out.labels} logits per window but labels.json has ${L} labels`);
      }
      windowLogits.set(out.logits, w * L);
      if (out.tokenScores) {
        tokenScores ??= new Float32Array(n * L).fill(-Infinity);
        batch.windows.forEach((win, row) => {
          for (let t = win.start; t < win.end; t++) {
            const from = (row * batch.seqLen + batch.contentOffset + t - win.start) * L;
            for (let l = 0; l < L; l++) {
              const v = out.tokenScores![from + l];
              if (v > tokenScores![t * L + l]) tokenScores![t * L + l] = v;
            }
          }
        });
      }
      w += batch.windows.length;
    }
    const pooled = poolLogits(windowLogits, L, config.pooling);
    return {
      probabilities: pooled.map(sigmoid),
      tokenCount: n,
      tokenOffsets: tokens.offsets,
      tokenScores,
      windowCount: windows.length,
      unalignedTokens: tokens.unaligned,
    };
  }

  // Probe: one short window must give one logit per label (and token scores of the right
  // shape). Catches a labels.json that does not belong to the model before serving.
  try {
    const probe = await classify('probe');
    if (probe.probabilities.some((p) => Number.isNaN(p))) throw new Error('model gives NaN logits');
  } catch (error) {
    await session.release();
    throw new Error(`model bundle ${dir} failed its probe inference: ${(error as Error).message}`);
  }

  return {
    info: {
      name: config.name,
      version: config.version,
      clinicallyMeaningful: config.clinicallyMeaningful,
      codeSystemVersion: config.codeSystemVersion,
      labels,
      hasTokenScores: session.hasTokenScores,
      maxLength: config.window.maxLength,
      overlap: config.window.overlap,
      thresholds: config.thresholds,
    },
    classify,
    predictionsOf: (classification) => selectPredictions(classification.probabilities, labels, config.thresholds),
    dispose: () => session.release(),
  };
}

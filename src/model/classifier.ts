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
import { buildBatches, planWindows, type TokenWindow } from './windows';

export interface ClassifierOptions {
  /** onnxruntime intra-op threads (0: one per core). */
  intraOpThreads: number;
  /** Words the tokenizer remembers (tokenizer.ts; default DEFAULT_WORD_CACHE_SIZE, 0: none). */
  wordCacheSize?: number;
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
  const tokenizer = createNoteTokenizer(bundle.tokenizerJson, { wordCacheSize: options.wordCacheSize });
  const session = await openSession(bundle.modelPath, { intraOpThreads: options.intraOpThreads });

  const padId = config.padTokenId ?? tokenizer.padId;
  const specialCount = tokenizer.prefixIds.length + tokenizer.suffixIds.length;
  const contentLength = config.window.maxLength - specialCount;
  const problems: string[] = [];
  if (padId === undefined) problems.push('the tokenizer names no pad token: set "padTokenId" in config.json');
  if (contentLength <= config.window.overlap) {
    problems.push(
      `window.maxLength ${config.window.maxLength} leaves ${contentLength} note tokens after ${specialCount} special tokens, not more than window.overlap ${config.window.overlap}`,
    );
  }
  if (problems.length > 0) {
    await session.release();
    throw new Error(`model bundle ${dir} is invalid: ${problems.join('; ')}`);
  }
  const special = { prefixIds: tokenizer.prefixIds, suffixIds: tokenizer.suffixIds, padId: padId as number };
  const L = labels.length;

  /**
   * Logits `[windows, labels]` of windows over `ids`, run in batches; with `tokenScores`
   * (`[ids.length, labels]`, filled with -Infinity), also keeps each token's highest score over
   * the windows holding it.
   */
  async function runWindows(ids: Int32Array, windows: TokenWindow[], tokenScores?: Float32Array): Promise<Float32Array> {
    const windowLogits = new Float32Array(windows.length * L);
    let w = 0;
    for (const batch of buildBatches(ids, windows, config.batchSize, special)) {
      const out = await session.run(batch.ids, batch.mask, batch.windows.length, batch.seqLen);
      if (out.labels !== L) {
        throw new Error(`model gives ${out.labels} logits per window but labels.json has ${L} labels`);
      }
      windowLogits.set(out.logits, w * L);
      if (tokenScores && out.tokenScores) {
        batch.windows.forEach((win, row) => {
          for (let t = win.start; t < win.end; t++) {
            const from = (row * batch.seqLen + batch.contentOffset + t - win.start) * L;
            for (let l = 0; l < L; l++) {
              const v = out.tokenScores![from + l];
              if (v > tokenScores[t * L + l]) tokenScores[t * L + l] = v;
            }
          }
        });
      }
      w += batch.windows.length;
    }
    return windowLogits;
  }

  async function classify(text: string): Promise<Classification> {
    const started = performance.now();
    const tokens = tokenizer.encode(text);
    const tokenized = performance.now();
    const n = tokens.ids.length;
    const windows = planWindows(n, contentLength, config.window.overlap);
    const tokenScores = session.hasTokenScores ? new Float32Array(n * L).fill(-Infinity) : undefined;
    const windowLogits = await runWindows(tokens.ids, windows, tokenScores);
    const logits = poolLogits(windowLogits, L, config.pooling);
    return {
      probabilities: logits.map(sigmoid),
      logits,
      tokenCount: n,
      tokenOffsets: tokens.offsets,
      tokenScores,
      windowCount: windows.length,
      windows,
      windowLogits,
      unalignedTokens: tokens.unaligned,
      timings: { tokenizeMs: tokenized - started, inferMs: performance.now() - tokenized },
    };
  }

  // Deleting tokens, rather than replacing them with the pad id or masking them with
  // attention 0, is what blanking the text and classifying it again does (the tokenizer drops
  // white space), and it relies on no model's handling of padding: HF sequence classifiers
  // for GPT-style models (BioGPT) pool at the token before the first pad id, and a graph may
  // ignore attention_mask on some path. Windows keep their token boundaries, so only the
  // windows holding the deleted tokens are run again.
  async function windowLogitsWithout(text: string, classification: Classification, deletions: readonly (readonly TokenWindow[])[]): Promise<Float32Array[]> {
    const { ids } = tokenizer.encode(text);
    if (ids.length !== classification.tokenCount) throw new Error('windowLogitsWithout: the text is not the classified note');
    const { windows, windowLogits } = classification;
    // The shortened windows of every deletion, laid end to end in `kept` so that one run
    // batches them all; an emptied window is run as the window of an empty note.
    const kept: number[] = [];
    const shortened: TokenWindow[] = [];
    const rows: { deletion: number; window: number }[] = [];
    deletions.forEach((ranges, deletion) =>
      windows.forEach((win, window) => {
        if (!ranges.some((r) => r.start < win.end && r.end > win.start)) return;
        const start = kept.length;
        for (let t = win.start; t < win.end; t++) if (!ranges.some((r) => t >= r.start && t < r.end)) kept.push(ids[t]);
        shortened.push({ start, end: kept.length });
        rows.push({ deletion, window });
      }),
    );
    const rowLogits = await runWindows(Int32Array.from(kept), shortened);
    const results = deletions.map(() => windowLogits.slice());
    rows.forEach(({ deletion, window }, row) => results[deletion].set(rowLogits.subarray(row * L, (row + 1) * L), window * L));
    return results;
  }

  // Probe: one short window must give one logit per label (and token scores of the right
  // shape). Catches a labels.json that does not belong to the model before serving.
  try {
    const probe = await classify('probe');
    if (probe.probabilities.some((p) => Number.isNaN(p))) throw new Error('model gives NaN logits');
  } catch (error) {
    await session.release();
    throw new Error(`model bundle ${dir} failed its probe inference: ${(error as Error).message}`, { cause: error });
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
      pooling: config.pooling,
      thresholds: config.thresholds,
    },
    classify,
    predictionsOf: (classification) => selectPredictions(classification.probabilities, labels, config.thresholds),
    windowLogitsWithout,
    dispose: () => session.release(),
  };
}

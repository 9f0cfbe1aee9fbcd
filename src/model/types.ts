/**
 * What the rest of the service sees of a model: no tensors, no tokenizer objects.
 */
import type { Label, Pooling } from './bundle';
import type { TokenWindow } from './windows';

export type { Label } from './bundle';

/** Identity and shape of the loaded model, for cards, Provenance, health and logs. */
export interface ModelInfo {
  name: string;
  version: string;
  clinicallyMeaningful: boolean;
  codeSystemVersion?: string;
  labels: readonly Label[];
  /** True when the model gives per-token scores (used for evidence). */
  hasTokenScores: boolean;
  maxLength: number;
  overlap: number;
  /** How window logits become the note's logit (`max`: the strongest window decides). */
  pooling: Pooling;
  /** Decision thresholds (probability), global and per code. */
  thresholds: { global: number; perCode?: Record<string, number> };
  /** The coding engine the model serves in (set by engine/load-engine.ts). */
  engine?: {
    mode: 'index' | 'model' | 'both';
    codeSet?: { version: string; effective: { from: string; to: string } };
    ranker?: { name: string; version: string };
  };
}

/** Scores of one note. */
export interface Classification {
  /** Probability per label (sigmoid of the pooled logit), in label order. */
  probabilities: Float32Array;
  /** The pooled logit per label, before the sigmoid (kept because the sigmoid saturates). */
  logits: Float32Array;
  /** Number of note tokens and their UTF-16 offsets `[start, end)` into the note text. */
  tokenCount: number;
  tokenOffsets: Int32Array;
  /** Per-token score per label `[tokenCount, labels]`, the maximum over the windows holding
   * the token; absent when the model has no token_scores output. */
  tokenScores?: Float32Array;
  windowCount: number;
  /** Note tokens `[start, end)` of each window, and each window's logits `[windowCount, labels]`. */
  windows: readonly TokenWindow[];
  windowLogits: Float32Array;
  /** Tokens whose offsets could not be recovered (expected 0). */
  unalignedTokens: number;
  /** Where classify spent its time, in ms: tokenizing (with offsets) and running the windows. */
  timings?: { tokenizeMs: number; inferMs: number };
}

/** A label whose probability reached its threshold. */
export interface Prediction {
  index: number;
  code: string;
  display: string;
  score: number;
  threshold: number;
}

export interface Classifier {
  readonly info: ModelInfo;
  classify(text: string): Promise<Classification>;
  /** Codes at or above their threshold, most probable first. */
  predictionsOf(classification: Classification): Prediction[];
  /**
   * Window logits `[windowCount, labels]` of the note with tokens deleted, once per deletion:
   * each deletion is a set of note-token ranges, removed from the windows that hold them. Only
   * those windows are run again; the others keep their logits from `classification`.
   * @param text - the note `classification` was computed from
   * @param classification - classify(text)
   * @param deletions - token ranges `[start, end)` to delete, one set per result
   */
  windowLogitsWithout(text: string, classification: Classification, deletions: readonly (readonly TokenWindow[])[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/**
 * Scoring labelled documents through the exact serving path (tokenizer, windows,
 * onnxruntime, pooling): what evaluation and threshold tuning see is what the service does.
 */
import type { Classifier } from '../../model/types';
import type { Doc } from './dataset';
import type { Scored } from './metrics';

/**
 * @param classifier - a loaded bundle
 * @param docs - documents with gold codes
 */
export async function scoreDocuments(classifier: Classifier, docs: readonly Doc[]): Promise<Scored[]> {
  const scored: Scored[] = [];
  for (const doc of docs) {
    const { probabilities } = await classifier.classify(doc.text);
    scored.push({ probabilities, gold: new Set(doc.codes) });
  }
  return scored;
}

/** The threshold of each label index, as the bundle decides. */
export function thresholdsOf(classifier: Classifier): (index: number) => number {
  const { labels, thresholds } = classifier.info;
  return (index) => thresholds.perCode?.[labels[index].code] ?? thresholds.global;
}

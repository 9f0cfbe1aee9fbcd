/**
 * `npm run evaluate -- --data <file.jsonl> [--model <bundle dir>]`: figures of a bundle on
 * labelled documents, through the exact serving path (tokenizer, windows, onnxruntime,
 * pooling, the bundle's thresholds). Prints JSON.
 *
 * Input: one `{"id", "text", "codes": [...]}` per line (.jsonl or .jsonl.gz). Codes are
 * normalised as in training (dataset.ts); codes outside the bundle's labels are not scored.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config';
import { createClassifier } from '../model/classifier';
import { readJsonl } from '../train/dataset';
import { computeMetrics, roundMetrics, type Metrics } from '../train/metrics';
import { scoreDocuments, thresholdsOf } from '../train/scoring';

export interface Evaluation {
  model: { name: string; version: string; dir: string };
  data: { file: string; documents: number };
  thresholds: { global: number; perCode?: Record<string, number> };
  metrics: Metrics;
  seconds: number;
}

/**
 * @param dataFile - labelled documents
 * @param modelDir - the bundle to evaluate
 */
export async function evaluate(dataFile: string, modelDir: string): Promise<Evaluation> {
  const started = performance.now();
  const classifier = await createClassifier(modelDir, { intraOpThreads: 0 });
  try {
    const docs = readJsonl(dataFile);
    const scored = await scoreDocuments(classifier, docs);
    const codes = classifier.info.labels.map((l) => l.code);
    return {
      model: { name: classifier.info.name, version: classifier.info.version, dir: modelDir },
      data: { file: dataFile, documents: docs.length },
      thresholds: classifier.info.thresholds,
      metrics: roundMetrics(computeMetrics(scored, codes, thresholdsOf(classifier))),
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
  } finally {
    await classifier.dispose();
  }
}

function main() {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, model: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'default') } },
  });
  if (!values.data) {
    console.error('usage: npm run evaluate -- --data <file.jsonl> [--model <bundle dir>]');
    process.exit(2);
  }
  evaluate(values.data, values.model!).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: Error) => {
      console.error(`evaluation failed: ${error.message}`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();

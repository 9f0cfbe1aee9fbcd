/**
 * Generates the tiny test model bundle: a real ONNX graph, a real WordPiece tokenizer, a
 * label list and a config, written deterministically (same bytes every run).
 *
 * The model is a keyword scorer, NOT a trained clinical model: each label has a few
 * hand-set word weights, `token_scores[b, t, l]` is the weight of token t for label l and
 * `logits = bias + Σ_t token_scores` (exact token contributions). It exists so that tests
 * and a fresh checkout exercise the whole serving path (tokenizer, windows, onnxruntime,
 * pooling, thresholds, evidence) with predictable results.
 *
 * Usage: node dist-tools/tools/generate-test-model.js --out <dir> [--out <dir> ...]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BundleConfig, Label } from '../model/bundle';
import { attr, encodeModel, GraphBuilder } from './onnx/builder';
import { trainWordPiece, wordPieceTokenizerJson } from './train/wordpiece';

/** Labels with their ICD-10-CM (FY2023) titles, and the words that raise each one. */
const LABELS: { code: string; display: string; words: Record<string, number> }[] = [
  { code: 'J18.9', display: 'Pneumonia, unspecified organism', words: { pneumonia: 6 } },
  { code: 'I10', display: 'Essential (primary) hypertension', words: { hypertension: 6, htn: 6 } },
  { code: 'E11.9', display: 'Type 2 diabetes mellitus without complications', words: { diabetes: 5.5 } },
  { code: 'N17.9', display: 'Acute kidney failure, unspecified', words: { aki: 6, kidney: 3, injury: 2.2 } },
  { code: 'I50.9', display: 'Heart failure, unspecified', words: { chf: 6, heart: 2.5, failure: 2.5 } },
  { code: 'J44.9', display: 'Chronic obstructive pulmonary disease, unspecified', words: { copd: 6 } },
  { code: 'N39.0', display: 'Urinary tract infection, site not specified', words: { uti: 6, urinary: 2.5, tract: 1, infection: 1 } },
  { code: 'I48.91', display: 'Unspecified atrial fibrillation', words: { fibrillation: 6, afib: 6 } },
  { code: 'D64.9', display: 'Anemia, unspecified', words: { anemia: 5.5, anaemia: 5.5 } },
  { code: 'E78.5', display: 'Hyperlipidemia, unspecified', words: { hyperlipidemia: 6 } },
  { code: 'R05.9', display: 'Cough, unspecified', words: { cough: 3.5 } },
];
const BIAS = -4;

/** Text the tokenizer is trained on: general clinical wording, so notes tokenize sensibly. */
const CORPUS = [
  'The patient is a 67-year-old man admitted with fever, productive cough and shortness of breath.',
  'Chest x-ray showed a right lower lobe infiltrate consistent with community-acquired pneumonia.',
  'He was treated with intravenous ceftriaxone and azithromycin, then switched to oral antibiotics.',
  'Past medical history: hypertension, type 2 diabetes mellitus, hyperlipidemia and chronic kidney disease.',
  'Hospital course was complicated by acute kidney injury, which resolved with intravenous fluids.',
  'Discharge diagnoses: pneumonia; acute kidney injury; atrial fibrillation with rapid ventricular response.',
  'Medications on discharge: metformin 500 mg twice daily, lisinopril 10 mg daily, atorvastatin 40 mg at night.',
  'Family history: mother with breast cancer, father with coronary artery disease.',
  'Social history: former smoker, no alcohol use. Lives with his wife.',
  'Follow up with the primary care physician in one week. Return if fever or chest pain develops.',
  'No evidence of deep vein thrombosis. Denies chest pain, nausea or vomiting.',
  'Urinalysis was positive for nitrites and leukocytes; urinary tract infection was treated.',
  'Echocardiogram showed reduced ejection fraction consistent with congestive heart failure.',
  'Hemoglobin was 9.1 g/dL, consistent with anemia of chronic disease. COPD exacerbation ruled out.',
].join('\n');

/**
 * The generated bundle's files, by name.
 * @param options - `tokenScores: false` leaves out the token_scores output (same logits), like
 *   a model without per-token output; tests generate that variant into a temporary directory
 */
export function generateTestModel(options: { tokenScores?: boolean } = {}): Record<string, string | Uint8Array> {
  const vocab = trainWordPiece([CORPUS], { vocabSize: 420, minFrequency: 1 });
  // Keywords become whole tokens so each carries its weight alone.
  for (const label of LABELS) for (const word of Object.keys(label.words)) if (!vocab.includes(word)) vocab.push(word);
  const tokenizerJson = wordPieceTokenizerJson(vocab);

  const V = vocab.length;
  const L = LABELS.length;
  const weights = new Float32Array(V * L);
  LABELS.forEach((label, l) => {
    for (const [word, weight] of Object.entries(label.words)) weights[vocab.indexOf(word) * L + l] = weight;
  });

  const g = new GraphBuilder('keyword_scorer')
    .input('input_ids', 'int64', ['batch', 'sequence'])
    .input('attention_mask', 'int64', ['batch', 'sequence'])
    .initializer('token_weights', weights, [V, L])
    .initializer('bias', new Float32Array(L).fill(BIAS), [L])
    .initializer('axis_2', BigInt64Array.from([2n]), [1])
    .initializer('axis_1', BigInt64Array.from([1n]), [1])
    .node('Gather', ['token_weights', 'input_ids'], ['weights_per_token'])
    .node('Cast', ['attention_mask'], ['mask_float'], { to: attr.i(1) })
    .node('Unsqueeze', ['mask_float', 'axis_2'], ['mask_3d'])
    // Padding contributes nothing: token scores are zero where attention_mask is 0.
    .node('Mul', ['weights_per_token', 'mask_3d'], ['token_scores'])
    .node('ReduceSum', ['token_scores', 'axis_1'], ['summed'], { keepdims: attr.i(0) })
    .node('Add', ['summed', 'bias'], ['logits'])
    .output('logits', 'float32', ['batch', L]);
  if (options.tokenScores !== false) g.output('token_scores', 'float32', ['batch', 'sequence', L]);
  const model = encodeModel(g, {
    opset: 17,
    producerName: 'icd10-cds generate-test-model',
    docString: 'Keyword scorer for tests; not clinically meaningful.',
  });

  const labels: Label[] = LABELS.map(({ code, display }) => ({ code, display }));
  const config: BundleConfig = {
    name: 'icd10-cds-test-keywords',
    version: '1.0.0',
    description: 'Generated keyword-scoring model for tests and first runs. Not trained, not validated, not clinically meaningful.',
    clinicallyMeaningful: false,
    codeSystemVersion: '2023',
    window: { maxLength: 64, overlap: 8 },
    batchSize: 4,
    pooling: 'max',
    thresholds: { global: 0.5, perCode: { 'R05.9': 0.6 } },
    metrics: { note: 'none: this model is generated, not trained' },
  };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'model.onnx': model,
    'tokenizer.json': json(tokenizerJson),
    'labels.json': json(labels),
    'config.json': json(config),
  };
}

function main() {
  const { values } = parseArgs({ options: { out: { type: 'string', multiple: true } } });
  if (!values.out?.length) {
    console.error('usage: generate-test-model --out <bundle dir> [--out <bundle dir> ...]');
    process.exit(2);
  }
  const files = generateTestModel();
  for (const dir of values.out) {
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    console.log(`wrote ${Object.keys(files).join(', ')} to ${dir}`);
  }
}

if (require.main === module) main();

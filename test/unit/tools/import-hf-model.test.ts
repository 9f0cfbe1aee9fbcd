/**
 * import-hf-model on a small fake Hugging Face export: a tiny ONNX classifier built with our
 * builder, a BioGPT-style vocab.json/merges.txt (pieces with `</w>`, fastBPE's three-field
 * merges) and a config.json whose id2label are dot-less ICD-10-CM codes.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClassifier } from '../../../src/model/classifier';
import { createNoteTokenizer } from '../../../src/model/tokenizer';
import { buildBatches, planWindows } from '../../../src/model/windows';
import { attr, encodeModel, GraphBuilder } from '../../../src/tools/onnx/builder';
import { bioGptTokenizerJson, dottedIcd10Code, importHfModel, type ImportOptions } from '../../../src/tools/import-hf-model';

const SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'];
const SEP_ID = 2;
const PAD_ID = 1;

/** BPE pieces of each word, as BioGPT's vocabulary would cut them (`</w>` ends a word). */
const WORD_PIECES = [
  ['Patient</w>'],
  ['admitted</w>'],
  ['with</w>'],
  ['treated</w>'],
  ['Chest</w>'],
  ['x</w>'],
  ['@-@</w>'],
  ['ray</w>'],
  ['community</w>'],
  ['acqui', 'red</w>'],
  ['pneum', 'onia</w>'],
  ['pt</w>'],
  ['&apos;s</w>'],
  ['BP</w>'],
  ['140</w>'],
  ['90</w>'],
  ['e.g.</w>'],
  ['stable</w>'],
  ['&amp;</w>'],
  ['-</w>'],
  [':</w>'],
  [';</w>'],
  ['/</w>'],
  ['(</w>'],
  [')</w>'],
  ['.</w>'],
  [',</w>'],
];
const PNEUM = 'pneum';

/** merges.txt that builds every piece left to right, fastBPE style (`left right count`). */
function mergesTxt(): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const piece of WORD_PIECES.flat()) {
    const final = piece.endsWith('</w>');
    const symbols = Array.from(final ? piece.slice(0, -4) : piece);
    if (final) symbols[symbols.length - 1] += '</w>';
    let left = symbols[0];
    for (const right of symbols.slice(1)) {
      const merge = `${left} ${right}`;
      if (!seen.has(merge)) lines.push(`${merge} ${1000 - lines.length}`);
      seen.add(merge);
      left += right;
    }
  }
  return `${lines.join('\n')}\n`;
}

function vocab(): Record<string, number> {
  const tokens = [...SPECIALS, ...new Set(WORD_PIECES.flat())];
  return Object.fromEntries(tokens.map((token, id) => [token, id]));
}

/** A classifier with three logits: [0] says whether the window starts with `</s>`
 * (+20 / -20), [1] counts `pneum` pieces, [2] is constant. */
function tinyModel(vocabSize: number, pneumId: number): Uint8Array {
  const L = 3;
  const table = new Float32Array(vocabSize * L);
  table[pneumId * L + 1] = 8;
  const g = new GraphBuilder('fake_hf_classifier')
    .input('input_ids', 'int64', ['batch', 'sequence'])
    .input('attention_mask', 'int64', ['batch', 'sequence'])
    .initializer('table', table, [vocabSize, L])
    .initializer('axis_1', BigInt64Array.from([1n]), [1])
    .initializer('axis_2', BigInt64Array.from([2n]), [1])
    .initializer('first', BigInt64Array.from([0n]), [])
    .initializer('sep', BigInt64Array.from([BigInt(SEP_ID)]), [])
    .initializer('first_weights', Float32Array.from([40, 0, 0]), [L])
    .initializer('bias', Float32Array.from([-20, -4, -4]), [L])
    .node('Gather', ['table', 'input_ids'], ['per_token'])
    .node('Cast', ['attention_mask'], ['mask_float'], { to: attr.i(1) })
    .node('Unsqueeze', ['mask_float', 'axis_2'], ['mask_3d'])
    .node('Mul', ['per_token', 'mask_3d'], ['masked'])
    .node('ReduceSum', ['masked', 'axis_1'], ['summed'], { keepdims: attr.i(0) })
    .node('Gather', ['input_ids', 'first'], ['first_ids'], { axis: attr.i(1) })
    .node('Equal', ['first_ids', 'sep'], ['starts_with_sep'])
    .node('Cast', ['starts_with_sep'], ['sep_float'], { to: attr.i(1) })
    .node('Unsqueeze', ['sep_float', 'axis_1'], ['sep_column'])
    .node('Mul', ['sep_column', 'first_weights'], ['sep_part'])
    .node('Add', ['summed', 'sep_part'], ['raw'])
    .node('Add', ['raw', 'bias'], ['logits'])
    .output('logits', 'float32', ['batch', L]);
  return encodeModel(g, { opset: 17, producerName: 'import-hf-model test' });
}

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

interface ExportVariant {
  id2label?: Record<string, string>;
  maxPositions?: number;
  withModel?: boolean;
}

/** A fake export directory (what optimum / the README recipe writes) and a fresh --out path. */
function fakeExport(variant: ExportVariant = {}): { hfDir: string; out: string; root: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'import-hf-'));
  dirs.push(root);
  const hfDir = path.join(root, 'export');
  mkdirSync(hfDir);
  const v = vocab();
  if (variant.withModel ?? true) writeFileSync(path.join(hfDir, 'model.onnx'), tinyModel(Object.keys(v).length, v[PNEUM]));
  writeFileSync(path.join(hfDir, 'vocab.json'), JSON.stringify(v));
  writeFileSync(path.join(hfDir, 'merges.txt'), mergesTxt());
  writeFileSync(path.join(hfDir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BioGptTokenizer' }));
  writeFileSync(
    path.join(hfDir, 'config.json'),
    JSON.stringify({
      _name_or_path: 'example/biogpt-icd10-fake',
      model_type: 'biogpt',
      architectures: ['BioGptForSequenceClassification'],
      id2label: variant.id2label ?? { 0: 'I509', 1: 'J189', 2: 'I10' },
      max_position_embeddings: variant.maxPositions ?? 1024,
      pad_token_id: PAD_ID,
      vocab_size: Object.keys(v).length,
    }),
  );
  return { hfDir, out: path.join(root, 'bundle'), root };
}

const importTiny = (options: ImportOptions) => importHfModel({ threads: 1, ...options });
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The note text a token stands for: Moses escapes undone, `</w>` removed. */
function unescaped(token: string): string {
  const entities: Record<string, string> = { '&amp;': '&', '&apos;': "'", '&quot;': '"', '&lt;': '<', '&gt;': '>', '&#124;': '|', '&#91;': '[', '&#93;': ']' };
  const bare = token.endsWith('</w>') ? token.slice(0, -4) : token;
  return bare === '@-@' ? '-' : bare.replace(/&(?:amp|apos|quot|lt|gt|#124|#91|#93);/g, (e) => entities[e]);
}

describe('importing a BioGPT-style export', () => {
  test('writes a bundle that createClassifier loads, with dotted labels and the card defaults', async () => {
    const { hfDir, out } = fakeExport();
    const result = await importTiny({ hfDir, out });

    expect(result.tokenizer).toBe('converted');
    expect(result.vocabSize).toBe(Object.keys(vocab()).length);
    expect(result.summary).toMatch(
      /^imported example\/biogpt-icd10-fake sha256-[0-9a-f]{12} into .*bundle: 3 labels, tokenizer converted \(vocab \d+, "<\/s>" before every window\), window 1024\/124, threshold 0\.4; bundle loads$/,
    );
    expect(readJson(path.join(out, 'labels.json'))).toEqual([
      { code: 'I50.9', display: 'I50.9' },
      { code: 'J18.9', display: 'J18.9' },
      { code: 'I10', display: 'I10' },
    ]);
    expect(result.notes.join('\n')).toMatch(/displays are the codes themselves/);
    expect(readJson(path.join(out, 'config.json'))).toEqual({
      name: 'example/biogpt-icd10-fake',
      version: result.config.version,
      description: expect.stringContaining('TOKENIZER.md'),
      clinicallyMeaningful: false,
      window: { maxLength: 1024, overlap: 124 },
      batchSize: 1,
      pooling: 'max',
      padTokenId: PAD_ID,
      thresholds: { global: 0.4 },
      metrics: { source: 'published model card (not reproduced here)', microF1: 0.743 },
    });
    expect(readFileSync(path.join(out, 'TOKENIZER.md'), 'utf8')).toMatch(/Known differences/);
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(true);

    const classifier = await createClassifier(out, { intraOpThreads: 1 });
    try {
      const result = await classifier.classify('Patient admitted with pneumonia.');
      expect(classifier.predictionsOf(result).map((p) => p.code)).toEqual(expect.arrayContaining(['I50.9', 'J18.9']));
      expect(classifier.predictionsOf(result).map((p) => p.code)).not.toContain('I10');
    } finally {
      await classifier.dispose();
    }
  });

  test('takes codes and displays from --labels, with the other options', async () => {
    const { hfDir, out, root } = fakeExport({ id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' } });
    const labels = path.join(root, 'labels.txt');
    writeFileSync(labels, 'I509\tHeart failure, unspecified\n# a comment\nJ18.9\tPneumonia, unspecified organism\nI10\n');
    const result = await importTiny({
      hfDir,
      out,
      labelsFile: labels,
      threshold: 0.5,
      maxLength: 32,
      overlap: 8,
      name: 'seed',
      version: '2.0',
      clinicallyMeaningful: true,
      microF1: null,
    });
    expect(result.labels).toEqual([
      { code: 'I50.9', display: 'Heart failure, unspecified' },
      { code: 'J18.9', display: 'Pneumonia, unspecified organism' },
      { code: 'I10', display: 'I10' },
    ]);
    expect(result.notes.join('\n')).toMatch(/no display: their display is the code itself/);
    const config = readJson(path.join(out, 'config.json'));
    expect(config).toMatchObject({
      name: 'seed',
      version: '2.0',
      clinicallyMeaningful: true,
      window: { maxLength: 32, overlap: 8 },
      thresholds: { global: 0.5 },
    });
    expect(config.metrics).toBeUndefined();
  });

  test("the converted tokenizer prepends </s> to every window and pads with the model's pad id", async () => {
    const { hfDir, out } = fakeExport();
    await importTiny({ hfDir, out, maxLength: 8, overlap: 2 });
    const tokenizer = createNoteTokenizer(readJson(path.join(out, 'tokenizer.json')));
    expect(tokenizer.prefixIds).toEqual([SEP_ID]);
    expect(tokenizer.suffixIds).toEqual([]);
    expect(tokenizer.padId).toBe(PAD_ID);

    const note = 'Patient admitted with pneumonia, treated with pneumonia and pneumonia. Chest x-ray stable.';
    const { ids } = tokenizer.encode(note);
    const windows = planWindows(ids.length, 8 - 1, 2);
    expect(windows.length).toBeGreaterThan(2);
    for (const batch of buildBatches(ids, windows, 2, { ...tokenizer, padId: PAD_ID })) {
      for (let row = 0; row < batch.windows.length; row++) expect(batch.ids[row * batch.seqLen]).toBe(SEP_ID);
    }

    // End to end, through onnxruntime: logit 0 is +20 for a window starting with </s> and -20
    // otherwise, so its mean over the windows is +20 only if every window starts with </s>.
    const config = readJson(path.join(out, 'config.json'));
    writeFileSync(path.join(out, 'config.json'), JSON.stringify({ ...config, pooling: 'mean' }));
    const classifier = await createClassifier(out, { intraOpThreads: 1 });
    try {
      const result = await classifier.classify(note);
      expect(result.windowCount).toBe(windows.length);
      expect(result.probabilities[0]).toBeGreaterThan(1 - 1e-6);
    } finally {
      await classifier.dispose();
    }
  });

  test('token offsets in a clinical sentence are exact, Moses escapes included', async () => {
    const { hfDir, out } = fakeExport();
    await importTiny({ hfDir, out });
    const json = readJson(path.join(out, 'tokenizer.json'));
    const byId = new Map(Object.entries(json.model.vocab as Record<string, number>).map(([token, id]) => [id, token]));
    const tokenizer = createNoteTokenizer(json);

    const text = "Chest x-ray: community-acquired pneumonia; pt's BP 140/90 (e.g. stable) & treated.";
    const { ids, offsets, unaligned } = tokenizer.encode(text);
    const tokens = Array.from(ids, (id) => byId.get(id)!);
    expect(tokens).toEqual([
      'Chest</w>',
      'x</w>',
      '@-@</w>',
      'ray</w>',
      ':</w>',
      'community</w>',
      '@-@</w>',
      'acqui',
      'red</w>',
      'pneum',
      'onia</w>',
      ';</w>',
      'pt</w>',
      '&apos;s</w>',
      'BP</w>',
      '140</w>',
      '/</w>',
      '90</w>',
      '(</w>',
      'e.g.</w>',
      'stable</w>',
      ')</w>',
      '&amp;</w>',
      'treated</w>',
      '.</w>',
    ]);
    expect(unaligned).toBe(0);
    tokens.forEach((token, i) => expect(text.slice(offsets[2 * i], offsets[2 * i + 1])).toBe(unescaped(token)));
  });

  test('copies a tokenizer.json when the export has one', async () => {
    const { hfDir, out } = fakeExport();
    const json = bioGptTokenizerJson(vocab(), mergesTxt());
    writeFileSync(path.join(hfDir, 'tokenizer.json'), JSON.stringify(json));
    const result = await importTiny({ hfDir, out });
    expect(result.tokenizer).toBe('copied');
    expect(readJson(path.join(out, 'tokenizer.json'))).toEqual(json);
  });
});

describe('the converter', () => {
  test('reads merges.txt as BioGptTokenizer does: two first fields, last line dropped', () => {
    const json = bioGptTokenizerJson(vocab(), 'l o 123\nlo w 1456\ne r</w> 1789\nw e');
    expect((json.model as { merges: string[] }).merges).toEqual(['l o', 'lo w', 'e r</w>']);
  });

  test("refuses a vocabulary that is not BioGPT's", () => {
    expect(() => bioGptTokenizerJson({ '</s>': 0, '<unk>': 1, Ġthe: 2 }, 'Ġ t\n')).toThrow(/no token ending in "<\/w>"/);
    expect(() => bioGptTokenizerJson({ 'a</w>': 0 }, '')).toThrow(/vocab.json has no "<\/s>"/);
  });

  test.each([
    ['I509', 'I50.9'],
    ['e785', 'E78.5'],
    ['I10', 'I10'],
    ['Z7901', 'Z79.01'],
    ['S72001A', 'S72.001A'],
    ['J18.9', 'J18.9'],
    ['LABEL_0', undefined],
    ['4019', undefined],
    ['02HV33Z', undefined],
  ])('dottedIcd10Code(%s) = %s', (code, dotted) => {
    expect(dottedIcd10Code(code)).toBe(dotted);
  });
});

describe('failures name the problem and leave no bundle behind', () => {
  test.each<[string, ExportVariant, Partial<ImportOptions>, RegExp]>([
    [
      'labels that are not codes, without --labels',
      { id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' } },
      {},
      /config.json id2label are not ICD-10-CM codes \(3 of 3, e.g. "LABEL_0", "LABEL_1", "LABEL_2"\): pass --labels <file>/,
    ],
    [
      'a procedure (ICD-10-PCS) label, as in the MIMIC-IV top-50 list',
      { id2label: { 0: 'I509', 1: 'J189', 2: '02HV33Z' } },
      {},
      /label "02HV33Z" is an ICD-10-PCS procedure code: a bundle's labels.json holds ICD-10-CM diagnosis codes only/,
    ],
    [
      'a window longer than the position table',
      { maxPositions: 64 },
      { maxLength: 128 },
      /--max-length 128 exceeds the model's max_position_embeddings 64 \(config.json\)/,
    ],
    ['no model file', { withModel: false }, {}, /no ONNX model in .*export: expected model.onnx/],
    [
      'labels.json that does not fit the logits',
      { id2label: { 0: 'I509', 1: 'J189' } },
      {},
      /does not load: .*gives 3 logits per window but labels.json has 2 labels/,
    ],
  ])('%s', async (_, variant, options, message) => {
    const { hfDir, out, root } = fakeExport(variant);
    await expect(importTiny({ hfDir, out, ...options })).rejects.toThrow(message);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root)).toEqual(['export']);
  });

  test('an --out that already holds files', async () => {
    const { hfDir, out } = fakeExport();
    mkdirSync(out);
    writeFileSync(path.join(out, 'model.onnx'), 'keep me');
    await expect(importTiny({ hfDir, out })).rejects.toThrow(/already exists and is not empty/);
    expect(readFileSync(path.join(out, 'model.onnx'), 'utf8')).toBe('keep me');
  });

  test('a --labels file that contradicts id2label', async () => {
    const { hfDir, out, root } = fakeExport();
    const labels = path.join(root, 'labels.txt');
    writeFileSync(labels, 'J18.9\nI50.9\nI10\n');
    await expect(importTiny({ hfDir, out, labelsFile: labels })).rejects.toThrow(
      /--labels file has J18.9 at position 0 but config.json id2label\[0\] is "I509"/,
    );
  });

  test('a --labels file does not hide a procedure label of the model', async () => {
    const { hfDir, out, root } = fakeExport({ id2label: { 0: 'I509', 1: 'J189', 2: '02HV33Z' } });
    const labels = path.join(root, 'labels.txt');
    writeFileSync(labels, 'I50.9\nJ18.9\nI10\n');
    await expect(importTiny({ hfDir, out, labelsFile: labels })).rejects.toThrow(/"02HV33Z" is an ICD-10-PCS procedure code/);
  });
});

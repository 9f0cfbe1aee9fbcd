/**
 * `npm run import-hf -- --hf-dir <dir> --out <bundle dir> [--labels <file>] [--threshold 0.4]
 *  [--max-length 1024] [--overlap 124] [--name <name>] [--version <version>]
 *  [--clinically-meaningful] [--micro-f1 <number|none>] [--onnx <file>] [--threads <n>]`
 *
 * Turns an ONNX export of a Hugging Face sequence-classification model into a model bundle
 * (model.onnx, tokenizer.json, labels.json, config.json, plus TOKENIZER.md), then loads it
 * with createClassifier to prove that it fits the model contract.
 *
 * The export directory is what `optimum-cli export onnx --task text-classification` writes, or
 * the equivalent `torch.onnx.export` recipe of the README (optimum has no ONNX config for
 * BioGPT): the .onnx file (inputs `input_ids`, `attention_mask`; output `logits`
 * `[batch, labels]`), the model's `config.json` and its tokenizer files.
 *
 * - model: `model.onnx` (optimum's name), else `onnx/model.onnx`, else the only `.onnx` file,
 *   else `--onnx`; external-data files next to it (`model.onnx_data`, `model.onnx.data`) are
 *   copied along.
 * - labels: `id2label` of config.json in index order, when every label is an ICD-10-CM code;
 *   otherwise `--labels` is required (one code per line in logits order, optionally a tab and
 *   the display). Dot-less codes (`I509`) get their dot after the third character (`I50.9`).
 *   Without a display in the file, the display is the code itself. An ICD-10-PCS label (the
 *   MIMIC-IV top-50 list of the literature has `02HV33Z`) is refused: labels.json holds
 *   ICD-10-CM codes only.
 * - tokenizer: `tokenizer.json` is copied when the export has one. BioGPT has none (its
 *   Hugging Face tokenizer is the slow Python `BioGptTokenizer`), so `vocab.json` +
 *   `merges.txt` of that kind are converted into a BPE tokenizer.json (see below).
 * - config: window, threshold, `padTokenId` = config.json `pad_token_id` (BioGPT's
 *   classification head reads the last non-pad token, so padding must use that id), max
 *   pooling, batch size 1 (a 350M-parameter model fills the CPU with one window), metrics as
 *   published (`--micro-f1`, default 0.743: the seed model's card). `--max-length` may not
 *   exceed `max_position_embeddings`.
 *
 * BioGptTokenizer, and what the converted tokenizer.json does instead (each point is also in
 * the TOKENIZER.md written into the bundle):
 * 1. sacremoses `MosesTokenizer("en").tokenize(text, aggressive_dash_splits=True,
 *    escape=True)`: no lower-casing, no Unicode normalization. Mirrored with normalizers and
 *    pre-tokenizers that both @huggingface/tokenizers and the native library know:
 *    - control characters dropped, `& | < > ' " [ ]` replaced by Moses's XML escapes (`&amp;`
 *      `&#124;` `&lt;` `&gt;` `&apos;` `&quot;` `&#91;` `&#93;`), each hyphen by `@-@`
 *      (Replace normalizers: one character at a time, so offsets map back exactly);
 *    - a Split (removed) takes the `@` off again around hyphens that are not between two
 *      letters/digits: Moses splits only those (`x-ray` → `x @-@ ray`);
 *    - a Split (isolated) cuts out what Moses pads or splits: every character other than
 *      letters, digits, whitespace, period, comma and backtick; escapes; `@-@`; runs of
 *      dots; commas unless between digits; the English apostrophe rules (`patient's` →
 *      `patient &apos;s`); the final period of a token, kept for Moses's English
 *      non-breaking prefixes (`Dr.`), dotted abbreviations containing a letter (`e.g.`,
 *      `b.i.d.`) and before a lower-case word;
 *    - WhitespaceSplit.
 *    Approximations: a hyphen next to a letter/digit on one side only (`-5`, `2-`, `--`) is a
 *    token `-` of its own, where Moses leaves it inside the token (BPE then gives the
 *    word-internal piece `-`, another id); a quote at the very start or end of a note stays
 *    attached in Moses; a comma opening a note before a digit; the Unicode classes are the JS
 *    regex ones (`\p{Alphabetic}`, `\p{Nd}`, `\p{N}`, `\p{Lowercase}`), not Perl's tables;
 *    whitespace is JavaScript's (U+FEFF counts, U+0085 does not).
 * 2. fastBPE-style BPE with `</w>` on the last symbol, merge ranks = line order of merges.txt
 *    (first two fields; like BioGptTokenizer, the last line of the file is ignored) →
 *    BPE model with `end_of_word_suffix: "</w>"`, unknown pieces → `<unk>`. The library's
 *    merge order (lowest rank first, ties left to right) is believed identical to the
 *    Python loop. merges.txt has merges whose result is not in vocab.json (fastBPE
 *    intermediates such as `&apos` or `-@</w>`; 13 in BioGPT's): kept, since they lead to
 *    tokens that are. @huggingface/tokenizers accepts that; the native Rust library refuses
 *    the file ("Token … out of vocabulary").
 * 3. `build_inputs_with_special_tokens`: `</s>` before a sequence, nothing after →
 *    TemplateProcessing `</s> $A`; windows.ts therefore starts every window with `</s>`.
 * Offsets: an escaped character is one token character run in the tokenizer but one
 * character of the note, so a token `&apos;s` spans `'s` of the note.
 * Checked against the one published BioGPT id sequence found (transformers' integration test:
 * "COVID-19 is" → 2 4805 9 656 21) and a re-typed port of the Python steps, not against the
 * Python tokenizer itself (neither transformers nor sacremoses installs here): compare ids
 * on a few notes (README) before trusting scores.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { BundleConfig, Label } from '../model/bundle';
import { createClassifier } from '../model/classifier';
import { runCommand, UsageError } from '../cli/command';

/** Options of {@link importHfModel}; the CLI flags of the same names. */
export interface ImportOptions {
  /** The ONNX export of the Hugging Face model. */
  hfDir: string;
  /** The bundle directory to create; it must not exist or be empty. */
  out: string;
  /** Label list: one ICD-10-CM code per line in logits order, optionally `\t` display. */
  labelsFile?: string;
  /** Global decision threshold on the sigmoid probability (default 0.4). */
  threshold?: number;
  /** Window length in tokens, special tokens included (default 1024). */
  maxLength?: number;
  /** Tokens shared by consecutive windows (default 124). */
  overlap?: number;
  /** Default: a Hub id in config.json `_name_or_path`, else the export directory's name. */
  name?: string;
  /** Default: `sha256-` and the first 12 hex digits of the .onnx file's digest. */
  version?: string;
  /** Only for a model validated for clinical use (default false). */
  clinicallyMeaningful?: boolean;
  /** Published micro-F1 for config.json `metrics`; null leaves metrics out (default 0.743). */
  microF1?: number | null;
  /** The .onnx file inside hfDir, when the default search does not find the right one. */
  onnxFile?: string;
  /** onnxruntime threads for the load check (default 0: one per core). */
  threads?: number;
}

/** What {@link importHfModel} wrote. */
export interface ImportResult {
  dir: string;
  config: BundleConfig;
  labels: Label[];
  /** Whether tokenizer.json was copied from the export or converted from vocab.json + merges.txt. */
  tokenizer: 'copied' | 'converted';
  /** One more than the largest token id. */
  vocabSize: number;
  /** Things the user should know (e.g. displays that are only codes). */
  notes: string[];
  /** One line for the console. */
  summary: string;
}

// Defaults of the seed model's card: 1024-token windows with 124 overlap, threshold 0.40.
const DEFAULTS = { threshold: 0.4, maxLength: 1024, overlap: 124, microF1: 0.743 };
const METRICS_SOURCE = 'published model card (not reproduced here)';

/**
 * Builds a model bundle from a Hugging Face ONNX export and loads it once to check it.
 * Nothing is left in `out` when a check fails.
 * @param options - see {@link ImportOptions}
 * @returns what was written, with a one-line summary
 * @throws Error naming the missing file or the offending value
 */
export async function importHfModel(options: ImportOptions): Promise<ImportResult> {
  const hfDir = path.resolve(options.hfDir);
  const out = path.resolve(options.out);
  const threshold = options.threshold ?? DEFAULTS.threshold;
  const maxLength = options.maxLength ?? DEFAULTS.maxLength;
  const overlap = options.overlap ?? DEFAULTS.overlap;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`--threshold ${threshold} must be a number in [0, 1]`);
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`--max-length ${maxLength} must be an integer >= 2`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= maxLength) {
    throw new Error(`--overlap ${overlap} must be an integer >= 0 and below --max-length ${maxLength}`);
  }
  if (hfDir === out) throw new Error('--out must differ from --hf-dir');
  if (!existsSync(hfDir)) throw new Error(`--hf-dir ${hfDir} does not exist`);
  await checkOutIsFree(out);

  const notes: string[] = [];
  const hfConfig = await readJsonObject(path.join(hfDir, 'config.json'), "the model's Hugging Face config.json (model.config.save_pretrained)");
  const modelFile = await findModelFile(hfDir, options.onnxFile);

  const positions = hfConfig.max_position_embeddings ?? hfConfig.n_positions;
  if (typeof positions === 'number') {
    if (maxLength > positions) {
      throw new Error(
        `--max-length ${maxLength} exceeds the model's max_position_embeddings ${positions} (config.json): windows longer than the position table cannot run`,
      );
    }
  } else {
    notes.push('config.json names no max_position_embeddings: --max-length was not checked against the model');
  }

  const labelsText = options.labelsFile === undefined ? undefined : await readText(options.labelsFile, '--labels file');
  const labels = labelsOf(hfConfig.id2label, labelsText, notes);

  const tokenizer = await tokenizerOf(hfDir);
  const vocabSize = vocabSizeOf(tokenizer.json);
  if (typeof hfConfig.vocab_size === 'number' && vocabSize > hfConfig.vocab_size) {
    throw new Error(
      `the tokenizer has ids up to ${vocabSize - 1} but the model's vocab_size is ${hfConfig.vocab_size} (config.json): they do not belong together`,
    );
  }

  const padTokenId = hfConfig.pad_token_id;
  if (!Number.isInteger(padTokenId)) notes.push("config.json has no pad_token_id: padding uses the tokenizer's pad token");
  const microF1 = options.microF1 === undefined ? DEFAULTS.microF1 : options.microF1;
  if (microF1 !== null && !(microF1 >= 0 && microF1 <= 1)) throw new Error(`--micro-f1 ${microF1} must be a number in [0, 1] or none`);
  const config: BundleConfig = {
    name: options.name ?? defaultName(hfConfig, hfDir),
    version: options.version ?? `sha256-${(await sha256File(modelFile)).slice(0, 12)}`,
    description: `Imported from a Hugging Face ONNX export by import-hf-model; tokenizer ${
      tokenizer.kind === 'converted' ? 'converted from vocab.json + merges.txt (an approximation: see TOKENIZER.md)' : 'copied from the export'
    }.`,
    clinicallyMeaningful: options.clinicallyMeaningful ?? false,
    window: { maxLength, overlap },
    batchSize: 1,
    pooling: 'max',
    ...(Number.isInteger(padTokenId) ? { padTokenId: padTokenId as number } : {}),
    thresholds: { global: threshold },
    ...(microF1 === null ? {} : { metrics: { source: METRICS_SOURCE, microF1 } }),
  };

  // Written to a sibling directory first and renamed at the end, so a failed import never
  // leaves a half bundle where MODEL_DIR may point.
  const staging = `${out}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await copyFile(modelFile, path.join(staging, 'model.onnx'));
    for (const extra of await externalDataFiles(modelFile)) {
      await copyFile(path.join(path.dirname(modelFile), extra), path.join(staging, extra));
    }
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    await writeFile(path.join(staging, 'tokenizer.json'), JSON.stringify(tokenizer.json));
    await writeFile(path.join(staging, 'labels.json'), json(labels));
    await writeFile(path.join(staging, 'config.json'), json(config));
    await writeFile(path.join(staging, 'TOKENIZER.md'), tokenizerNotes(tokenizer.kind, hfDir));

    const classifier = await createClassifier(staging, { intraOpThreads: options.threads ?? 0 }).catch((error: Error) => {
      throw new Error(`the imported bundle does not load: ${error.message.replaceAll(staging, out)}`);
    });
    await classifier.dispose();
    if (existsSync(out)) await rmdir(out);
    await rename(staging, out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  const special = tokenizer.kind === 'converted' ? `, "</s>" before every window` : '';
  const summary =
    `imported ${config.name} ${config.version} into ${out}: ${labels.length} labels, ` +
    `tokenizer ${tokenizer.kind} (vocab ${vocabSize}${special}), window ${maxLength}/${overlap}, threshold ${threshold}; bundle loads`;
  return { dir: out, config, labels, tokenizer: tokenizer.kind, vocabSize, notes, summary };
}

// ---------------------------------------------------------------------------------------
// Labels

// ICD-10-CM: a letter, a digit, a digit or letter, then up to four more characters.
const DOTLESS_CODE = /^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$/;
const DOTTED_CODE = /^[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}$/;

/**
 * An ICD-10-CM code with its dot, from a dotted or dot-less spelling (`I509` → `I50.9`); the
 * check is on the shape only.
 * @param code - the label as the model names it
 * @returns the dotted code, or undefined when the label is not shaped like an ICD-10-CM code
 */
export function dottedIcd10Code(code: string): string | undefined {
  const c = code.trim().toUpperCase();
  if (DOTTED_CODE.test(c)) return c;
  if (!DOTLESS_CODE.test(c)) return undefined;
  // ICD-10-CM puts the dot after the category (the first three characters).
  return c.length > 3 ? `${c.slice(0, 3)}.${c.slice(3)}` : c;
}

/** Labels in logits order, from id2label and/or the --labels file. */
function labelsOf(id2label: unknown, labelsText: string | undefined, notes: string[]): Label[] {
  const fromConfig = id2labelList(id2label);
  // Checked before --labels too: a file must not put a diagnosis code on a procedure's logit.
  const procedures = (fromConfig ?? []).filter(isPcsCode);
  if (procedures.length > 0) throw pcsError(procedures);
  if (labelsText === undefined) {
    if (!fromConfig) {
      throw new Error("config.json has no id2label: pass --labels <file> with one ICD-10-CM code per line in the model's output order");
    }
    const notCodes = fromConfig.filter((label) => !dottedIcd10Code(label));
    if (notCodes.length > 0) {
      const examples = notCodes
        .slice(0, 3)
        .map((l) => `"${l}"`)
        .join(', ');
      throw new Error(
        `config.json id2label are not ICD-10-CM codes (${notCodes.length} of ${fromConfig.length}, e.g. ${examples}): ` +
          "pass --labels <file> with one code per line in the model's output order (optionally a tab and the display text)",
      );
    }
    notes.push('labels.json displays are the codes themselves (no --labels file with displays): cards will show the code as its title');
    return uniqueLabels(fromConfig.map((label) => ({ code: dottedIcd10Code(label)!, display: dottedIcd10Code(label)! })));
  }

  const lines = labelsText
    .split(/\r?\n/)
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() && !line.startsWith('#'));
  const labels = lines.map(({ line, n }) => {
    const [rawCode, ...rest] = line.split('\t');
    const code = dottedIcd10Code(rawCode);
    if (!code && isPcsCode(rawCode)) throw pcsError([rawCode.trim()]);
    if (!code) throw new Error(`--labels file line ${n}: "${rawCode.trim()}" is not an ICD-10-CM code`);
    const display = rest.join('\t').trim();
    return { code, display: display || code };
  });
  if (fromConfig) {
    if (fromConfig.length !== labels.length) {
      throw new Error(`--labels file has ${labels.length} codes but config.json id2label has ${fromConfig.length} labels`);
    }
    // When the model names codes too, the file must agree with it: a file in another order
    // would silently attach every score to the wrong code.
    fromConfig.forEach((label, i) => {
      const code = dottedIcd10Code(label);
      if (code && code !== labels[i].code) {
        throw new Error(`--labels file has ${labels[i].code} at position ${i} but config.json id2label[${i}] is "${label}"`);
      }
    });
  }
  if (labels.some((label) => label.display === label.code)) {
    notes.push('some --labels lines have no display: their display is the code itself');
  }
  return uniqueLabels(labels);
}

// ICD-10-PCS: seven characters, digits and letters other than I and O. The MIMIC-IV top-50
// list of the literature has one (02HV33Z), so a model trained on it has a procedure label.
const PCS_CODE = /^[0-9A-HJ-NP-Z]{7}$/;
const isPcsCode = (label: string) => PCS_CODE.test(label.trim().toUpperCase()) && !dottedIcd10Code(label);

function pcsError(codes: string[]): Error {
  return new Error(
    `label ${codes.map((c) => `"${c}"`).join(', ')} is an ICD-10-PCS procedure code: a bundle's labels.json holds ICD-10-CM ` +
      'diagnosis codes only (src/model/bundle.ts), so this model cannot be imported until the bundle contract can carry or ignore such a label',
  );
}

/** id2label as a list in index order, checked to be 0..n-1. */
function id2labelList(id2label: unknown): string[] | undefined {
  if (!id2label || typeof id2label !== 'object' || Object.keys(id2label).length === 0) return undefined;
  const entries = Object.entries(id2label as Record<string, unknown>).map(([key, value]) => [Number(key), value] as const);
  entries.sort((a, b) => a[0] - b[0]);
  entries.forEach(([index, value], i) => {
    if (index !== i || typeof value !== 'string') {
      throw new Error(`config.json id2label must map 0..${entries.length - 1} to strings (entry ${i} is ${JSON.stringify([index, value])})`);
    }
  });
  return entries.map(([, value]) => value as string);
}

function uniqueLabels(labels: Label[]): Label[] {
  const seen = new Set<string>();
  for (const { code } of labels) {
    if (seen.has(code)) throw new Error(`label ${code} appears twice`);
    seen.add(code);
  }
  return labels;
}

// ---------------------------------------------------------------------------------------
// Tokenizer

interface TokenizerSource {
  kind: 'copied' | 'converted';
  json: Record<string, unknown>;
}

async function tokenizerOf(hfDir: string): Promise<TokenizerSource> {
  const file = (name: string) => path.join(hfDir, name);
  if (existsSync(file('tokenizer.json'))) {
    return { kind: 'copied', json: await readJsonObject(file('tokenizer.json'), 'tokenizer.json') };
  }
  if (!existsSync(file('vocab.json')) || !existsSync(file('merges.txt'))) {
    throw new Error(`${hfDir} has no tokenizer: expected tokenizer.json, or BioGPT's vocab.json + merges.txt (tokenizer.save_pretrained)`);
  }
  const tokenizerConfig = existsSync(file('tokenizer_config.json')) ? await readJsonObject(file('tokenizer_config.json'), 'tokenizer_config.json') : {};
  const tokenizerClass = tokenizerConfig.tokenizer_class;
  if (tokenizerClass !== undefined && tokenizerClass !== 'BioGptTokenizer') {
    throw new Error(
      `${hfDir} has vocab.json + merges.txt of a ${String(tokenizerClass)}: only BioGptTokenizer files can be converted; export a tokenizer.json (a fast tokenizer) instead`,
    );
  }
  const vocab = await readJsonObject(file('vocab.json'), 'vocab.json');
  const merges = await readText(file('merges.txt'), 'merges.txt');
  const special = (key: string, fallback: string) => {
    const value = tokenizerConfig[key];
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
    return fallback;
  };
  const json = bioGptTokenizerJson(vocab as Record<string, number>, merges, {
    sep: special('sep_token', '</s>'),
    unk: special('unk_token', '<unk>'),
    pad: special('pad_token', '<pad>'),
    bos: special('bos_token', '<s>'),
  });
  return { kind: 'converted', json };
}

/** Special tokens of a BioGptTokenizer (its constructor defaults unless the files say otherwise). */
export interface BioGptSpecialTokens {
  sep: string;
  unk: string;
  pad: string;
  bos: string;
}

// Character classes of the Moses rules, in the regex dialect both tokenizer libraries read
// (Oniguruma; @huggingface/tokenizers rewrites it to JavaScript).
const ALNUM = String.raw`\p{Alphabetic}\p{Nd}`; // Perl IsAlnum
const ALPHA = String.raw`\p{Alphabetic}`; // Perl IsAlpha
const NUM = String.raw`\p{N}`; // Perl IsN

// Moses's escapes (escape_xml), in its order: `&` first so the others are not escaped twice.
const XML_ESCAPES: [string, string][] = [
  ['&', '&amp;'],
  ['|', '&#124;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
  ["'", '&apos;'],
  ['"', '&quot;'],
  ['[', '&#91;'],
  [']', '&#93;'],
];

// Moses's English non-breaking prefixes (nonbreaking_prefix.en): a token made of one of these
// and a final period keeps the period. `No`, `no`, `Art` and `pp` only before a number.
const NONBREAKING_PREFIXES = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Drs Ens Gen Gov Hon Hr Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps Res Rev Rt Sen Sens Sfc Sgt Sr St Supt Surg'.split(
    ' ',
  ),
  ...'v vs i.e rev e.g ca approx cf Cf Nos Nr Jan Feb Mar Apr Jun Jul Aug Sep Oct Nov Dec'.split(' '),
];
const NUMERIC_ONLY_PREFIXES = ['No', 'no', 'Art', 'pp'];

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternation = (words: string[]) =>
  [...words]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegex)
    .join('|');

// Token start / end as Moses sees them after padding: not inside a run of letters, digits,
// periods or backticks (the characters Moses leaves inside tokens).
const TOKEN_START = String.raw`(?<![${ALNUM}.\x60])`;
const TOKEN_END = String.raw`(?![${ALNUM}.])`;

/** The `@` put around a hyphen that Moses does not split (not between two letters/digits). */
const HYPHEN_AT_TO_REMOVE = [
  String.raw`(?<![${ALNUM}])@(?=-@)`,
  String.raw`@(?=-@(?![${ALNUM}]))`,
  String.raw`(?<=@-)@(?![${ALNUM}])`,
  String.raw`(?<=\A@-|[^${ALNUM}]@-)@`,
].join('|');

/** What Moses cuts out of a run of non-space characters, tried in this order at each position. */
const MOSES_PIECES = [
  // English apostrophes: `patient's` → `patient 's`, `1990's` → `1990 's`; otherwise alone.
  String.raw`(?<=[${ALPHA}])&apos;[${ALPHA}][${ALNUM}]*`,
  String.raw`(?<=[${NUM}])&apos;s[${ALNUM}]*`,
  String.raw`&(?:amp|#124|lt|gt|apos|quot|#91|#93);`,
  '@-@',
  String.raw`\.{2,}`,
  // Commas, except between two digits (5,300).
  String.raw`(?<![${NUM}]),|,(?![${NUM}])`,
  // Tokens that keep their final period: non-breaking prefixes, dotted abbreviations with a
  // letter (e.g. b.i.d.), numeric-only prefixes before a number.
  String.raw`${TOKEN_START}(?:${alternation(NONBREAKING_PREFIXES)})\.${TOKEN_END}`,
  String.raw`${TOKEN_START}(?=[\p{Nd}.]*[${ALPHA}])[${ALNUM}]*(?:\.[${ALNUM}]+)+\.${TOKEN_END}`,
  String.raw`${TOKEN_START}(?:${alternation(NUMERIC_ONLY_PREFIXES)})\.(?=\s+[0-9])`,
  // Any other final period, unless the next token starts with a lower-case letter.
  String.raw`\.${TOKEN_END}(?!\s+\p{Lowercase})`,
  // Everything Moses pads with spaces: all but letters, digits, whitespace and . , `
  String.raw`[^${ALNUM}\s.,\x60]`,
].join('|');

/**
 * Converts BioGptTokenizer files (vocab.json with `</w>` word ends, fastBPE merges.txt) into a
 * tokenizer.json for @huggingface/tokenizers. The Moses step is approximated (module header).
 * @param vocab - vocab.json: token → id, `</w>` marking a word's last piece
 * @param mergesText - merges.txt: `left right [count]` per line, best merge first
 * @param special - the special tokens (BioGptTokenizer defaults: `</s>`, `<unk>`, `<pad>`, `<s>`)
 * @throws Error when the files are not of the BioGPT kind
 */
export function bioGptTokenizerJson(
  vocab: Record<string, number>,
  mergesText: string,
  special: BioGptSpecialTokens = { sep: '</s>', unk: '<unk>', pad: '<pad>', bos: '<s>' },
): Record<string, unknown> {
  for (const token of [special.sep, special.unk]) {
    if (!Number.isInteger(vocab[token])) throw new Error(`vocab.json has no "${token}": not a BioGPT vocabulary`);
  }
  if (!Object.keys(vocab).some((token) => token.endsWith('</w>'))) {
    throw new Error('vocab.json has no token ending in "</w>": not a BioGPT (fastBPE) vocabulary');
  }
  // As BioGptTokenizer reads it: split on "\n" and drop the last element (the empty string
  // after the final newline, or the last merge of a file without one), first two fields.
  const merges = mergesText
    .split('\n')
    .slice(0, -1)
    .map((line) => line.split(/\s+/).filter(Boolean))
    .filter((fields) => fields.length >= 2)
    .map(([left, right]) => `${left} ${right}`);

  const specialTokens = [...new Set([special.bos, special.pad, special.sep, special.unk])].filter((t) => Number.isInteger(vocab[t]));
  const replace = (from: string, to: string, regex = false) => ({ type: 'Replace', pattern: regex ? { Regex: from } : { String: from }, content: to });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens
      .map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
      .sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        // Moses turns \s runs into one space, then deletes the remaining C0 controls.
        replace(String.raw`[\x1c-\x1f]`, ' ', true),
        replace(String.raw`[\x00-\x08\x0e-\x1b]`, '', true),
        ...XML_ESCAPES.map(([from, to]) => replace(from, to)),
        replace('-', '@-@'),
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: HYPHEN_AT_TO_REMOVE }, behavior: 'Removed', invert: false },
        { type: 'Split', pattern: { Regex: MOSES_PIECES }, behavior: 'Isolated', invert: false },
        { type: 'WhitespaceSplit' },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: special.sep, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: special.sep, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: special.sep, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [special.sep]: { id: special.sep, ids: [vocab[special.sep]], tokens: [special.sep] } },
    },
    decoder: { type: 'BPEDecoder', suffix: '</w>' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: special.unk,
      continuing_subword_prefix: null,
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** One more than the largest id of a tokenizer.json (model vocab and added tokens). */
function vocabSizeOf(json: Record<string, unknown>): number {
  const model = json.model as { vocab?: Record<string, number> | [string, number][] } | undefined;
  const ids: number[] = [];
  if (Array.isArray(model?.vocab))
    model.vocab.forEach((_, i) => ids.push(i)); // Unigram: [piece, score][]
  else ids.push(...Object.values(model?.vocab ?? {}));
  for (const token of (json.added_tokens as { id: number }[] | undefined) ?? []) ids.push(token.id);
  return ids.reduce((max, id) => Math.max(max, id + 1), 0);
}

function tokenizerNotes(kind: 'copied' | 'converted', hfDir: string): string {
  if (kind === 'copied') {
    return `# tokenizer.json\n\nCopied unchanged from the export's tokenizer.json (${path.basename(hfDir)}/tokenizer.json).\n`;
  }
  return `# tokenizer.json: converted from BioGptTokenizer files

The export had no tokenizer.json: BioGPT's Hugging Face tokenizer is the slow Python
\`BioGptTokenizer\` (sacremoses Moses tokenization, then fastBPE-style BPE). import-hf-model
converted its \`vocab.json\` and \`merges.txt\` into a BPE tokenizer.json. The BPE step and the
special tokens are the same; the Moses step is rebuilt from normalizers and regex splits and
is an approximation.

## Same as BioGptTokenizer

- BPE: characters with \`</w>\` on the last one, merges by rank (line order of merges.txt, first
  two fields; the file's last line is ignored, as BioGptTokenizer does), pieces not in the
  vocabulary become \`<unk>\`. No lower-casing, no Unicode normalization.
- Special tokens: \`</s>\` before each sequence, nothing after (\`build_inputs_with_special_tokens\`),
  so every window of a note starts with \`</s>\`. Padding uses config.json \`padTokenId\` (the
  model's \`pad_token_id\`): BioGPT's classification head reads the last token that is not
  padding.
- Moses rules mirrored: control characters removed; \`& | < > ' " [ ]\` escaped as
  \`&amp; &#124; &lt; &gt; &apos; &quot; &#91; &#93;\`; a hyphen between two letters/digits
  becomes the token \`@-@\` (aggressive dash splits); every other character that is not a
  letter, digit, whitespace, period, comma or backtick is a token of its own; runs of dots
  are one token; commas are split off except between digits; English apostrophes (\`patient's\` → \`patient\`
  \`&apos;s\`, \`1990's\` → \`1990\` \`&apos;s\`); a token's final period is split off except after
  Moses's English non-breaking prefixes (\`Dr.\`, \`vs.\`, single capitals…), in dotted
  abbreviations with a letter (\`e.g.\`, \`b.i.d.\`), before a word starting in lower case, and
  \`No.\`/\`Art.\`/\`pp.\` before a number.

## Known differences (approximations)

- A hyphen with a letter/digit on one side only (\`-5\`, \`2-\`, \`--\`, \`----\`) becomes a
  separate \`-\` token; Moses keeps it inside the token, and BPE then gives the word-internal
  piece \`-\` (another id) instead of \`-</w>\`. Lone hyphens (\` - \`) are the same.
- A quote at the very start or the very end of a note, and a comma opening a note before a
  digit: Moses leaves them attached to the neighbouring token.
- Character classes are JavaScript's Unicode properties (\`Alphabetic\`, \`Nd\`, \`N\`,
  \`Lowercase\`), not the Perl tables sacremoses ships; whitespace is JavaScript's (U+FEFF counts
  as space, U+0085 does not).
- The library merges BPE pairs with a priority queue (lowest rank first, ties left to right);
  believed to give the same pieces as the Python loop.
- merges.txt keeps fastBPE's intermediate merges whose result is not in the vocabulary
  (\`&apos\`, \`-@</w>\`, …), as BioGptTokenizer does. @huggingface/tokenizers accepts them; the
  native Rust \`tokenizers\` library refuses to load this file ("Token … out of vocabulary").

## Offsets

Escapes are made one character at a time, so each token maps back to exact characters of the
note: the token \`&apos;s\` spans \`'s\`, \`@-@\` spans \`-\`, \`&amp;\` spans \`&\`.

## Before trusting scores

This conversion gives the ids of transformers' BioGPT integration test ("COVID-19 is" →
\`2 4805 9 656 21\`) but was not compared with the Python tokenizer itself (it cannot be
installed where the tool was written). On a machine with transformers and sacremoses, print
\`BioGptTokenizer.from_pretrained(<model>)(text)["input_ids"]\` for a few notes and compare with
the ids this tokenizer.json gives (\`</s>\` + note tokens).
`;
}

// ---------------------------------------------------------------------------------------
// Files

async function checkOutIsFree(out: string): Promise<void> {
  if (!existsSync(out)) return;
  if (!(await stat(out)).isDirectory() || (await readdir(out)).length > 0) {
    throw new Error(`--out ${out} already exists and is not empty: remove it or choose another directory`);
  }
}

async function findModelFile(hfDir: string, onnxFile: string | undefined): Promise<string> {
  if (onnxFile !== undefined) {
    const file = path.resolve(hfDir, onnxFile);
    if (!existsSync(file)) throw new Error(`--onnx ${onnxFile} not found in ${hfDir}`);
    return file;
  }
  for (const candidate of ['model.onnx', path.join('onnx', 'model.onnx')]) {
    if (existsSync(path.join(hfDir, candidate))) return path.join(hfDir, candidate);
  }
  const found = (await readdir(hfDir)).filter((name) => name.endsWith('.onnx'));
  if (found.length === 1) return path.join(hfDir, found[0]);
  if (found.length === 0) {
    throw new Error(`no ONNX model in ${hfDir}: expected model.onnx (the name optimum-cli and the README's torch.onnx.export recipe write)`);
  }
  throw new Error(`${hfDir} has several ONNX models (${found.join(', ')}): name the one to import with --onnx`);
}

/** Files holding the model's external tensor data (an export above 2 GB, or some exporters'
 * choice): `model.onnx_data`, `model.onnx.data`, … next to the model. */
async function externalDataFiles(modelFile: string): Promise<string[]> {
  const base = path.basename(modelFile);
  return (await readdir(path.dirname(modelFile))).filter((name) => name !== base && (name.startsWith(`${base}_data`) || name.startsWith(`${base}.data`)));
}

function defaultName(hfConfig: Record<string, unknown>, hfDir: string): string {
  const origin = hfConfig._name_or_path;
  // A Hub id ("owner/model") names the model; a local path does not.
  if (typeof origin === 'string' && /^[\w.-]+\/[\w.-]+$/.test(origin)) return origin;
  return path.basename(hfDir);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new Error(`${what} ${file} cannot be read`);
  }
}

async function readJsonObject(file: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new Error(`${file} not found: the export must include ${what}`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file} must be a JSON object`);
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------
// Command line

async function main() {
  const { values } = parseArgs({
    options: {
      'hf-dir': { type: 'string' },
      out: { type: 'string' },
      labels: { type: 'string' },
      threshold: { type: 'string' },
      'max-length': { type: 'string' },
      overlap: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      'clinically-meaningful': { type: 'boolean', default: false },
      'micro-f1': { type: 'string' },
      onnx: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (!values['hf-dir'] || !values.out)
    throw new UsageError(
      'usage: import-hf-model --hf-dir <export dir> --out <bundle dir> [--labels <file>] [--threshold 0.4] [--max-length 1024] [--overlap 124] [--name <name>] [--version <version>] [--clinically-meaningful] [--micro-f1 <number|none>] [--onnx <file>] [--threads <n>]',
    );
  const number = (flag: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`--${flag} ${raw} is not a number`);
    return value;
  };
  const microF1 = values['micro-f1'] === 'none' ? null : number('micro-f1', values['micro-f1']);
  const result = await importHfModel({
    hfDir: values['hf-dir'],
    out: values.out,
    labelsFile: values.labels,
    threshold: number('threshold', values.threshold),
    maxLength: number('max-length', values['max-length']),
    overlap: number('overlap', values.overlap),
    name: values.name,
    version: values.version,
    clinicallyMeaningful: values['clinically-meaningful'],
    microF1,
    onnxFile: values.onnx,
    threads: number('threads', values.threads),
  });
  for (const note of result.notes) console.error(`note: ${note}`);
  console.log(result.summary);
}

runCommand(module, 'import-hf', main);

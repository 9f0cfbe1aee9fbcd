/**
 * `npm run bench:model -- [--model <dir>] [--words 2000] [--runs 200] [--threads 2] [--note <file>]`
 *
 * Time to classify one note with a bundle, in-process (tokenizer with offsets, windows,
 * onnxruntime, pooling): what the model stage costs per note, without HTTP. Prints JSON with
 * the median, p95 and p99 of `classify`, and the share spent tokenizing.
 *
 * The same note is classified on every run, so the tokenizer's word cache would know all its
 * words: `classifyMs` is measured with the cache off (what a note of unseen words costs),
 * `classifyWarmCacheMs` with it on (a note whose words were all seen before).
 *
 * The default note is test/fixtures/notes/discharge-summary.txt repeated to `--words` words
 * (a real-size note built from realistic text, not a real patient's note).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../paths';
import { readBundle } from '../model/bundle';
import { createClassifier } from '../model/classifier';
import { createNoteTokenizer } from '../model/tokenizer';
import { runCommand } from '../cli/command';
import { percentile } from './stats';

/** A note of about `words` words made by repeating `text`. */
export function noteOfWords(text: string, words: number): string {
  const source = text.split(/(\s+)/);
  const out: string[] = [];
  let count = 0;
  for (let i = 0; count < words; i = (i + 1) % source.length) {
    out.push(source[i]);
    if (/\S/.test(source[i])) count++;
  }
  return out.join('');
}

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'default') },
      words: { type: 'string', default: '2000' },
      runs: { type: 'string', default: '200' },
      threads: { type: 'string', default: '2' },
      note: { type: 'string', default: path.join(PROJECT_ROOT, 'test', 'fixtures', 'notes', 'discharge-summary.txt') },
    },
  });
  const runs = Number(values.runs);
  const text = noteOfWords(readFileSync(values.note!, 'utf8'), Number(values.words));
  const classifier = await createClassifier(values.model!, { intraOpThreads: Number(values.threads), wordCacheSize: 0 });
  const cached = await createClassifier(values.model!, { intraOpThreads: Number(values.threads) });
  const tokenizer = createNoteTokenizer((await readBundle(values.model!)).tokenizerJson, { wordCacheSize: 0 });

  const time = async (fn: () => unknown) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await classifier.classify(text); // warm-up
  for (let i = 0; i < 20; i++) await cached.classify(text);
  const total: number[] = [];
  const warm: number[] = [];
  const tokenize: number[] = [];
  for (let i = 0; i < runs; i++) {
    total.push(await time(() => classifier.classify(text)));
    warm.push(await time(() => cached.classify(text)));
    tokenize.push(await time(() => tokenizer.encode(text)));
  }
  for (const list of [total, warm, tokenize]) list.sort((a, b) => a - b);
  const sample = await classifier.classify(text);
  const round = (x: number) => Number(x.toFixed(2));
  const summary = (sorted: number[]) => ({
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0]),
  });
  console.log(
    JSON.stringify(
      {
        model: `${classifier.info.name} ${classifier.info.version}`,
        note: { words: Number(values.words), characters: text.length, tokens: sample.tokenCount, windows: sample.windowCount },
        runs,
        intraOpThreads: Number(values.threads),
        classifyMs: summary(total),
        tokenizeMs: { p50: round(percentile(tokenize, 50)), p95: round(percentile(tokenize, 95)) },
        classifyWarmCacheMs: summary(warm),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      },
      null,
      2,
    ),
  );
  await classifier.dispose();
  await cached.dispose();
}

runCommand(module, 'bench:model', main);

/**
 * `npm run bench:engine -- --notes ../shared/data/mtsamples [--words 1400] [--runs 300]`: the
 * Index engine's own stages on one core, in this process: the mention finder
 * (finder/find-mentions.ts) and the whole Index coding of a note (assign/code-note.ts: finder,
 * context, Index walk, Tabular refinement). The note is the first `--words` words of the
 * MTSamples discharge summaries joined, so it reads like the notes the service gets.
 * Figures are p50 and p95 in ms after a warm-up (tools/stats.ts percentile).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../cli/command';
import { indexEngineOf } from '../engine/index-engine';
import { loadCodeSet } from '../codeset/code-set';
import { passagesOf } from '../evidence/passages';
import { createMentionFinder } from '../finder/find-mentions';
import { createLexicon } from '../finder/lexicon';
import { termIndexesOf } from '../finder/term-index';
import { loadKnowledge } from '../knowledge/knowledge';
import { PROJECT_ROOT } from '../paths';
import { mtsamplesDischargeSummaries } from './read-mtsamples';
import { percentile } from './stats';

const USAGE = 'usage: npm run bench:engine -- --notes <MTSamples dir> [--words 1400] [--runs 300]';

/** p50 and p95 of `runs` timed calls after `runs / 10` untimed ones. */
function timed(runs: number, call: () => unknown): { p50: number; p95: number } {
  for (let i = 0; i < Math.ceil(runs / 10); i++) call();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    call();
    ms.push(performance.now() - start);
  }
  const round = (x: number) => Number(x.toFixed(2));
  return { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)) };
}

runCommand(module, 'bench:engine', async () => {
  const { values } = parseArgs({
    options: { notes: { type: 'string' }, words: { type: 'string', default: '1400' }, runs: { type: 'string', default: '300' } },
  });
  const words = Number(values.words);
  const runs = Number(values.runs);
  if (!values.notes || !Number.isInteger(words) || words < 1 || !Number.isInteger(runs) || runs < 1) throw new UsageError(USAGE);
  const models = path.join(PROJECT_ROOT, 'models');
  const loadStart = performance.now();
  const [codeSet, knowledge] = await Promise.all([loadCodeSet(path.join(models, 'icd10cm-2023')), loadKnowledge(path.join(models, 'knowledge'))]);
  const engine = indexEngineOf(codeSet, knowledge);
  const loadMs = Math.round(performance.now() - loadStart);
  const finder = createMentionFinder(
    termIndexesOf(codeSet, knowledge.spelling).index,
    createLexicon(knowledge.lexicon, knowledge.spelling),
    knowledge.mainTerms,
  );

  const text = mtsamplesDischargeSummaries(values.notes).join('\n').split(/\s+/).slice(0, words).join(' ');
  const clauses = passagesOf(text);
  return {
    note: { words, characters: text.length },
    loadMs,
    mentionFinderMs: timed(runs, () => finder.find(text, clauses)),
    indexCodingMs: timed(runs, () => engine.codeNote(text, 'inpatient')),
    runs,
  };
});

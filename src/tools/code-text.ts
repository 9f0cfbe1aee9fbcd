/**
 * `npm run code-text -- "<text>" [--outpatient]`: the Index engine's candidates for a text,
 * with their paths (a development aid for reading what the engine does).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../cli/command';
import { loadIndexEngine } from '../engine/index-engine';
import { PROJECT_ROOT } from '../paths';

runCommand(module, 'code-text', async () => {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { outpatient: { type: 'boolean', default: false } } });
  if (positionals.length === 0) throw new UsageError('usage: npm run code-text -- "<text>" [--outpatient]');
  const engine = await loadIndexEngine(path.join(PROJECT_ROOT, 'models', 'icd10cm-2023'), path.join(PROJECT_ROOT, 'models', 'knowledge'));
  const text = positionals.join(' ');
  const result = engine.codeNote(text, values.outpatient ? 'outpatient' : 'inpatient');
  return {
    candidates: result.candidates.map((c) => ({
      code: c.code,
      display: c.display,
      notes: c.notes,
      supports: c.supports.map((s) => ({
        mention: text.slice(s.mention.start, s.mention.end),
        status: s.status,
        rationale: s.rationale,
        path: s.path.join(' → '),
      })),
    })),
    dropped: result.dropped,
  };
});

/**
 * `npm run docs:config`: writes docs/configuration.md from the settings table (config.ts
 * SETTINGS), the same table that parses the environment; a test checks the committed file
 * equals this output, so the doc and the validation cannot drift.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../cli/command';
import { settingRows } from '../config';
import { PROJECT_ROOT } from '../paths';

export const CONFIGURATION_DOC = path.join(PROJECT_ROOT, 'docs', 'configuration.md');

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration doc, as Markdown. */
export function configurationDoc(): string {
  const rows = settingRows();
  const lines = [
    '# Configuration',
    '',
    'Every setting is an environment variable, read once at start-up by `src/config.ts`; every problem is reported at once and the',
    'service does not start. This page is generated from the same table (`npm run docs:config`); a test fails when it is out of date.',
    '',
  ];
  for (const group of [...new Set(rows.map((r) => r.group))]) {
    lines.push(`## ${group}`, '', '| variable | default | accepts | meaning |', '|---|---|---|---|');
    for (const r of rows.filter((row) => row.group === group)) {
      lines.push(`| \`${r.env}\` | ${r.default === undefined ? '(not set)' : `\`${cell(r.default)}\``} | ${cell(r.accepts)} | ${cell(r.doc)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

runCommand(module, 'docs:config', () => {
  writeFileSync(CONFIGURATION_DOC, configurationDoc());
  return { written: path.relative(PROJECT_ROOT, CONFIGURATION_DOC) };
});

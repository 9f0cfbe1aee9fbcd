/**
 * `node dist-tools/tools/assertion-accuracy.js [--table <sentences.json>] [--json]`: accuracy of
 * evidence/assertion.ts on a table of written sentences, overall and per expected status.
 * Rows marked `"known": "fails"` count as errors like any other. Prints a text table, or JSON.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assertionOf, type AssertionStatus } from '../evidence/assertion';
import type { Span } from '../evidence/passages';
import { PROJECT_ROOT } from '../paths';

/** One row of test/fixtures/assertion/sentences.json. */
export interface AssertionCase {
  text: string;
  /** The mention, found verbatim in `text`. */
  target: string;
  /** Which occurrence of `target` (1-based) when it appears more than once. */
  nth?: number;
  status: AssertionStatus;
  tag?: string;
  /** Marks a current error, with `reason`. */
  known?: 'fails';
  reason?: string;
  note?: string;
}

export interface Tally {
  rows: number;
  correct: number;
  accuracy: number;
}

export interface AccuracyReport {
  overall: Tally;
  byStatus: Partial<Record<AssertionStatus, Tally>>;
  errors: Array<{ text: string; target: string; expected: AssertionStatus; actual: AssertionStatus; known: boolean }>;
}

/**
 * The span of a row's mention in its text.
 * @param row - a table row
 */
export function targetSpan(row: AssertionCase): Span {
  let start = -1;
  for (let n = 0; n < (row.nth ?? 1); n++) start = row.text.indexOf(row.target, start + 1);
  if (start < 0) throw new Error(`target "${row.target}" not found in "${row.text}"`);
  return { start, end: start + row.target.length };
}

/**
 * Runs assertionOf on every row and tallies the agreement.
 * @param rows - the table
 */
export function assertionAccuracy(rows: readonly AssertionCase[]): AccuracyReport {
  const tally = (rows: number, correct: number): Tally => ({ rows, correct, accuracy: rows ? Number((correct / rows).toFixed(4)) : 0 });
  const counts = new Map<AssertionStatus, [number, number]>();
  const errors: AccuracyReport['errors'] = [];
  for (const row of rows) {
    const actual = assertionOf(row.text, targetSpan(row)).status;
    const [n, ok] = counts.get(row.status) ?? [0, 0];
    counts.set(row.status, [n + 1, ok + (actual === row.status ? 1 : 0)]);
    if (actual !== row.status) errors.push({ text: row.text, target: row.target, expected: row.status, actual, known: row.known === 'fails' });
  }
  const byStatus: AccuracyReport['byStatus'] = {};
  for (const [status, [n, ok]] of [...counts].sort()) byStatus[status] = tally(n, ok);
  return { overall: tally(rows.length, rows.length - errors.length), byStatus, errors };
}

/**
 * The report as a small text table.
 * @param report - from assertionAccuracy
 */
export function formatAccuracy(report: AccuracyReport): string {
  const line = (name: string, t: Tally) =>
    `${name.padEnd(14)}${String(t.correct).padStart(5)} /${String(t.rows).padStart(4)}  ${(100 * t.accuracy).toFixed(1).padStart(5)}%`;
  return [
    'status          correct/rows  accuracy',
    ...Object.entries(report.byStatus).map(([status, t]) => line(status, t)),
    line('overall', report.overall),
    ...report.errors.map((e) => `error${e.known ? ' (known)' : ''}: "${e.target}" in "${e.text}": expected ${e.expected}, got ${e.actual}`),
  ].join('\n');
}

/** Reads the table file. */
export function readAssertionTable(file: string): AssertionCase[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { rows: AssertionCase[] }).rows;
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      // Both src/tools and dist-tools/tools sit two levels below the project root.
      table: { type: 'string', default: path.join(PROJECT_ROOT, 'test', 'fixtures', 'assertion', 'sentences.json') },
      json: { type: 'boolean', default: false },
    },
  });
  const report = assertionAccuracy(readAssertionTable(values.table!));
  console.log(values.json ? JSON.stringify(report, null, 2) : formatAccuracy(report));
}

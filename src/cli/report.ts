/**
 * `npm run report -- [--store <path>] [--since <date>]`: acceptance of the suggestions, per
 * code, from the audit trail and the feedback, as JSON (Store.acceptanceReport).
 *
 * The store defaults to STORE_PATH (config.ts), and must exist: the command never creates
 * one. It reads while the service runs (WAL readers do not block the writer).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { runCommand, UsageError } from './command';
import { MEMORY, openSqliteStore } from '../store/sqlite';
import type { AcceptanceReport } from '../store/store';

/**
 * The report of a store file.
 * @param storePath - the SQLite file
 * @param since - only suggestions made at or after this instant (and their feedback)
 */
export async function reportOf(storePath: string, since?: Date): Promise<AcceptanceReport & { store: string }> {
  const store = openSqliteStore(storePath, { fileMustExist: true });
  try {
    return { store: storePath, ...(await store.acceptanceReport({ since })) };
  } finally {
    await store.close();
  }
}

/**
 * A `--since` value: an ISO 8601 date (`2026-11-01`, midnight UTC) or date-time.
 * @param value - the argument
 */
export function parseSince(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

runCommand(module, 'report', () => {
  const usage = 'usage: npm run report -- [--store <path>] [--since <YYYY-MM-DD | ISO date-time with zone>]';
  let values: { store?: string; since?: string };
  try {
    ({ values } = parseArgs({ options: { store: { type: 'string' }, since: { type: 'string' } } }));
  } catch {
    throw new UsageError(usage);
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  const storePath = values.store ?? loadConfig(process.env).storePath;
  if ((values.since !== undefined && !since) || storePath === MEMORY) throw new UsageError(usage);
  return reportOf(storePath, since);
});

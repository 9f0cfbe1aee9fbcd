/**
 * `npm run report -- [--store <path | postgres URL>] [--since <date>]`: acceptance of the
 * suggestions, per code, from the audit trail and the feedback, as JSON
 * (Store.acceptanceReport).
 *
 * The store defaults to STORE_URL when set (the PostgreSQL database replicas share: the report
 * covers all of them), else STORE_PATH (config.ts); a SQLite file must exist: the command
 * never creates one. It reads while the service runs (WAL readers do not block the writer;
 * PostgreSQL reads one snapshot).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { runCommand, UsageError } from './command';
import { openPostgresStore, resolvePostgresSettings } from '../store/postgres';
import { MEMORY, openSqliteStore } from '../store/sqlite';
import type { AcceptanceReport } from '../store/store';

const isPostgresUrl = (store: string) => /^postgres(ql)?:\/\//i.test(store);

/**
 * The report of a store.
 * @param location - the SQLite file, or a postgres:// URL
 * @param since - only suggestions made at or after this instant (and their feedback)
 * @returns the report, with `store` naming the file or the URL without its password
 */
export async function reportOf(location: string, since?: Date): Promise<AcceptanceReport & { store: string }> {
  const postgres = isPostgresUrl(location);
  const store = postgres ? await openPostgresStore(location) : openSqliteStore(location, { fileMustExist: true });
  try {
    return { store: postgres ? resolvePostgresSettings(location).location : location, ...(await store.acceptanceReport({ since })) };
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
  const usage = 'usage: npm run report -- [--store <path | postgres URL>] [--since <YYYY-MM-DD | ISO date-time with zone>]';
  let values: { store?: string; since?: string };
  try {
    ({ values } = parseArgs({ options: { store: { type: 'string' }, since: { type: 'string' } } }));
  } catch {
    throw new UsageError(usage);
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  const config = values.store === undefined ? loadConfig(process.env) : undefined;
  const location = values.store ?? config?.storeUrl ?? config!.storePath;
  if ((values.since !== undefined && !since) || location === MEMORY) throw new UsageError(usage);
  return reportOf(location, since);
});

/**
 * The PostgreSQL schema's versions, oldest first, applied at open by `postgres.ts` (under an
 * advisory lock, each in its own transaction, recorded in `schema_migrations`). Each version is
 * a TypeScript module exporting its SQL, so the built service reads no file from `src/`.
 *
 * Append only: add a file and list it here; never edit or reorder a released one (a database
 * that applied it would keep the old version). A store refuses a database whose recorded
 * versions are not a prefix of this list.
 */
import { records } from './0001-records';
import { tokenClaims } from './0002-token-claims';
import { bulkJobs } from './0003-bulk-jobs';
import type { Migration } from './migration';

export type { Migration } from './migration';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [records, tokenClaims, bulkJobs];

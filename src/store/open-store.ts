/**
 * The service's store, chosen by the configuration: PostgreSQL when STORE_URL is set (replicas
 * share it), else the SQLite file of STORE_PATH. main.ts opens it before the model is loaded,
 * so a bad URL, a refused password or an unreachable database stops the start at once.
 */
import type { Config } from '../config';
import type { Logger } from '../log';
import { openPostgresStore, resolvePostgresSettings } from './postgres';
import { openSqliteStore } from './sqlite';
import type { Store } from './store';

type StoreConfig = Pick<Config, 'storePath' | 'storeUrl' | 'storePoolSize' | 'storeStatementTimeoutMs' | 'storeConnectTimeoutMs'>;

/**
 * Opens the configured store and logs where it is (never the password).
 * @param config - STORE_URL, STORE_PATH and the PostgreSQL pool settings
 * @param log - where the store logs lost connections and schema changes
 * @throws Error naming every problem of STORE_URL (without its password), refused
 *   authentication or an unknown schema; StoreUnavailableError when the database is unreachable
 */
export async function openStore(config: StoreConfig, log: Logger): Promise<Store> {
  if (config.storeUrl === undefined) {
    const store = openSqliteStore(config.storePath);
    log.info({ store: store.kind, path: config.storePath }, 'store opened');
    return store;
  }
  const options = {
    poolSize: config.storePoolSize,
    statementTimeoutMs: config.storeStatementTimeoutMs,
    connectionTimeoutMs: config.storeConnectTimeoutMs,
  };
  // Checked before connecting: every problem of the URL at once, without its password.
  const { location } = resolvePostgresSettings(config.storeUrl, options);
  const store = await openPostgresStore(config.storeUrl, { ...options, log });
  log.info({ store: store.kind, location, poolSize: options.poolSize }, 'store opened');
  return store;
}

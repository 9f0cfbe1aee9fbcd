/**
 * The contract between the app and its parts: what createApp hands to the edges (routers,
 * handlers, authentication). Types only, at the bottom of the import graph: nothing here
 * imports app.ts, and app.ts is imported by main.ts alone.
 */
import type { SuggestionService } from './analysis/suggestions';
import type { TrustedClient } from './auth/trusted-clients';
import type { Config } from './config';
import type { DrainState } from './http/drain';
import type { Logger } from './log';
import type { ModelInfo } from './model/types';
import type { CodeSet } from './codeset/code-set';
import type { RuleChecker } from './rules/check-coding';
import type { Store } from './store/store';

export interface Services {
  config: Readonly<Config>;
  /** The loaded model's identity and shape. */
  model: ModelInfo;
  /** Suggestions with the result cache, in-flight sharing and deadlines (analysis/suggestions.ts). */
  suggestions: SuggestionService;
  /** The CDS clients trusted by the configuration (CDS_CLIENTS), checked. */
  trustedClients: readonly TrustedClient[];
  /** The loaded code set: delta coding and the coding rules read its hierarchy and notes. */
  codeSet: CodeSet;
  /** The coding-rule checks (rules/check-coding.ts). */
  rules: RuleChecker;
  log: Logger;
  store: Store;
  newId: () => string;
  now: () => Date;
  /** In-flight requests and the SIGTERM drain. */
  drain: DrainState;
}

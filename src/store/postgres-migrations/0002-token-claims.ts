/**
 * Version 2: client-token ids already used, shared by every replica (replay protection,
 * CDS Hooks 2.0 §Trusting CDS Clients). A claim past keep_until may be taken again, and is
 * swept; rows are logged (not UNLOGGED) so a database crash does not reopen a replay window.
 */
import type { Migration } from './migration';

export const tokenClaims: Migration = {
  version: 2,
  name: 'token-claims',
  sql: `
  CREATE TABLE token_claim (
    issuer text NOT NULL,
    jti text NOT NULL,
    keep_until timestamptz NOT NULL,
    PRIMARY KEY (issuer, jti)
  );
  CREATE INDEX token_claim_keep_until ON token_claim (keep_until);
  `,
};

/**
 * Version 1: the audit trail, feedback, the result cache and the health row, the PostgreSQL
 * form of SQLite's versions 1 and 2 (same tables, columns and constraints; instants as
 * timestamptz, `refines` as text[]).
 */
import type { Migration } from './migration';

/** Audit and feedback rows are never changed or removed by the service. */
const APPEND_ONLY = ['audit_call', 'audit_document', 'audit_suggestion', 'audit_evidence', 'feedback'];

export const records: Migration = {
  version: 1,
  name: 'records',
  sql: `
  CREATE TABLE audit_call (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id text NOT NULL,
    edge text NOT NULL CHECK (edge IN ('cds-hooks', 'fhir')),
    service text NOT NULL,
    call_id text NOT NULL,
    user_ref text,
    patient_ref text,
    encounter_ref text,
    model_name text NOT NULL,
    model_version text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('suggestions', 'no-suggestion', 'no-document')),
    analysis text NOT NULL DEFAULT 'computed' CHECK (analysis IN ('computed', 'cached', 'pending')),
    recorded_at timestamptz NOT NULL
  );
  CREATE INDEX audit_call_recorded_at ON audit_call (recorded_at);
  CREATE INDEX audit_call_request_id ON audit_call (request_id);

  CREATE TABLE audit_document (
    call bigint NOT NULL REFERENCES audit_call (id),
    note integer NOT NULL,
    reference text,
    content_index integer NOT NULL,
    content_type text NOT NULL,
    sha256 text NOT NULL CHECK (length(sha256) = 64),
    length integer NOT NULL,
    PRIMARY KEY (call, note)
  );

  CREATE TABLE audit_suggestion (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call bigint NOT NULL REFERENCES audit_call (id),
    rank integer NOT NULL,
    code text NOT NULL,
    score double precision NOT NULL,
    threshold double precision NOT NULL,
    status text,
    card_uuid text,
    suggestion_id text NOT NULL,
    refines text[],
    UNIQUE (call, rank)
  );
  CREATE INDEX audit_suggestion_card ON audit_suggestion (card_uuid) WHERE card_uuid IS NOT NULL;
  CREATE INDEX audit_suggestion_code ON audit_suggestion (code);

  CREATE TABLE audit_evidence (
    suggestion bigint NOT NULL REFERENCES audit_suggestion (id),
    rank integer NOT NULL,
    note integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    status text,
    PRIMARY KEY (suggestion, rank)
  );

  CREATE TABLE feedback (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id text NOT NULL,
    service text NOT NULL,
    card_uuid text NOT NULL,
    suggestion bigint REFERENCES audit_suggestion (id),
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    -- JSON array of the sorted suggestion uuids, as in SQLite: part of the entry's identity.
    accepted_suggestions text NOT NULL,
    reason_system text,
    reason_code text,
    reason_display text,
    user_comment text,
    -- As sent (RFC 3339, any offset and precision): text, so it reads back verbatim.
    outcome_timestamp text NOT NULL,
    outcome_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL
  );
  -- An entry is stored once, also when two replicas receive it at the same time (the second
  -- INSERT waits for the first and then does nothing). md5 keeps a long list within a btree row.
  CREATE UNIQUE INDEX feedback_entry ON feedback (card_uuid, outcome, md5(accepted_suggestions), outcome_timestamp);
  CREATE INDEX feedback_suggestion ON feedback (suggestion);
  CREATE INDEX feedback_received_at ON feedback (received_at);

  CREATE TABLE store_health (id integer PRIMARY KEY CHECK (id = 1), checked_at timestamptz NOT NULL);

  -- Offsets only, never note text (analysis/cache-value.ts); entries are replaced and expire.
  CREATE TABLE suggestion_cache (
    key text PRIMARY KEY CHECK (length(key) = 64),
    model_name text NOT NULL,
    model_version text NOT NULL,
    value text NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX suggestion_cache_created_at ON suggestion_cache (created_at);

  CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
  END
  $$;
  ${APPEND_ONLY.map(
    (table) => `
  CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_change();
  CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();`,
  ).join('')}
  `,
};

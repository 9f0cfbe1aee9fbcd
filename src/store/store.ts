/**
 * The service's own records: the audit trail of every suggestion call, the clinicians'
 * feedback on cards, the result cache and the client-token ids already used. This file is the
 * contract; `sqlite.ts` is the embedded implementation (the only importer of better-sqlite3)
 * and `postgres.ts` the shared one (the only importer of pg), for replicas that share one
 * database. Both pass test/unit/store/store-contract.test.ts.
 *
 * Never stored: note text, quoted passages, attachments, prefetch bodies, tokens. The audit
 * locates evidence by offsets and identifies the note by a SHA-256 of its decoded text.
 * The one exception is bulk coding jobs (JobStore, docs/jobs.md): a job's input documents
 * until each is coded, and its output Conditions (with their evidence quotes) until the job
 * is downloaded and expires or is cancelled.
 * Methods are asynchronous so that a networked database can implement them.
 */

/**
 * The store cannot answer now, and may later without any change on our side: the database is
 * unreachable, restarting, too busy (SQLite: locked past the busy timeout), out of disk, or a
 * statement ran past its timeout. The edges answer 503 (OperationOutcome `transient`) so the
 * client retries. A write that rejected with it may still have been committed when the
 * connection broke while its COMMIT was in flight (the database cannot tell us); feedback and
 * token claims are idempotent, an audit record retried after that is stored twice.
 * Anything else a store throws (a constraint violated, a closed store) is a bug or a shutdown.
 */
export class StoreUnavailableError extends Error {
  /**
   * @param message - what failed, without credentials, SQL parameters or record content
   * @param options - the driver's error as `cause`
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** What `claimTokenId` found: the id was free (now claimed) or is held by a live claim. */
export type TokenClaim = 'fresh' | 'replayed';

/** Where a piece of evidence is: note index and `[start, end)` in Unicode code points of its decoded text. */
export interface AuditEvidence {
  note: number;
  start: number;
  end: number;
  /** Assertion status of the passage (present, negated, …), when known. */
  status?: string;
}

/** One decoded document the suggestions were made from. */
export interface AuditDocument {
  /** `DocumentReference/123`, or `identifier:<system>|<value>` when the document had no id. */
  reference?: string;
  /** Index of the content element whose attachment was decoded. */
  contentIndex: number;
  contentType: string;
  /** SHA-256 (hex) of the decoded note text, encoded as UTF-8: the text the offsets index. */
  sha256: string;
  /** Length of the decoded note text in Unicode code points. */
  length: number;
}

/** One suggestion shown (a card at the CDS edge, a Condition at the FHIR edge). */
export interface AuditSuggestion {
  code: string;
  /** Model probability 0–1, and the threshold it was compared with. */
  score: number;
  threshold: number;
  /** CDS edge: the card's uuid, which feedback names. */
  cardUuid?: string;
  /** The card suggestion's uuid (CDS) or the Condition's identifier uuid (FHIR). */
  suggestionId: string;
  /** Overall assertion status of the evidence, when known. */
  status?: string;
  /** Recorded codes this suggestion refines (delta coding). */
  refines?: string[];
  evidence: AuditEvidence[];
}

/**
 * What a call answered (every call answered 200 is recorded; errors are in the request log):
 * - `suggestions`: at least one suggestion;
 * - `no-suggestion`: the model ran and nothing reached its threshold or everything was already recorded;
 * - `no-document`: no usable document, so the model did not run.
 */
export type AuditOutcome = 'suggestions' | 'no-suggestion' | 'no-document';

export type AuditAnalysis = 'computed' | 'cached' | 'pending';

/**
 * One result-cache entry (analysis/cache-value.ts): the suggestions of a note set, with
 * offsets and no note text, under a key hashing the notes' SHA-256s, the model and the
 * settings that change the output.
 */
export interface CacheEntry {
  /** SHA-256 (hex) of the key material. */
  key: string;
  model: { name: string; version: string };
  /** JSON of the suggestions without note text. */
  value: string;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface AuditRecord {
  /** The request's X-Request-Id. */
  requestId: string;
  edge: 'cds-hooks' | 'fhir';
  /** CDS service id, or the FHIR operation (`DocumentReference/$suggest-conditions`). */
  service: string;
  /** hookInstance (CDS), or the id of the Bundle returned (FHIR). */
  callId: string;
  /** The user the CDS client named (context.userId). */
  user?: string;
  /** `Patient/123` (or `identifier:<system>|<value>`), `Encounter/456`. */
  patient?: string;
  encounter?: string;
  model: { name: string; version: string };
  outcome: AuditOutcome;
  /**
   * How the answer was obtained (absent: `computed`): `cached` from the result cache;
   * `pending` when the CDS hook's time budget ran out and it answered an information card
   * while the analysis went on in the background (outcome `no-suggestion`: none was shown).
   */
  analysis?: AuditAnalysis;
  /** ISO 8601 UTC. */
  recordedAt: string;
  documents: AuditDocument[];
  suggestions: AuditSuggestion[];
}

/** One CDS Hooks feedback entry (CDS Hooks 2.0 §Feedback), as stored. */
export interface FeedbackRecord {
  requestId: string;
  service: string;
  /** The card's uuid. */
  card: string;
  outcome: 'accepted' | 'overridden';
  /** Suggestion uuids accepted (empty when overridden). */
  acceptedSuggestions: string[];
  /** The reason picked among the card's overrideReasons, with this service's display. */
  reason?: { system: string; code: string; display: string };
  /** The user's free-text comment, stored as given (never logged). */
  userComment?: string;
  /** As sent by the client (RFC 3339). */
  outcomeTimestamp: string;
  /** The same instant as ISO 8601 UTC (orders a card's entries). */
  outcomeAt: string;
  /** ISO 8601 UTC. */
  receivedAt: string;
}

export interface StoredFeedback extends FeedbackRecord {
  /** False when no audit record holds the card: stored anyway, left out of the report's figures. */
  known: boolean;
  /** The code of the card, when known. */
  code?: string;
}

export interface FeedbackResult {
  card: string;
  known: boolean;
  /** The same entry (card, outcome, accepted suggestions, timestamp) was already stored. */
  duplicate: boolean;
}

/** Acceptance figures of one code. Rates are over the cards with feedback (ignored cards are never reported). */
export interface CodeAcceptance {
  code: string;
  /** Suggestions made at both edges, and of those the CDS cards (only cards get feedback). */
  suggestions: number;
  cards: number;
  /** Cards with at least one feedback entry; the latest entry (by outcomeTimestamp) decides. */
  cardsWithFeedback: number;
  accepted: number;
  overridden: number;
  acceptanceRate: number | null;
  overrideRate: number | null;
  /** Override reasons of the overridden cards, by code (`none` when no reason was picked). */
  overrideReasons: Record<string, number>;
}

export interface AcceptanceReport {
  /** Suggestions made at or after this instant (ISO), when given. */
  since?: string;
  /** Calls recorded; those whose analysis produced no suggestion; hook calls answered over
   * their time budget with the "being prepared" card (analysis still running). */
  calls: number;
  callsWithoutSuggestion: number;
  callsPending: number;
  models: { name: string; version: string; calls: number }[];
  codes: CodeAcceptance[];
  /** Cards named by feedback received in the period that no audit record holds. */
  unknownCards: number;
}

/** A bulk coding job's state: documents queued or being coded, all coded, or cancelled (its rows are then gone). */
export type BulkJobStatus = 'in-progress' | 'completed';

/** A new bulk coding job (jobs/job-service.ts). */
export interface NewBulkJob {
  id: string;
  /** Who started it (auth/authenticate.ts Caller as text); only they may read or cancel it. */
  owner: string;
  /** The kick-off URL, for the manifest's `request`. */
  request: string;
  /** `inpatient` or `outpatient`, when the kick-off named one. */
  setting?: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** When the job and whatever it holds are deleted if it never completes (ISO). */
  expiresAt: string;
}

export interface BulkJobRecord extends NewBulkJob {
  status: BulkJobStatus;
  /** Documents in the job; those coded (with or without suggestions) and those that failed. */
  total: number;
  done: number;
  failed: number;
  completedAt?: string;
}

/** One document's stored result: its Conditions as NDJSON lines, or the OperationOutcome that says why it failed. */
export interface BulkDocumentResult {
  index: number;
  /** NDJSON (one Condition a line, each ending in a newline); '' when none. */
  conditions: string;
  count: number;
  /** JSON of an OperationOutcome when the document failed. */
  error?: string;
}

/** What the job tables hold now, for gauges. */
export interface BulkJobCounts {
  jobs: Record<BulkJobStatus, number>;
  /** Documents waiting or being coded (their input is stored), and results stored. */
  documents: { queued: number; done: number; failed: number };
}

/**
 * The tables of bulk coding jobs (FHIR asynchronous requests): the job, each document's
 * input until its result is stored, and the results until the job expires. Results are keyed
 * by (job, document index) and stored once: a document coded twice (its worker died before
 * the queue heard of it) keeps its first result.
 */
export interface JobStore {
  /** Stores a job and its documents (JSON of each DocumentReference, in order), all or nothing. */
  createJob(job: NewBulkJob, documents: readonly string[]): Promise<void>;
  /** The job with its counts; undefined when unknown, cancelled or expired. */
  bulkJob(id: string): Promise<BulkJobRecord | undefined>;
  /** A document still to code, with its job's setting; undefined when its result is stored or the job is gone. */
  jobDocument(id: string, index: number): Promise<{ document: string; setting?: string } | undefined>;
  /**
   * Stores a document's result unless one is stored or the job is gone, deletes its input,
   * and completes the job when it was the last.
   * @param at - now (ISO), and when the completed job expires (ISO)
   * @returns whether this call stored it, and whether it completed the job
   */
  recordJobResult(id: string, result: BulkDocumentResult, at: { now: string; expiresAt: string }): Promise<{ stored: boolean; completed: boolean }>;
  /** The results of a job in document order. */
  jobResults(id: string): Promise<BulkDocumentResult[]>;
  /** Deletes a job with its inputs and results; false when there was none. */
  deleteJob(id: string): Promise<boolean>;
  /**
   * Leases the next document whose lease is free or has run out (the in-process runner of
   * jobs/store-queue.ts; pg-boss keeps its own leases).
   * @returns the document and how many times it was leased, this time included
   */
  leaseJobDocument(leaseUntil: string, now: string): Promise<{ id: string; index: number; attempts: number } | undefined>;
  /** Deletes the jobs past their expiry, with everything they hold; how many. */
  expireJobs(now: string): Promise<number>;
  jobCounts(): Promise<BulkJobCounts>;
}

export interface Store extends JobStore {
  /** `sqlite`, `postgresql`, … (health output, logs). */
  readonly kind: string;
  /** Stores one call with its documents, suggestions and evidence, all or nothing. */
  recordAudit(record: AuditRecord): Promise<void>;
  /** Stores feedback entries, all or nothing; an entry stored before is not stored twice. */
  recordFeedback(entries: readonly FeedbackRecord[]): Promise<FeedbackResult[]>;
  /** Audit records, oldest first. */
  auditRecords(filter?: { since?: Date; requestId?: string }): Promise<AuditRecord[]>;
  /** Feedback entries, in the order received. */
  feedbackRecords(filter?: { card?: string }): Promise<StoredFeedback[]>;
  acceptanceReport(options?: { since?: Date }): Promise<AcceptanceReport>;
  /** A cheap real write: false when the store cannot take writes (closed, read-only, disk full, …). */
  writable(): Promise<boolean>;
  /** The cached value under `key` if it was stored at or after `notBefore` (ISO), else undefined. */
  cachedSuggestions(key: string, notBefore: string): Promise<string | undefined>;
  /** Stores (or replaces) a cache entry, and deletes entries created before `expireBefore` (ISO). */
  cacheSuggestions(entry: CacheEntry, expireBefore: string): Promise<void>;
  /**
   * Claims a client token's `jti` for its issuer, atomically, for every process sharing the
   * store (CDS Hooks 2.0 §Trusting CDS Clients: `jti` protects against replay), so a token
   * replayed to another replica is refused. A claim whose `keepUntil` is before `now` has
   * expired and the id may be claimed again; expired claims are swept from time to time.
   * @param issuer - the token's `iss` (ids are unique per issuer only)
   * @param jti - the token's id
   * @param keepUntil - the last instant the token could be accepted (exp or maximum age, plus skew)
   * @param now - the verifier's clock (default: the current time). Expiry is judged by the
   *   clock that checks `exp`, not the database's: when it says a claim has expired, that
   *   verifier refuses the token by `exp` anyway, whatever the other replicas' clocks say
   * @returns `fresh` when claimed now, `replayed` when a live claim holds it
   */
  claimTokenId(issuer: string, jti: string, keepUntil: Date, now?: Date): Promise<TokenClaim>;
  close(): Promise<void>;
}

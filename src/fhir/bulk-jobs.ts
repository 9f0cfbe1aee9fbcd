/**
 * Bulk coding jobs at the FHIR edge: the FHIR asynchronous request pattern (as FHIR Bulk
 * Data uses it) over jobs/job-service.ts. docs/jobs.md describes the wire.
 *
 * - Kick-off: POST DocumentReference/$suggest-conditions with `Prefer: respond-async` and a
 *   Parameters (or one DocumentReference) or an application/fhir+ndjson body of
 *   DocumentReferences → 202, Content-Location: the status URL. Each document is coded
 *   alone, as a synchronous call with that one document would code it.
 * - Status: GET the status URL → 202 with X-Progress and Retry-After while it runs; 200 and
 *   the manifest once done. DELETE → 202: the job and all it holds are deleted.
 * - Outputs: GET each manifest URL → application/fhir+ndjson.
 *
 * Only the caller that started a job can see it: anyone else gets the 404 of an unknown job.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Caller } from '../auth/authenticate';
import { invokedUrlOf } from '../auth/invoked-url';
import { badRequest, notAcceptable, notFound, methodNotAllowed, OperationOutcomeError, outcomeOf, issue } from '../errors';
import { jsonBody } from '../http/json-body';
import type { JobService } from '../jobs/job-service';
import type { Services } from '../services';
import type { BulkJobRecord } from '../store/store';
import { FHIR_JSON } from './constants';
import type { Profiles } from './profiles';
import { inputsOf } from './suggest-conditions';

export const FHIR_NDJSON = 'application/fhir+ndjson';
const NDJSON_TYPES = [FHIR_NDJSON, 'application/ndjson', 'application/x-ndjson'];
/** Where jobs live, under /fhir. */
export const JOBS_PATH = '/bulk-jobs';

/** The owner of a job: the authenticated client (never the token itself). */
export function ownerOf(caller: Caller | undefined): string {
  switch (caller?.scheme) {
    case 'jwt':
      return `jwt:${caller.iss}${caller.tenant ? `#${caller.tenant}` : ''}`;
    case 'static-token':
      return `static-token:${caller.position}`;
    default:
      // AUTH=off: every caller is the same anonymous one (docs/jobs.md).
      return 'anonymous';
  }
}

/** `Prefer: respond-async` (RFC 7240), among other preferences. */
export function prefersAsync(req: Request): boolean {
  const prefer = req.headers.prefer;
  return (Array.isArray(prefer) ? prefer : [prefer ?? '']).flatMap((p) => p.split(',')).some((p) => p.split(';')[0].trim().toLowerCase() === 'respond-async');
}

/** This service's base URL as the client sees it: PUBLIC_BASE_URL when set. */
function baseOf(req: Request, services: Services): string {
  return invokedUrlOf(req, services.config.publicBaseUrl).slice(0, -req.originalUrl.split('?')[0].length);
}

const statusUrl = (base: string, id: string) => `${base}/fhir${JOBS_PATH}/${id}`;

/** The documents of an NDJSON body: one DocumentReference a line (blank lines skipped). */
function ndjsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw badRequest(`Line ${i + 1} of the NDJSON body is not valid JSON`, undefined, 'structure');
    }
    if (!parsed || typeof parsed !== 'object' || (parsed as { resourceType?: unknown }).resourceType !== 'DocumentReference') {
      throw badRequest(`Line ${i + 1} of the NDJSON body is not a DocumentReference`, undefined, 'structure');
    }
    docs.push(parsed);
  }
  return docs;
}

/**
 * The kick-off's documents and setting. A Parameters is read as the synchronous operation
 * reads it; `recordedCondition` is refused (each document is its own encounter here).
 */
function kickOffInputs(req: Request, profiles: Profiles): { documents: unknown[]; setting?: string } {
  if (typeof req.body === 'string') return { documents: ndjsonDocuments(req.body) };
  const inputs = inputsOf(req.body, profiles);
  if (inputs.recorded.length > 0) {
    throw badRequest('recordedCondition is not supported by bulk jobs: each document is coded on its own', 'Parameters.parameter', 'not-supported');
  }
  return { documents: inputs.documents.map((d) => d.doc), ...(inputs.setting ? { setting: inputs.setting } : {}) };
}

/** The body readers of a kick-off: NDJSON as text, else JSON (after authentication, like every body). */
function kickOffBody(services: Services): RequestHandler[] {
  const json = jsonBody({ maxBytes: services.config.jobMaxBodyBytes, maxDepth: services.config.maxJsonDepth });
  const ndjson = express.text({ type: NDJSON_TYPES, limit: services.config.jobMaxBodyBytes });
  const isNdjson = (req: Request) => req.is(NDJSON_TYPES) !== false && req.is(NDJSON_TYPES) !== null;
  return [
    (req, res, next) => (isNdjson(req) ? ndjson(req, res, next) : next()),
    ...json.map(
      (reader): RequestHandler =>
        (req, res, next) =>
          isNdjson(req) ? next() : reader(req, res, next),
    ),
  ];
}

/** The kick-off chain, for the router to put before the synchronous operation. */
export function kickOffHandlers(services: Services, profiles: Profiles, jobs: JobService, requireClient: RequestHandler): RequestHandler[] {
  const asyncOnly: RequestHandler = (req, _res, next) => (prefersAsync(req) ? next() : next('route'));
  const kickOff: RequestHandler = async (req, res) => {
    const { documents, setting } = kickOffInputs(req, profiles);
    if (documents.length === 0) throw badRequest('A bulk job needs at least one document', undefined, 'required');
    if (documents.length > services.config.jobMaxDocuments) {
      throw new OperationOutcomeError(
        413,
        outcomeOf([issue('error', 'too-costly', `A bulk job may hold at most ${services.config.jobMaxDocuments} documents (JOB_MAX_DOCUMENTS)`)]),
      );
    }
    const base = baseOf(req, services);
    const job = await jobs.submit({
      owner: ownerOf(res.locals.auth as Caller | undefined),
      request: `${base}${req.originalUrl}`,
      documents,
      ...(setting ? { setting } : {}),
    });
    res.setHeader('Content-Location', statusUrl(base, job.id));
    res
      .status(202)
      .type(FHIR_JSON)
      .send(
        JSON.stringify(outcomeOf([issue('information', 'informational', `Bulk job accepted: ${documents.length} document(s); poll the Content-Location URL`)])),
      );
  };
  return [asyncOnly, requireClient, ...kickOffBody(services), kickOff];
}

/** The manifest of a completed job (FHIR Bulk Data §Response - Complete Status). */
function manifestOf(job: BulkJobRecord, base: string, requiresAccessToken: boolean, outputs: { conditions: number; errors: number }) {
  const url = (file: string) => `${statusUrl(base, job.id)}/${file}`;
  return {
    transactionTime: job.createdAt,
    request: job.request,
    requiresAccessToken,
    output: outputs.conditions > 0 ? [{ type: 'Condition', url: url('Condition.ndjson'), count: outputs.conditions }] : [],
    error: outputs.errors > 0 ? [{ type: 'OperationOutcome', url: url('OperationOutcome.ndjson'), count: outputs.errors }] : [],
  };
}

const unknownJob = () => notFound('No such bulk job (it may have expired or been cancelled)');

/**
 * Status, cancel and downloads, under /fhir/bulk-jobs. Mounted before the FHIR router's JSON
 * negotiation: downloads are NDJSON.
 * @param requireClient - the FHIR edge's authentication
 */
export function bulkJobsRouter(services: Services, jobs: JobService, requireClient: RequestHandler): Router {
  const router = Router();
  const requiresAccessToken = services.config.auth !== 'off';
  const owner = (res: Response) => ownerOf(res.locals.auth as Caller | undefined);

  const acceptsJson: RequestHandler = (req, _res, next) => {
    if (!req.accepts(['application/json', FHIR_JSON])) throw notAcceptable('The job status is application/json');
    next();
  };
  router.get('/:id', acceptsJson, requireClient, async (req, res) => {
    const job = await jobs.job(owner(res), String(req.params.id));
    if (!job) throw unknownJob();
    if (job.status === 'in-progress') {
      const finished = job.done + job.failed;
      res.setHeader('X-Progress', `${finished} of ${job.total} documents (${Math.floor((100 * finished) / job.total)}%)`);
      res.setHeader('Retry-After', String(services.config.jobPollSeconds));
      res.status(202).end();
      return;
    }
    const results = await jobs.results(owner(res), job.id);
    if (!results) throw unknownJob();
    const conditions = results.results.reduce((n, r) => n + r.count, 0);
    const errors = results.results.filter((r) => r.error).length;
    res
      .status(200)
      .type('application/json')
      .send(JSON.stringify(manifestOf(job, baseOf(req, services), requiresAccessToken, { conditions, errors })));
  });
  router.delete('/:id', requireClient, async (req, res) => {
    if (!(await jobs.cancel(owner(res), String(req.params.id)))) throw unknownJob();
    res
      .status(202)
      .type(FHIR_JSON)
      .send(JSON.stringify(outcomeOf([issue('information', 'informational', 'Bulk job cancelled: its documents and outputs are deleted')])));
  });
  router.all('/:id', (req) => {
    throw methodNotAllowed(req.method, ['GET', 'DELETE']);
  });

  const acceptsNdjson: RequestHandler = (req, _res, next) => {
    if (!req.accepts([FHIR_NDJSON, 'application/ndjson'])) throw notAcceptable(`Outputs are ${FHIR_NDJSON}`);
    next();
  };
  for (const file of ['Condition.ndjson', 'OperationOutcome.ndjson']) {
    router.get(`/:id/${file}`, acceptsNdjson, requireClient, async (req, res) => {
      const found = await jobs.results(owner(res), String(req.params.id));
      if (!found) throw unknownJob();
      const body =
        file === 'Condition.ndjson'
          ? found.results.map((r) => r.conditions).join('')
          : found.results.flatMap((r) => (r.error ? [`${r.error}\n`] : [])).join('');
      res.status(200).type(FHIR_NDJSON).send(body);
    });
    router.all(`/:id/${file}`, (req) => {
      throw methodNotAllowed(req.method, ['GET']);
    });
  }
  return router;
}

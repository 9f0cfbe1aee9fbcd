/**
 * Bulk coding jobs over HTTP (the FHIR asynchronous request pattern): the real app, the tiny
 * model, on SQLite (the in-process runner) and on PostgreSQL (pg-boss). Kick-off by
 * Parameters and by NDJSON, polling, the manifest, downloads, per-document errors, cancel,
 * another caller, expiry, and equality with synchronous calls.
 */
import type { Condition, DocumentReference, OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import type { Config } from '../../src/config';
import { pgBossQueue } from '../../src/jobs/pg-boss-queue';
import type { JobQueue } from '../../src/jobs/types';
import type { Logger } from '../../src/log';
import { openSqlExecutor } from '../../src/store/postgres';
import { createTestApp, FIXED_NOW } from '../helpers/app';
import { expectSuggestedCondition, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { describeWithPostgres, usePostgres } from '../helpers/postgres';
import { documentReference, parametersOf, SAMPLE_NOTE } from '../helpers/resources';

const BASE = 'https://cds.example.org';
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';
const TOKEN_A = 'bulk-token-a-0123456789abcdef0123456789abcdef';
const TOKEN_B = 'bulk-token-b-0123456789abcdef0123456789abcdef';
const NOTES = [
  SAMPLE_NOTE,
  'DISCHARGE SUMMARY\nDiagnoses: community-acquired pneumonia; type 2 diabetes mellitus without complications.\nHospital course: treated with antibiotics.',
  'DISCHARGE SUMMARY\nDiagnoses: acute on chronic systolic heart failure; essential hypertension.\nHospital course: diuresed.',
];
const docs = () => NOTES.map((text, i) => documentReference(text, { id: `bulk-${i + 1}` }));

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** A Condition without the ids each call makes. */
const comparable = (c: Condition) => JSON.parse(JSON.stringify(c).replace(UUID, 'uuid')) as unknown;
const parseNdjson = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

function bulkSuite(title: string, queueOf: () => ((config: Config, log: Logger) => JobQueue) | undefined, storeOf: () => Promise<Partial<Config>>): void {
  describe(title, () => {
    let t: TestApp;
    let clock = FIXED_NOW;
    let working = false;

    beforeAll(async () => {
      const queue = queueOf();
      t = await createTestApp(
        { auth: 'on', fhirTokens: [TOKEN_A, TOKEN_B], publicBaseUrl: BASE, jobPollSeconds: 1, jobOutputTtlHours: 2, ...(await storeOf()) },
        undefined,
        undefined,
        { now: () => clock, ...(queue ? { jobQueue: queue } : {}) },
      );
      await t.jobs.start();
    }, 60_000);
    afterAll(async () => {
      await t?.jobs.stop(2000);
      await t?.settled();
      await t?.store.close();
    });
    const startWorkers = async () => {
      if (!working) await t.jobs.startWorking();
      working = true;
    };

    const kickOff = (body: string, type: string, token = TOKEN_A) =>
      request(t.app)
        .post(OPERATION)
        .set('Authorization', `Bearer ${token}`)
        .set('Prefer', 'respond-async')
        .set('Accept', 'application/fhir+json')
        .set('Content-Type', type)
        .send(body);
    const get = (url: string, accept = 'application/json', token = TOKEN_A) =>
      request(t.app).get(new URL(url).pathname).set('Authorization', `Bearer ${token}`).set('Accept', accept);
    /** Polls until the manifest (200), within 30 s. */
    const manifestOf = async (url: string) => {
      const until = Date.now() + 30_000;
      for (;;) {
        const res = await get(url);
        if (res.status === 200) return res;
        expect(res.status).toBe(202);
        if (Date.now() > until) throw new Error('job did not complete');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    test('Parameters kick-off: 202 and an absolute Content-Location; 202 with X-Progress while queued; a manifest; Conditions as NDJSON, each citing its document, equal to synchronous calls', async () => {
      const kicked = await kickOff(JSON.stringify(parametersOf(...docs())), 'application/fhir+json');
      expect(kicked.status).toBe(202);
      expectValidFhir(kicked.body);
      const location = kicked.headers['content-location'];
      expect(location).toMatch(new RegExp(`^${BASE}/fhir/bulk-jobs/[0-9a-f-]{36}$`));

      // No worker yet: the job waits.
      const waiting = await get(location);
      expect(waiting.status).toBe(202);
      expect(waiting.headers['x-progress']).toBe('0 of 3 documents (0%)');
      expect(waiting.headers['retry-after']).toBe('1');
      expect(waiting.headers['cache-control']).toBe('no-store');

      const events: string[] = [];
      const unsubscribe = t.jobs.onDocument((e) => events.push(e.outcome));
      await startWorkers();
      const done = await manifestOf(location);
      unsubscribe();
      expect(events).toEqual(['coded', 'coded', 'coded']);
      expect(done.headers['content-type']).toMatch(/^application\/json/);
      expect(done.headers['cache-control']).toBe('no-store');
      const manifest = done.body;
      expect(manifest).toEqual({
        transactionTime: FIXED_NOW.toISOString(),
        request: `${BASE}${OPERATION}`,
        requiresAccessToken: true,
        output: [{ type: 'Condition', url: `${location}/Condition.ndjson`, count: expect.any(Number) }],
        error: [],
      });

      const download = await get(manifest.output[0].url, 'application/fhir+ndjson');
      expect(download.status).toBe(200);
      expect(download.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
      const conditions = parseNdjson<Condition>(download.text);
      expect(conditions).toHaveLength(manifest.output[0].count);
      for (const c of conditions) {
        expectSuggestedCondition(c);
        expect(c.evidence![0].detail!.map((d) => d.reference)).toEqual([expect.stringMatching(/^DocumentReference\/bulk-[123]$/)]);
      }

      // The same suggestions as one synchronous call per document, in document order.
      const expected: unknown[] = [];
      for (const doc of docs()) {
        const sync = await request(t.app)
          .post(OPERATION)
          .set('Authorization', `Bearer ${TOKEN_A}`)
          .set('Content-Type', 'application/fhir+json')
          .send(JSON.stringify(parametersOf(doc)));
        expect(sync.status).toBe(200);
        expected.push(
          ...resourcesOf(sync.body)
            .filter((r): r is Condition => r.resourceType === 'Condition')
            .map(comparable),
        );
      }
      expect(expected.length).toBeGreaterThan(0);
      expect(conditions.map(comparable)).toEqual(expected);
    }, 60_000);

    test('NDJSON kick-off: a document that cannot be coded is an OperationOutcome in the error file, the others are coded', async () => {
      await startWorkers();
      const noSubject = { ...documentReference(NOTES[1], { id: 'no-subject' }), subject: undefined } as DocumentReference;
      const invalid = { resourceType: 'DocumentReference', id: 'invalid', status: 'bogus', content: [] };
      const body = [docs()[0], noSubject, invalid].map((d) => JSON.stringify(d)).join('\n') + '\n';
      const kicked = await kickOff(body, 'application/fhir+ndjson');
      expect(kicked.status).toBe(202);
      const manifest = (await manifestOf(kicked.headers['content-location'])).body;
      expect(manifest.error).toEqual([{ type: 'OperationOutcome', url: `${kicked.headers['content-location']}/OperationOutcome.ndjson`, count: 2 }]);

      const errors = parseNdjson<OperationOutcome>((await get(manifest.error[0].url, 'application/fhir+ndjson')).text);
      expect(errors).toHaveLength(2);
      for (const e of errors) expectValidFhir(e);
      expect(errors[0].issue![0]).toMatchObject({ severity: 'error', code: 'required', expression: ['DocumentReference.subject'] });
      expect(errors[0].issue!.at(-1)!.details!.text).toBe('Document 2 of the job (DocumentReference/no-subject)');
      expect(errors[1].issue!.at(-1)!.details!.text).toBe('Document 3 of the job (DocumentReference/invalid)');
      const conditions = parseNdjson<Condition>((await get(manifest.output[0].url, 'application/fhir+ndjson')).text);
      expect(conditions.length).toBeGreaterThan(0);
      expect(new Set(conditions.map((c) => c.evidence![0].detail![0].reference))).toEqual(new Set(['DocumentReference/bulk-1']));
    }, 60_000);

    test('another caller gets 404 for the status, the outputs and DELETE; the owner cancels with DELETE, after which the job is gone', async () => {
      await startWorkers();
      const kicked = await kickOff(JSON.stringify(parametersOf(docs()[1])), 'application/fhir+json');
      const location = kicked.headers['content-location'];
      const manifest = (await manifestOf(location)).body;

      for (const res of [await get(location, 'application/json', TOKEN_B), await get(manifest.output[0].url, 'application/fhir+ndjson', TOKEN_B)]) {
        expect(res.status).toBe(404);
        expectValidFhir(res.body);
      }
      const foreign = await request(t.app).delete(new URL(location).pathname).set('Authorization', `Bearer ${TOKEN_B}`);
      expect(foreign.status).toBe(404);
      expect((await get(location, 'application/json', 'not-a-token')).status).toBe(401);

      const cancelled = await request(t.app).delete(new URL(location).pathname).set('Authorization', `Bearer ${TOKEN_A}`);
      expect(cancelled.status).toBe(202);
      expect((await get(location)).status).toBe(404);
      expect((await get(manifest.output[0].url, 'application/fhir+ndjson')).status).toBe(404);
      expect(await t.store.bulkJob(new URL(location).pathname.split('/').at(-1)!)).toBeUndefined();
    }, 60_000);

    test('status and downloads negotiate their media types; an empty job or a recordedCondition is refused', async () => {
      const kicked = await kickOff(JSON.stringify(parametersOf(docs()[2])), 'application/fhir+json');
      const location = kicked.headers['content-location'];
      expect((await get(location, 'application/xml')).status).toBe(406);
      const manifest = (await manifestOf(location)).body;
      expect((await get(manifest.output[0].url, 'application/json')).status).toBe(406);
      expect((await kickOff('\n', 'application/fhir+ndjson')).status).toBe(400);
      expect((await kickOff('{"resourceType":"Patient"}\n', 'application/fhir+ndjson')).status).toBe(400);
      const recorded = parametersOf(docs()[0]);
      recorded.parameter!.push({
        name: 'recordedCondition',
        resource: {
          resourceType: 'Condition',
          subject: { reference: 'Patient/1288992' },
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }] },
        },
      });
      const refused = await kickOff(JSON.stringify(recorded), 'application/fhir+json');
      expect(refused.status).toBe(400);
      expectValidFhir(refused.body);
    }, 60_000);

    test('outputs expire JOB_OUTPUT_TTL_HOURS after the job completes', async () => {
      const kicked = await kickOff(JSON.stringify(parametersOf(docs()[0])), 'application/fhir+json');
      const location = kicked.headers['content-location'];
      const id = new URL(location).pathname.split('/').at(-1)!;
      await manifestOf(location);
      clock = new Date(FIXED_NOW.getTime() + 2 * 3600_000 - 1000);
      expect((await get(location)).status).toBe(200);
      clock = new Date(FIXED_NOW.getTime() + 2 * 3600_000 + 1000);
      expect((await get(location)).status).toBe(404);
      expect(await t.store.bulkJob(id)).toBeUndefined();
      const stats = await t.jobs.stats();
      expect(stats.documents.queued).toBe(0);
      expect(stats).toMatchObject({ jobs: { inProgress: 0 }, worker: { running: 0, failed: 2, retried: 0 } });
      expect(stats.worker.coded).toBeGreaterThanOrEqual(6);
      // Jobs log ids, indexes, outcomes and counts: never a note, a quote or a body.
      const logs = t.logs.join('\n');
      for (const phrase of ['community-acquired pneumonia', 'acute on chronic systolic', SAMPLE_NOTE.slice(0, 40)]) expect(logs).not.toContain(phrase);
      clock = FIXED_NOW;
    }, 60_000);
  });
}

bulkSuite(
  'bulk jobs on SQLite (in-process runner)',
  () => undefined,
  async () => ({}),
);

describeWithPostgres('bulk jobs on PostgreSQL (pg-boss)', () => {
  const cluster = usePostgres();
  let url: string;
  bulkSuite(
    'pg-boss',
    () => (config, log) => pgBossQueue(openSqlExecutor(url, { poolSize: 3, log }), { leaseSeconds: config.jobLeaseSeconds, pollSeconds: 1, log }),
    async () => {
      url = await cluster().createDatabase();
      return { storeUrl: url };
    },
  );

  test("a worker takes the next document as soon as it finishes one, and a kick-off wakes this process's workers: a 6-document job finishes well inside one 60 s polling interval", async () => {
    const dbUrl = await cluster().createDatabase();
    const t = await createTestApp({ storeUrl: dbUrl, jobPollSeconds: 60 }, undefined, undefined, {
      jobQueue: (config, log) =>
        pgBossQueue(openSqlExecutor(dbUrl, { poolSize: 3, log }), { leaseSeconds: config.jobLeaseSeconds, pollSeconds: config.jobPollSeconds, log }),
    });
    await t.jobs.start();
    await t.jobs.startWorking();
    try {
      const many = Array.from({ length: 6 }, (_, i) => documentReference(NOTES[i % NOTES.length], { id: `fast-${i + 1}` }));
      const started = Date.now();
      const kicked = await request(t.app)
        .post(OPERATION)
        .set('Prefer', 'respond-async')
        .set('Content-Type', 'application/fhir+ndjson')
        .send(many.map((d) => JSON.stringify(d)).join('\n'));
      expect(kicked.status).toBe(202);
      const path = new URL(kicked.headers['content-location']).pathname;
      // Waiting a polling interval per document would take 6 minutes; a single one, a minute.
      while ((await request(t.app).get(path).set('Accept', 'application/json')).status === 202) {
        if (Date.now() - started > 45_000) throw new Error('the job waited for the polling interval');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const manifest = (await request(t.app).get(path).set('Accept', 'application/json')).body as { output: { count: number }[] };
      expect(manifest.output.reduce((n, o) => n + o.count, 0)).toBeGreaterThan(0);
    } finally {
      await t.jobs.stop(2000);
      await t.settled();
      await t.store.close();
    }
  }, 90_000);
});

test('ROLE=worker serves the health endpoints only; without Prefer: respond-async an NDJSON body is refused (the synchronous operation reads JSON)', async () => {
  const worker = await createTestApp({ role: 'worker' });
  try {
    expect((await request(worker.app).get('/healthz')).status).toBe(200);
    expect((await request(worker.app).get('/readyz')).status).toBe(200);
    expect((await request(worker.app).get('/fhir/metadata')).status).toBe(404);
    expect((await request(worker.app).post(OPERATION).set('Content-Type', 'application/fhir+json').send('{}')).status).toBe(404);
  } finally {
    await worker.store.close();
  }
  const api = await createTestApp();
  try {
    const sync = await request(api.app)
      .post(OPERATION)
      .set('Content-Type', 'application/fhir+ndjson')
      .send(`${JSON.stringify(docs()[0])}\n`);
    expect(sync.status).toBe(415);
  } finally {
    await api.store.close();
  }
});

test("METRICS=on: a job's documents and its end are counted, and the job gauges read the shared tables", async () => {
  const token = 'metrics-token-0123456789abcdef0123456789abcdef';
  const t = await createTestApp({ metrics: 'on', metricsToken: token, jobPollSeconds: 1 });
  await t.jobs.start();
  await t.jobs.startWorking();
  try {
    const kicked = await request(t.app)
      .post(OPERATION)
      .set('Prefer', 'respond-async')
      .set('Content-Type', 'application/fhir+ndjson')
      .send(
        docs()
          .map((d) => JSON.stringify(d))
          .join('\n'),
      );
    expect(kicked.status).toBe(202);
    const path = new URL(kicked.headers['content-location']).pathname;
    const until = Date.now() + 30_000;
    while ((await request(t.app).get(path).set('Accept', 'application/json')).status === 202) {
      if (Date.now() > until) throw new Error('job did not complete');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const text = (await request(t.app).get('/metrics').set('Authorization', `Bearer ${token}`)).text;
    expect(text).toContain(`icd10cds_job_documents_processed_total{outcome="coded"} ${NOTES.length}`);
    expect(text).toContain('icd10cds_jobs_finished_total{state="completed"} 1');
    expect(text).toContain('icd10cds_jobs{state="completed"} 1');
    expect(text).toContain(`icd10cds_job_documents{state="done"} ${NOTES.length}`);

    expect((await request(t.app).delete(path)).status).toBe(202);
    expect((await request(t.app).get('/metrics').set('Authorization', `Bearer ${token}`)).text).toContain('icd10cds_jobs_finished_total{state="cancelled"} 1');
  } finally {
    await t.jobs.stop(2000);
    await t.settled();
    await t.store.close();
  }
}, 60_000);

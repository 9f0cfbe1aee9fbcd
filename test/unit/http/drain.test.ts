/**
 * The graceful stop (http/drain.ts) on a real HTTP server: in-flight requests finish, new
 * connections are refused, idle keep-alive connections close, the deadline cuts what is left;
 * and in the app, /healthz (and /readyz) answer 503 while draining.
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { createDrainState, drainServer, type DrainState } from '../../../src/http/drain';
import { createLogger } from '../../../src/log';
import { openSqliteStore } from '../../../src/store/sqlite';
import { codingRules, testConfig, tinyClassifier } from '../../helpers/app';

/** A server with one route answering after `ms` milliseconds. */
async function slowServer(ms: number): Promise<{ server: Server; drain: DrainState; url: string }> {
  const drain = createDrainState();
  const app = express();
  app.use(drain.middleware);
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.json({ done: true }), ms).unref();
  });
  app.get('/fast', (_req, res) => {
    res.json({ done: true });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, drain, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** GET with an explicit agent; resolves with status, headers and body, or rejects on a socket error. */
function get(url: string, agent?: Agent): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an in-flight request finishes with 200 and its connection closes; new connections are refused', async () => {
  const { server, drain, url } = await slowServer(400);
  const agent = new Agent({ keepAlive: true });
  const inFlight = get(`${url}/slow`, agent);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(drain.inFlight).toBe(1);

  const drained = drainServer(server, drain, 5000);
  expect(drain.draining).toBe(true);
  await expect(get(`${url}/fast`)).rejects.toThrow(/ECONNREFUSED/);
  const res = await inFlight;
  expect(res).toEqual({ status: 200, connection: 'close', body: '{"done":true}' });
  const result = await drained;
  expect(result).toMatchObject({ finished: true, cut: 0 });
  expect(result.ms).toBeLessThan(2000); // not the 5 s deadline, nor keepAliveTimeout
  agent.destroy();
});

test('idle keep-alive connections do not hold the drain until keepAliveTimeout', async () => {
  const { server, drain, url } = await slowServer(0);
  server.keepAliveTimeout = 60_000;
  const agent = new Agent({ keepAlive: true });
  expect((await get(`${url}/fast`, agent)).status).toBe(200);
  const result = await drainServer(server, drain, 10_000);
  expect(result).toMatchObject({ finished: true, cut: 0 });
  expect(result.ms).toBeLessThan(1000);
  agent.destroy();
});

test('at the deadline the remaining requests are cut, and counted', async () => {
  const { server, drain, url } = await slowServer(60_000);
  const cutShort = get(`${url}/slow`).catch((error: Error) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const result = await drainServer(server, drain, 300);
  expect(result).toMatchObject({ finished: false, cut: 1 });
  expect(result.ms).toBeGreaterThanOrEqual(290);
  expect(await cutShort).toMatchObject({ message: expect.stringMatching(/socket hang up|ECONNRESET/) });
});

test('in the app: /healthz and /readyz answer 503 while draining, and responses ask to close the connection', async () => {
  const drain = createDrainState();
  const config = testConfig({ auth: 'off' });
  const app = createApp({
    config,
    classifier: await tinyClassifier(),
    log: createLogger('silent'),
    store: openSqliteStore(':memory:'),
    drain,
    coding: await codingRules(),
  });
  expect((await request(app).get('/healthz')).status).toBe(200);
  drain.begin();
  const health = await request(app).get('/healthz');
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: 'draining', model: { name: 'icd10-cds-test-keywords' } });
  expect(health.headers.connection).toBe('close');
  const ready = await request(app).get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.issue[0].details.text).toMatch(/shutting down/);
});

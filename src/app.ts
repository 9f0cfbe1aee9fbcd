/**
 * createApp: the express application, wired from explicit dependencies.
 *
 * Never listens and never reads the environment (main.ts does both), so tests drive it over
 * HTTP with supertest and a real model.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { createAuthenticators } from './auth/authenticate';
import { trustedClientsOf } from './auth/trusted-clients';
import { cdsRouter } from './cds/router';
import type { Config } from './config';
import { fhirRouter } from './fhir/router';
import { healthHandler, readyHandler } from './health';
import { corsMiddleware } from './http/cors';
import { createDrainState, type DrainState } from './http/drain';
import { errorHandler } from './http/error-handler';
import { standardHeaders } from './http/standard-headers';
import { notFoundHandler } from './http/not-found';
import { reviewPageRouter } from './http/review-page';
import type { Logger } from './log';
import { inlineAnalyzer, type Analyzer } from './analysis/analyzer';
import { createSuggestionService, type SuggestionService } from './analysis/suggestions';
import type { Classifier } from './model/types';
import type { Services } from './services';
import type { Store } from './store/store';
import { JobService } from './jobs/job-service';
import { storeQueue } from './jobs/store-queue';
import type { JobQueue, JobStats } from './jobs/types';
import { loadProfiles } from './fhir/profiles';
import type { CodingRules } from './rules/load-rules';
import { metricsHandler, requestMetrics, routeBase } from './http/metrics';
import { instrumentAnalyzer, instrumentStore } from './metrics/instrument';
import { checkMetricsConfig, createMetrics, type Metrics } from './metrics/metrics';
import type { MetricsSources } from './metrics/sources';

export interface AppDeps {
  config: Readonly<Config>;
  /** Where the model runs: worker threads in main.ts; absent, the classifier runs on this thread (tests). */
  analyzer?: Analyzer;
  /** The model on this thread, when no analyzer is given. */
  classifier?: Classifier;
  log: Logger;
  /** Audit trail and feedback (main.ts opens it; tests pass an in-memory one). */
  store: Store;
  /** Source of uuids for cards, suggestions and bundles (tests pass a sequence). */
  newId?: () => string;
  /** Clock, for timestamps (tests pass a fixed one). */
  now?: () => Date;
  /** In-flight requests and the SIGTERM drain (main.ts shares it with the server). */
  drain?: DrainState;
  /** The code set and the coding-rule checks (delta coding, findings). */
  coding: CodingRules;
  /** The bulk job queue (main.ts: pg-boss on PostgreSQL); absent, the in-process runner over the store's tables. */
  jobQueue?: JobQueue;
  /** What the metrics read besides the app's own parts (METRICS=on): bulk-job statistics. */
  metricsSources?: MetricsSources;
}

/** The app's bulk job service: main.ts starts it (and its workers, by ROLE) and stops it. */
export function jobServiceOf(app: express.Express): JobService {
  return app.locals.jobs as JobService;
}

/** The app's metrics when METRICS=on (the job runner increments its counters), else undefined. */
export function metricsOf(app: express.Express): Metrics | undefined {
  return app.locals.metrics as Metrics | undefined;
}

/**
 * The app's suggestion service: `idle()` resolves once background work is done (analyses
 * past a hook's time budget, result-cache writes, which follow the response).
 */
export function suggestionServiceOf(app: express.Express): SuggestionService {
  return app.locals.suggestions as SuggestionService;
}

/** The job service's figures as the metrics' gauges read them (states by name). */
function jobMetricsOf(stats: JobStats): { jobs: Record<string, number>; documents: Record<string, number> } {
  return { jobs: { 'in-progress': stats.jobs.inProgress, completed: stats.jobs.completed }, documents: { ...stats.documents } };
}

/**
 * Builds the application.
 * @param deps - configuration, the loaded classifier, the logger, the store and optional id/clock sources
 */
export function createApp(deps: AppDeps): express.Express {
  const { analyzer: given, classifier, coding, jobQueue, metricsSources, ...rest } = deps;
  const bare = given ?? (classifier ? inlineAnalyzer(classifier) : undefined);
  if (!bare) throw new Error('createApp needs an analyzer or a classifier');
  checkMetricsConfig(deps.config);
  // The job service is built below; the metrics read it at scrape time.
  const built: { jobs?: JobService } = {};
  const jobStats = { stats: async () => jobMetricsOf(await built.jobs!.stats()) };
  const metrics =
    deps.config.metrics === 'on' ? createMetrics({ jobs: jobStats, ...metricsSources, analysisLoad: bare.load && (() => bare.load!()) }) : undefined;
  const analyzer = metrics ? instrumentAnalyzer(bare, metrics) : bare;
  const store = metrics ? instrumentStore(deps.store, metrics) : deps.store;
  const suggestions = createSuggestionService({
    analyzer,
    store,
    log: deps.log,
    suppress: deps.config.suppressAssertions,
    cache: deps.config.resultCache === 'on',
    cacheTtlHours: deps.config.resultCacheTtlHours,
    now: deps.now,
  });
  const services: Services = {
    newId: randomUUID,
    now: () => new Date(),
    ...rest,
    store,
    model: analyzer.info,
    suggestions,
    codeSet: coding.codeSet,
    rules: coding.rules,
    trustedClients: trustedClientsOf(deps.config),
    drain: deps.drain ?? createDrainState(),
  };
  const { config, log } = services;
  const jobs = new JobService({
    services,
    profiles: loadProfiles(),
    queue: jobQueue ?? storeQueue(services.store, { leaseSeconds: config.jobLeaseSeconds, pollSeconds: config.jobPollSeconds }),
  });
  built.jobs = jobs;
  if (metrics) {
    jobs.onDocument((event) => {
      if (event.outcome === 'coded' || event.outcome === 'failed') metrics.jobs.documents(event.outcome);
      if (event.jobCompleted) metrics.jobs.jobFinished('completed');
    });
    jobs.onJob((event) => metrics.jobs.jobFinished(event.state));
  }
  const app = express();
  app.locals.suggestions = suggestions;
  app.locals.jobs = jobs;
  app.locals.metrics = metrics;
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(standardHeaders);
  if (metrics) app.use(requestMetrics(metrics));
  app.use(services.drain.middleware);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.locals.requestId = services.newId();
    res.setHeader('X-Request-Id', res.locals.requestId);
    res.on('finish', () => {
      // Method, route path and status only: query strings and bodies may carry identifiers.
      log.info(
        {
          requestId: res.locals.requestId,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  });
  // Before the routers: preflight is answered without a token or a body. Bodies are read only
  // after authentication (http/json-body.ts jsonBody, in each route).
  app.use(corsMiddleware(config.corsOrigins));

  // The review page (static, public: it holds no data; its calls to /cds-services carry the user's token).
  app.use(reviewPageRouter());
  app.get('/healthz', healthHandler(services.model, services.drain));
  app.get('/readyz', readyHandler(services.model, services.store, services.drain));
  // Off: not mounted, so /metrics is the 404 of any unknown path.
  if (metrics) app.get('/metrics', metricsHandler(metrics, config.metricsToken));
  // ROLE=worker serves the health endpoints (and metrics) only: its work is the job queue's.
  if (config.role !== 'worker') {
    const auth = createAuthenticators(services);
    if (metrics) for (const mount of ['/fhir', '/cds-services']) app.use(mount, routeBase);
    app.use('/fhir', fhirRouter(services, auth.requireFhirClient, jobs));
    app.use('/cds-services', cdsRouter(services, auth.requireCdsClient));
  }
  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}

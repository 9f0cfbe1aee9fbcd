/**
 * createApp: the express application, wired from explicit dependencies.
 *
 * Never listens and never reads the environment (main.ts does both), so tests drive it over
 * HTTP with supertest and a real model.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { cdsRouter } from './cds/router';
import type { Config } from './config';
import { fhirRouter } from './fhir/router';
import { healthHandler } from './health';
import { errorHandler } from './http/error-handler';
import { JSON_MEDIA_TYPES } from './http/json-body';
import { notFoundHandler } from './http/not-found';
import type { Logger } from './log';
import type { Classifier } from './model/types';

export interface AppDeps {
  config: Readonly<Config>;
  classifier: Classifier;
  log: Logger;
  /** Source of uuids for cards, suggestions and bundles (tests pass a sequence). */
  newId?: () => string;
  /** Clock, for timestamps (tests pass a fixed one). */
  now?: () => Date;
}

export interface Services {
  config: Readonly<Config>;
  classifier: Classifier;
  log: Logger;
  newId: () => string;
  now: () => Date;
}

/**
 * Builds the application.
 * @param deps - configuration, the loaded classifier, the logger and optional id/clock sources
 */
export function createApp(deps: AppDeps): express.Express {
  const services: Services = { newId: randomUUID, now: () => new Date(), ...deps };
  const { config, log } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.locals.requestId = services.newId();
    res.setHeader('X-Request-Id', res.locals.requestId);
    res.on('finish', () => {
      // Method, route path and status only: query strings and bodies may carry identifiers.
      log.info({
        requestId: res.locals.requestId,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }, 'request');
    });
    next();
  });
  app.use(express.json({ limit: config.maxBodyBytes, type: JSON_MEDIA_TYPES, strict: true }));

  app.get('/healthz', healthHandler(services.classifier.info));
  app.use('/fhir', fhirRouter(services));
  app.use('/cds-services', cdsRouter(services));
  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}

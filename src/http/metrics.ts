/**
 * GET /metrics (METRICS=on) and the request observer. The scraper's bearer token
 * (METRICS_TOKEN) is compared in constant time and never logged; a missing or wrong one is
 * answered 401 with an OperationOutcome. The route label is the matched route pattern
 * (`/fhir/Condition/:id`), or `none` for static files and unknown paths: never the URL itself.
 */
import type { RequestHandler } from 'express';
import { staticTokenMatcher } from '../auth/static-tokens';
import { unauthorized } from '../errors';
import { METRICS_CONTENT_TYPE, type Metrics } from '../metrics/metrics';

/**
 * Notes where a router is mounted: an error passed on to the app's error handler restores
 * req.baseUrl before the response finishes, while req.route keeps the pattern matched.
 */
export const routeBase: RequestHandler = (req, res, next) => {
  res.locals.routeBase = req.baseUrl;
  next();
};

/** Observes every response; mounted before the routers. */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      const base = typeof res.locals.routeBase === 'string' ? res.locals.routeBase : req.baseUrl;
      // Patterns escape `$` for path-to-regexp: the label shows the path as clients write it.
      const route = typeof pattern === 'string' ? `${base}${pattern}`.replace(/\\/g, '') : 'none';
      metrics.request(req.method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

/**
 * @param metrics - the app's metrics
 * @param token - METRICS_TOKEN; undefined only on loopback (checked at start-up)
 */
export function metricsHandler(metrics: Metrics, token: string | undefined): RequestHandler {
  const matches = token ? staticTokenMatcher([token]) : undefined;
  return async (req, res) => {
    if (matches) {
      const presented = /^Bearer ([\x21-\x7e]+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!presented || matches(presented) === 0) {
        throw unauthorized();
      }
    }
    const text = await metrics.scrape();
    res.status(200).type(METRICS_CONTENT_TYPE).send(text);
  };
}

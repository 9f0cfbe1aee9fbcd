/**
 * /fhir: the FHIR R4 edge. GET metadata, POST DocumentReference/$suggest-conditions (also
 * the percent-encoded %24 form), and reads of the service's own definitions.
 * Responses are application/fhir+json; errors are OperationOutcomes (http/error-handler.ts).
 */
import { Router, type RequestHandler } from 'express';
import type { Services } from '../services';
import { methodNotAllowed, notAcceptable, notFound } from '../errors';
import { jsonBody } from '../http/json-body';
import type { JobService } from '../jobs/job-service';
import { bulkJobsRouter, JOBS_PATH, kickOffHandlers } from './bulk-jobs';
import { capabilityStatementOf } from './capability-statement';
import { FHIR_JSON } from './constants';
import { loadProfiles } from './profiles';
import { suggestConditionsHandler } from './suggest-conditions';
import { validateResource } from './validate';

/** 406 when the client accepts neither FHIR JSON nor JSON (e.g. XML only); `_format` too. */
const negotiateJson: RequestHandler = (req, _res, next) => {
  const format = typeof req.query._format === 'string' ? req.query._format : undefined;
  const formatOk = !format || ['json', 'application/json', 'application/fhir+json'].includes(format);
  if (!formatOk || !req.accepts([FHIR_JSON, 'application/json'])) {
    throw notAcceptable('Only application/fhir+json is produced');
  }
  next();
};

/**
 * @param services - app services
 * @param requireClient - authentication of $suggest-conditions (auth/authenticate.ts); metadata
 *   and the service's own definitions stay public
 * @param jobs - bulk coding jobs (`Prefer: respond-async`, fhir/bulk-jobs.ts)
 */
export function fhirRouter(services: Services, requireClient: RequestHandler, jobs: JobService): Router {
  const profiles = loadProfiles();
  // Compile the schema validators now (≈0.5 s) rather than on the first request.
  validateResource(
    { resourceType: 'Parameters', parameter: [{ name: 'document', resource: { resourceType: 'DocumentReference', status: 'current', content: [] } }] },
    'Parameters',
  );
  const router = Router();
  // Before the JSON negotiation: job outputs are NDJSON.
  router.use(JOBS_PATH, bulkJobsRouter(services, jobs, requireClient));
  router.use(negotiateJson);
  const body = jsonBody({ maxBytes: services.config.maxBodyBytes, maxDepth: services.config.maxJsonDepth });

  const metadata = capabilityStatementOf(profiles, services.model, services.config.publicBaseUrl, services.config.auth !== 'off');
  router.get('/metadata', (_req, res) => {
    res.type(FHIR_JSON).send(JSON.stringify(metadata));
  });
  router.all('/metadata', (req) => {
    throw methodNotAllowed(req.method, ['GET']);
  });

  const suggest = suggestConditionsHandler(services, profiles);
  for (const path of ['/DocumentReference/\\$suggest-conditions', '/DocumentReference/%24suggest-conditions']) {
    router.post(path, ...kickOffHandlers(services, profiles, jobs, requireClient));
    router.post(path, requireClient, ...body, suggest);
    router.all(path, (req) => {
      throw methodNotAllowed(req.method, ['POST']);
    });
  }

  router.get('/:type/:id', (req, res) => {
    const resource = profiles.byReference.get(`${req.params.type}/${req.params.id}`);
    if (!resource) throw notFound(`${req.params.type}/${req.params.id} is not known here`);
    res.type(FHIR_JSON).send(JSON.stringify(resource));
  });
  return router;
}

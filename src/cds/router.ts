/**
 * /cds-services: the CDS Hooks 2.0 edge. Discovery (GET), service calls and feedback (POST).
 * Responses are application/json; errors are OperationOutcomes (http/error-handler.ts).
 */
import { Router, type RequestHandler } from 'express';
import type { Services } from '../services';
import { methodNotAllowed, notFound } from '../errors';
import { loadProfiles } from '../fhir/profiles';
import { jsonBody } from '../http/json-body';
import { ServerTiming } from '../http/server-timing';
import { receiveFeedback } from './feedback';
import { overrideReasonsOf } from './override-reasons';
import { registry, type CdsService } from './services';

/**
 * @param services - app services
 * @param requireClient - authentication of service and feedback calls (auth/authenticate.ts);
 *   discovery stays public (CDS Hooks 2.0 §Discovery exposes no patient data)
 */
export function cdsRouter(services: Services, requireClient: RequestHandler): Router {
  const byId = registry(services);
  const body = jsonBody({ maxBytes: services.config.maxBodyBytes, maxDepth: services.config.maxJsonDepth });
  const router = Router();
  // Resolved before anything else on /:id routes, so an unknown id is 404 whatever the body.
  router.param('id', (_req, res, next, id: string) => {
    const service = byId.get(id);
    if (!service) throw notFound('No CDS service with this id');
    res.locals.service = service;
    next();
  });

  const discovery = { services: [...byId.values()].map((s) => s.definition) };
  router.get('/', (_req, res) => {
    res.json(discovery);
  });
  router.all('/', (req) => {
    throw methodNotAllowed(req.method, ['GET']);
  });

  router.post('/:id', requireClient, ...body, async (req, res) => {
    const service: CdsService = res.locals.service;
    const timing = new ServerTiming();
    const answer = await service.call(req.body, { requestId: res.locals.requestId, caller: res.locals.auth, timing });
    const body = await timing.time('serialize', () => JSON.stringify(answer));
    res.setHeader('Server-Timing', timing.header());
    res.type('application/json').send(body);
  });
  const overrideReasons = overrideReasonsOf(loadProfiles().overrideReasons);
  router.post('/:id/feedback', requireClient, ...body, async (req, res) => {
    const service: CdsService = res.locals.service;
    await receiveFeedback(req.body, {
      serviceId: service.definition.id,
      requestId: res.locals.requestId,
      overrideReasons,
      store: services.store,
      log: services.log,
      now: services.now(),
    });
    res.status(200).end();
  });
  router.all(['/:id', '/:id/feedback'], (req) => {
    throw methodNotAllowed(req.method, ['POST']);
  });
  return router;
}

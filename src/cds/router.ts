/**
 * /cds-services: the CDS Hooks 2.0 edge. Discovery (GET), service calls and feedback (POST).
 * Responses are application/json; errors are OperationOutcomes (http/error-handler.ts).
 */
import { Router } from 'express';
import type { Services } from '../app';
import { methodNotAllowed, notFound } from '../errors';
import { requireJsonBody } from '../http/json-body';
import { receiveFeedback } from './feedback';
import { registry, type CdsService } from './services';

/**
 * @param services - app services
 */
export function cdsRouter(services: Services): Router {
  const byId = registry(services);
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

  router.post('/:id', requireJsonBody, async (req, res) => {
    const service: CdsService = res.locals.service;
    res.json(await service.call(req.body, res.locals.requestId));
  });
  router.post('/:id/feedback', requireJsonBody, (req, res) => {
    const service: CdsService = res.locals.service;
    receiveFeedback(req.body, service.definition.id, services.log, res.locals.requestId);
    res.status(200).end();
  });
  router.all(['/:id', '/:id/feedback'], (req) => {
    throw methodNotAllowed(req.method, ['POST']);
  });
  return router;
}

/**
 * GET /healthz: 200 once the model is loaded (the app is only created after it loaded), 503
 * while the server drains on SIGTERM/SIGINT (http/drain.ts), so that a load balancer stops
 * sending work on the connections it keeps open.
 * GET /readyz: 200 when the service can do its whole job, including writing the audit trail
 * (a real write to the store); 503 with an OperationOutcome otherwise, and while draining.
 * Both report model identity (and the store's kind), never anything about requests.
 */
import type { RequestHandler } from 'express';
import { unavailable } from './errors';
import type { ModelInfo } from './model/types';
import type { Store } from './store/store';

/** The server's drain state, as the health endpoints read it. */
export interface Draining {
  readonly draining: boolean;
}

const modelOf = (model: ModelInfo) => ({ name: model.name, version: model.version, labels: model.labels.length });

/**
 * @param model - the loaded model
 * @param drain - the server's drain state
 */
export function healthHandler(model: ModelInfo, drain?: Draining): RequestHandler {
  return (_req, res) => {
    const draining = drain?.draining ?? false;
    res.status(draining ? 503 : 200).json({ status: draining ? 'draining' : 'ok', model: modelOf(model) });
  };
}

/**
 * @param model - the loaded model
 * @param store - the audit and feedback store
 * @param drain - the server's drain state
 */
export function readyHandler(model: ModelInfo, store: Store, drain?: Draining): RequestHandler {
  return async (_req, res) => {
    // Not ready: 503 with an OperationOutcome (errors.ts), like every other error of the service.
    if (drain?.draining) throw unavailable('The service is shutting down');
    const writable = await store.writable().catch(() => false);
    if (!writable) throw unavailable('The audit store cannot take writes, so no suggestion can be served');
    res.json({ status: 'ready', model: modelOf(model), store: { kind: store.kind, writable } });
  };
}

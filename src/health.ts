/**
 * GET /healthz: 200 once the model is loaded (the app is only created after it loaded).
 * Reports model identity, never anything about requests.
 */
import type { RequestHandler } from 'express';
import type { ModelInfo } from './model/types';

export function healthHandler(model: ModelInfo): RequestHandler {
  return (_req, res) => {
    res.json({ status: 'ok', model: { name: model.name, version: model.version, labels: model.labels.length } });
  };
}

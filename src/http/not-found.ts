/** Unknown route → 404 OperationOutcome. */
import type { RequestHandler } from 'express';
import { notFound } from '../errors';

export const notFoundHandler: RequestHandler = () => {
  throw notFound('No such endpoint');
};

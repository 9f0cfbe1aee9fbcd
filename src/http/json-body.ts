/**
 * Request-body guards shared by both edges.
 */
import type { RequestHandler } from 'express';
import { unsupportedMediaType } from '../errors';

/** JSON media types we read: CDS Hooks sends application/json, FHIR clients application/fhir+json. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];

/** 415 unless the request declares a JSON body (checked before any parsing). */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!req.is(JSON_MEDIA_TYPES)) {
    throw unsupportedMediaType(
      `Content-Type ${req.headers['content-type'] ? 'is not JSON' : 'is missing'}; send application/json or application/fhir+json`,
    );
  }
  next();
};

/**
 * Request-body guards shared by both edges.
 */
import express, { type RequestHandler } from 'express';
import { unsupportedMediaType } from '../errors';
import { limitJsonDepth } from './json-depth';

/** JSON media types we read: CDS Hooks sends application/json, FHIR clients application/fhir+json. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];

/** 415 unless the request declares a JSON body (checked before any parsing). */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!req.is(JSON_MEDIA_TYPES)) {
    throw unsupportedMediaType(`Content-Type ${req.headers['content-type'] ? 'is not JSON' : 'is missing'}; send application/json or application/fhir+json`);
  }
  next();
};

/**
 * The body of a call that reads one, after its caller is authenticated: media type (415),
 * then the JSON parser (size limit after Content-Encoding: 413; malformed: 400), then the
 * nesting limit (400). Routes put it after authentication, so a caller without a valid token
 * never has a body of up to `maxBytes` read, inflated and parsed on its behalf.
 * @param limits - MAX_BODY_BYTES and MAX_JSON_DEPTH
 */
export function jsonBody(limits: { maxBytes: number; maxDepth: number }): RequestHandler[] {
  return [requireJsonBody, express.json({ limit: limits.maxBytes, type: JSON_MEDIA_TYPES, strict: true }), limitJsonDepth(limits.maxDepth)];
}

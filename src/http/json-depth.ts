/**
 * Nesting depth of parsed JSON, checked without recursion.
 *
 * V8's JSON.parse is iterative, so a body nested a million levels deep parses; what comes
 * after it does not: Ajv's compiled validators recurse once per level of a recursive
 * definition (e.g. FHIR `Extension.extension`) and overflow the stack at a few thousand
 * levels, well within the body-size limit. The depth is therefore checked right after
 * parsing, before any validator sees the value, with an explicit stack.
 */
import type { RequestHandler } from 'express';
import { badRequest } from '../errors';

/**
 * Whether a parsed JSON value nests arrays and objects deeper than `max` (a scalar has depth
 * 0, `{}` and `[]` depth 1, `{"a": [1]}` depth 2).
 * @param value - a value produced by JSON.parse (acyclic)
 * @param max - largest depth allowed
 */
export function exceedsJsonDepth(value: unknown, max: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()! + 1;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth);
      }
    }
  }
  return false;
}

/**
 * 400 `too-costly` when the parsed body nests deeper than `maxDepth`. Mounted right after the
 * JSON body parser. 400 rather than 413: the body is not too large (shrinking it does not
 * help unless the structure changes), it is a structure the service does not process; FHIR
 * resources and CDS Hooks requests are far shallower than the default limit of 64.
 * @param maxDepth - the configured MAX_JSON_DEPTH
 */
export function limitJsonDepth(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    if (req.body !== undefined && exceedsJsonDepth(req.body, maxDepth)) {
      throw badRequest(`Request body nests arrays and objects more than ${maxDepth} levels deep`, undefined, 'too-costly');
    }
    next();
  };
}

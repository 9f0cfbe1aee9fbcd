/**
 * The ICD-10-CM code set: one versioned bundle (format.ts), loaded once, asked questions by
 * every other stage. The only reader of the bundle; nothing here parses CDC files, and no
 * other module reads the bundle's files. No HTTP, FHIR or CDS types.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  BUNDLE_FORMAT,
  type BundleManifest,
  type ChapterEntry,
  type CodeEntry,
  type IndexFile,
  type NoteKind,
  type SectionEntry,
  type SeventhCharacters,
  type TabularFile,
  type TabularNote,
} from './format';

/** A note that applies to a code, and where in the hierarchy it is written. */
export interface AppliedNote {
  note: TabularNote;
  /** The code, section (`I10-I1A`) or chapter (`chapter 9`) that carries it. */
  from: string;
}

export interface CodeSet {
  readonly manifest: BundleManifest;
  /** `http://hl7.org/fhir/sid/icd-10-cm`. */
  readonly system: string;
  /** The fiscal year, e.g. `2023` (Condition.code.coding.version). */
  readonly version: string;
  readonly index: IndexFile;
  readonly neoplasm?: IndexFile;
  readonly drug?: IndexFile;
  readonly eindex?: IndexFile;
  /** The dotted upper-case form of a code that exists in this code set (`e1122` → `E11.22`), else undefined. */
  normalize(code: string): string | undefined;
  get(code: string): CodeEntry | undefined;
  exists(code: string): boolean;
  /** Valid for reporting: a leaf or a 7th-character code. */
  isBillable(code: string): boolean;
  children(code: string): readonly string[];
  /** Nearest first, up to the category. */
  ancestors(code: string): string[];
  /** Whether `ancestor` is above `code` in the hierarchy (not the code itself). */
  isAncestor(ancestor: string, code: string): boolean;
  /** The billable codes at or below `code`, in Tabular order. */
  billableDescendants(code: string): string[];
  section(code: string): SectionEntry | undefined;
  chapter(code: string): ChapterEntry | undefined;
  /** The notes of one kind that apply to a code: its own, then its ancestors', its section's and its chapter's. */
  notesOf(code: string, kind: NoteKind): AppliedNote[];
  /** The 7th characters a code needs, when it needs one (inherited from the code that defines them). */
  seventhOf(code: string): SeventhCharacters | undefined;
  /** Whether `code` falls under a note reference (`E11.22`, `I50` for I50.-, `N18.1-N18.6`). */
  matches(code: string, ref: string): boolean;
  /** Every code, in Tabular order. */
  readonly codes: readonly CodeEntry[];
}

/** Bundle files, in the order they are checked. */
const REQUIRED = ['manifest.json', 'tabular.json.gz', 'index.json.gz'] as const;

async function readGzJson<T>(file: string): Promise<T> {
  return JSON.parse(gunzipSync(await readFile(file)).toString('utf8')) as T;
}

const undotted = (code: string) => code.replace('.', '').toUpperCase();

/**
 * Loads a code-set bundle.
 * @param dir - the bundle directory (CODESET_DIR)
 * @throws Error naming every missing file, or what is wrong with the manifest
 */
export async function loadCodeSet(dir: string): Promise<CodeSet> {
  const missing = REQUIRED.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) throw new Error(`code-set bundle ${dir} lacks ${missing.join(', ')} (build it with npm run build:codeset)`);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  if (manifest.format !== BUNDLE_FORMAT) throw new Error(`code-set bundle ${dir} has format ${manifest.format}; this service reads format ${BUNDLE_FORMAT}`);
  const optional = (name: string) => (existsSync(path.join(dir, `${name}.json.gz`)) ? readGzJson<IndexFile>(path.join(dir, `${name}.json.gz`)) : undefined);
  const [tabular, index, neoplasm, drug, eindex] = await Promise.all([
    readGzJson<TabularFile>(path.join(dir, 'tabular.json.gz')),
    readGzJson<IndexFile>(path.join(dir, 'index.json.gz')),
    optional('neoplasm'),
    optional('drug'),
    optional('eindex'),
  ]);
  return codeSetOf(manifest, tabular, { index, neoplasm, drug, eindex });
}

/** The query side of a loaded bundle (exported for tests that build small code sets). */
export function codeSetOf(
  manifest: BundleManifest,
  tabular: TabularFile,
  indexes: { index: IndexFile; neoplasm?: IndexFile; drug?: IndexFile; eindex?: IndexFile },
): CodeSet {
  const byCode = new Map<string, CodeEntry>();
  const byUndotted = new Map<string, string>();
  const children = new Map<string, string[]>();
  const position = new Map<string, number>();
  tabular.codes.forEach((entry, i) => {
    byCode.set(entry.code, entry);
    byUndotted.set(undotted(entry.code), entry.code);
    position.set(entry.code, i);
    if (entry.parent) {
      const list = children.get(entry.parent);
      if (list) list.push(entry.code);
      else children.set(entry.parent, [entry.code]);
    }
  });
  const sections = new Map(tabular.sections.map((s) => [s.id, s]));
  const chapters = new Map(tabular.chapters.map((c) => [c.id, c]));

  // Codes are looked up by the same few strings over and over (the Index's and the Tabular's
  // own): their normal forms are kept, up to a bound, since callers may pass any text.
  const normalized = new Map<string, string | undefined>();
  const normalize = (code: string) => {
    if (normalized.has(code)) return normalized.get(code);
    const n = byUndotted.get(undotted(code.trim()).replace(/[^0-9A-Z]/g, ''));
    if (normalized.size >= 200_000) normalized.clear();
    normalized.set(code, n);
    return n;
  };
  const get = (code: string) => {
    const n = normalize(code);
    return n === undefined ? undefined : byCode.get(n);
  };
  const ancestors = (code: string) => {
    const out: string[] = [];
    for (let p = get(code)?.parent; p; p = byCode.get(p)?.parent) out.push(p);
    return out;
  };
  const descendantsEnd = (code: string): number => {
    const kids = children.get(code);
    return kids && kids.length > 0 ? descendantsEnd(kids[kids.length - 1]) : position.get(code)!;
  };

  return {
    manifest,
    system: manifest.system,
    version: manifest.version,
    codes: tabular.codes,
    ...indexes,
    normalize,
    get,
    exists: (code) => normalize(code) !== undefined,
    isBillable: (code) => get(code)?.billable === true,
    children: (code) => children.get(normalize(code) ?? '') ?? [],
    ancestors,
    isAncestor: (ancestor, code) => {
      const a = normalize(ancestor);
      return a !== undefined && ancestors(code).includes(a);
    },
    billableDescendants: (code) => {
      const n = normalize(code);
      if (n === undefined) return [];
      const from = position.get(n)!;
      return tabular.codes
        .slice(from, descendantsEnd(n) + 1)
        .filter((c) => c.billable)
        .map((c) => c.code);
    },
    section: (code) => sections.get(get(code)?.section ?? ''),
    chapter: (code) => chapters.get(sections.get(get(code)?.section ?? '')?.chapter ?? ''),
    notesOf: (code, kind) => {
      const entry = get(code);
      if (!entry) return [];
      const out: AppliedNote[] = [];
      for (const c of [entry.code, ...ancestors(entry.code)]) for (const note of byCode.get(c)?.notes?.[kind] ?? []) out.push({ note, from: c });
      const section = sections.get(entry.section);
      for (const note of section?.notes?.[kind] ?? []) out.push({ note, from: section!.id });
      const chapter = chapters.get(section?.chapter ?? '');
      for (const note of chapter?.notes?.[kind] ?? []) out.push({ note, from: `chapter ${chapter!.id}` });
      return out;
    },
    seventhOf: (code) => {
      const scope = get(code)?.seventh;
      return scope ? tabular.seventh[scope] : undefined;
    },
    matches: (code, ref) => referenceMatches(undotted(code), ref),
  };
}

/**
 * Whether an undotted code falls under a reference. A range `from-to` holds the codes between
 * its ends in Tabular order, each end with everything below it; ICD-10-CM's order is the order
 * of the undotted strings (digits before letters: I16 < I1A).
 * @param code - undotted, upper case
 * @param ref - a note reference (format.ts TabularNote.refs)
 */
export function referenceMatches(code: string, ref: string): boolean {
  const dash = ref.indexOf('-');
  if (dash < 0) return code.startsWith(undotted(ref));
  const from = undotted(ref.slice(0, dash));
  const to = undotted(ref.slice(dash + 1));
  return code >= from && code.slice(0, to.length) <= to;
}

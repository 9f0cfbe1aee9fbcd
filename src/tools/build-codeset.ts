/**
 * `npm run build:codeset -- --tabular <xml[.gz]> --index <xml[.gz]> [--neoplasm <xml[.gz]>]
 * [--drug <xml[.gz]>] [--eindex <xml[.gz]>] --out <dir>`: the code-set bundle
 * (src/codeset/format.ts) from CDC's ICD-10-CM release files. The only reader of CDC's XML.
 *
 * Codes with a 7th character are not spelled out in the Tabular List: each leaf below a
 * `sevenChrDef` gets one code per 7th character, its first six characters padded with the
 * placeholder X (Tabular "7th characters and placeholder X"). The output is deterministic: the
 * same files give the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseDocument } from 'htmlparser2';
import { runCommand, UsageError } from '../cli/command';
import {
  BUNDLE_FORMAT,
  NOTE_KINDS,
  type BundleManifest,
  type ChapterEntry,
  type CodeEntry,
  type IndexFile,
  type IndexTerm,
  type Notes,
  type SectionEntry,
  type SeventhCharacters,
  type SourceFile,
  type TabularFile,
  type TabularNote,
  type TermFields,
} from '../codeset/format';
import { SOFTWARE_VERSION } from '../paths';

interface XmlElement {
  type: string;
  name: string;
  attribs: Record<string, string>;
  children: XmlNode[];
}
interface XmlText {
  type: 'text';
  data: string;
}
type XmlNode = XmlElement | XmlText;

const isElement = (n: XmlNode): n is XmlElement => n.type === 'tag';
const childrenNamed = (e: XmlElement, name: string) => e.children.filter((c): c is XmlElement => isElement(c) && c.name === name);
const childNamed = (e: XmlElement, name: string) => childrenNamed(e, name)[0];
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
function textOf(e: XmlElement | undefined): string {
  if (!e) return '';
  return squash(e.children.map((c) => (isElement(c) ? textOf(c) : c.data)).join(''));
}

/** The root element of an XML file (gzip or plain). */
function readXml(file: string): { root: XmlElement; bytes: Buffer } {
  const bytes = readFileSync(file);
  const xml = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const doc = parseDocument(xml, { xmlMode: true, decodeEntities: true }) as unknown as { children: XmlNode[] };
  const root = doc.children.find(isElement);
  if (!root) throw new Error(`${file} holds no XML element`);
  return { root, bytes };
}

function source(role: SourceFile['role'], file: string, bytes: Buffer, version: string): SourceFile {
  return { role, file: path.basename(file), version, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

// --------------------------------------------------------------------------------------------
// Code references in notes

const CODE = '[A-Z][0-9][0-9A-Z](?:\\.[0-9A-Z]{0,4})?';
const REFERENCE = new RegExp(`(${CODE})(?:\\s*-\\s*(${CODE}))?(-)?`, 'g');

/**
 * The code references of a note's text: `E11.22`, `I50.-` (→ `I50`: the code and all below
 * it), `N18.1-N18.6` (a range). Only inside parentheses, where the Tabular List puts them, so
 * words such as "type A00 cholera" in running text are not taken for references.
 * @param text - the note
 */
export function referencesOf(text: string): string[] {
  const refs: string[] = [];
  for (const group of text.matchAll(/\(([^()]*)\)/g)) {
    for (const m of group[1].matchAll(REFERENCE)) {
      const clean = (c: string) => c.replace(/\.$/, '');
      const from = clean(m[1]);
      refs.push(m[2] ? `${from}-${clean(m[2])}` : from);
    }
  }
  return [...new Set(refs)];
}

function notesOf(e: XmlElement): Notes | undefined {
  const notes: Notes = {};
  for (const kind of NOTE_KINDS) {
    const list: TabularNote[] = [];
    for (const block of childrenNamed(e, kind)) {
      for (const n of childrenNamed(block, 'note')) {
        const text = textOf(n);
        if (!text) continue;
        const refs = referencesOf(text);
        list.push(refs.length > 0 ? { text, refs } : { text });
      }
    }
    if (list.length > 0) notes[kind] = list;
  }
  return Object.keys(notes).length > 0 ? notes : undefined;
}

// --------------------------------------------------------------------------------------------
// Tabular List

/**
 * CMS issues 7th character A only for the S06 codes of death before regaining consciousness
 * (a later encounter is impossible): the FY2021 and FY2023 code files hold no D or S for them.
 */
const INITIAL_ONLY = /with death due to .* (?:prior to|before) regaining consciousness/;

/** The Tabular List as bundle data. */
export function tabularOf(root: XmlElement): TabularFile {
  const chapters: ChapterEntry[] = [];
  const sections: SectionEntry[] = [];
  const codes: CodeEntry[] = [];
  const seventh: Record<string, SeventhCharacters> = {};

  const addDiag = (diag: XmlElement, section: string, parent: string | undefined, inherited: string | undefined) => {
    const code = textOf(childNamed(diag, 'name'));
    const title = textOf(childNamed(diag, 'desc'));
    const def = childNamed(diag, 'sevenChrDef');
    let scope = inherited;
    if (def) {
      const chars: Record<string, string> = {};
      for (const ext of childrenNamed(def, 'extension')) chars[ext.attribs.char] = textOf(ext);
      const note = textOf(childNamed(childNamed(diag, 'sevenChrNote') ?? def, 'note'));
      seventh[code] = note ? { note, chars } : { chars };
      scope = code;
    }
    const subs = childrenNamed(diag, 'diag');
    const notes = notesOf(diag);
    codes.push({
      code,
      title,
      ...(parent ? { parent } : {}),
      section,
      billable: subs.length === 0 && !scope,
      ...(notes ? { notes } : {}),
      ...(scope ? { seventh: scope } : {}),
    });
    for (const sub of subs) addDiag(sub, section, code, scope);
    if (subs.length === 0 && scope) {
      const base = code.replace('.', '').padEnd(6, 'X');
      const dotted = `${base.slice(0, 3)}.${base.slice(3)}`;
      for (const [char, meaning] of Object.entries(seventh[scope].chars)) {
        if (char !== 'A' && INITIAL_ONLY.test(title)) continue;
        codes.push({ code: `${dotted}${char}`, title: `${title}, ${meaning}`, parent: code, section, billable: true, seventh: scope, generated: true });
      }
    }
  };

  for (const chapter of childrenNamed(root, 'chapter')) {
    const id = textOf(childNamed(chapter, 'name'));
    const notes = notesOf(chapter);
    chapters.push({ id, title: textOf(childNamed(chapter, 'desc')), ...(notes ? { notes } : {}) });
    for (const section of childrenNamed(chapter, 'section')) {
      const sid = section.attribs.id;
      const sNotes = notesOf(section);
      sections.push({ id: sid, chapter: id, title: textOf(childNamed(section, 'desc')), ...(sNotes ? { notes: sNotes } : {}) });
      for (const diag of childrenNamed(section, 'diag')) addDiag(diag, sid, undefined, undefined);
    }
  }
  return { chapters, sections, codes, seventh };
}

// --------------------------------------------------------------------------------------------
// Index and tables

const FIELD_NAMES = ['code', 'manif', 'see', 'seeAlso', 'seecat', 'subcat'] as const;

function termOf(e: XmlElement, columns: number): IndexTerm {
  const titleElement = childNamed(e, 'title');
  const nemod: string[] = [];
  let essential = '';
  for (const c of titleElement?.children ?? []) {
    if (isElement(c) && c.name === 'nemod') nemod.push(textOf(c));
    else essential += isElement(c) ? ` ${textOf(c)} ` : c.data;
  }
  const fields: TermFields = {};
  for (const name of FIELD_NAMES) {
    const values = childrenNamed(e, name).map(textOf).filter(Boolean);
    if (values.length > 0) fields[name] = values.join('; ');
  }
  const cells = childrenNamed(e, 'cell');
  if (columns > 0 && cells.length > 0) {
    const row: (string | null)[] = Array.from({ length: columns }, () => null);
    for (const cell of cells) {
      const col = Number(cell.attribs.col) - 2;
      const value = textOf(cell);
      if (col >= 0 && col < columns && value && !/^-+$/.test(value)) row[col] = value;
    }
    fields.cells = row;
  }
  return [squash(essential), nemod, fields, subtermsOf(e, fields, columns)];
}

/**
 * The subterms of a term. A "Note: …" printed among them is a note, not a term: its text goes
 * to the term, and the subterms CDC's XML nests under it (the heart failure stages note holds
 * every later subterm of "Failure, heart") go back to the term printed before it.
 */
function subtermsOf(e: XmlElement, fields: TermFields, columns: number): IndexTerm[] {
  const out: IndexTerm[] = [];
  for (const t of childrenNamed(e, 'term')) {
    const title = textOf(childNamed(t, 'title'));
    if (!/^Note:/.test(title)) {
      out.push(termOf(t, columns));
      continue;
    }
    fields.note = fields.note ? `${fields.note} ${title}` : title;
    const nested = subtermsOf(t, {}, columns);
    const previous = out[out.length - 1];
    if (previous) previous[3].push(...nested);
    else out.push(...nested);
  }
  return out;
}

/** An index (the Alphabetic Index, the External Cause Index) or a table (Neoplasm, Drug) as bundle data. */
export function indexOf(root: XmlElement): IndexFile {
  const heading = childNamed(root, 'indexHeading');
  const columns = heading ? childrenNamed(heading, 'head').slice(1).map(textOf) : undefined;
  const terms: IndexTerm[] = [];
  for (const letter of childrenNamed(root, 'letter')) for (const main of childrenNamed(letter, 'mainTerm')) terms.push(termOf(main, columns?.length ?? 0));
  return { version: textOf(childNamed(root, 'version')), title: textOf(childNamed(root, 'title')), ...(columns ? { columns } : {}), terms };
}

function countTerms(terms: readonly IndexTerm[]): number {
  return terms.reduce((n, t) => n + 1 + countTerms(t[3]), 0);
}

function tableCodes(terms: readonly IndexTerm[], into: Set<string> = new Set()): Set<string> {
  for (const [, , fields, subs] of terms) {
    for (const cell of fields.cells ?? []) if (cell) into.add(cell.replace(/-$/, '').replace(/\.$/, ''));
    if (fields.code) into.add(fields.code.replace(/-$/, '').replace(/\.$/, ''));
    tableCodes(subs, into);
  }
  return into;
}

// --------------------------------------------------------------------------------------------

export interface BuildOptions {
  tabular: string;
  index: string;
  neoplasm?: string;
  drug?: string;
  eindex?: string;
  out: string;
}

const json = (value: unknown) => `${JSON.stringify(value)}\n`;
// Level 9 and a fixed header (no timestamp or name): the same input gives the same bytes.
const gz = (text: string) => gzipSync(Buffer.from(text, 'utf8'), { level: 9 });

/**
 * Builds the bundle into `options.out`.
 * @returns the manifest written
 */
export function buildCodeSet(options: BuildOptions): BundleManifest {
  const tab = readXml(options.tabular);
  const version = textOf(childNamed(tab.root, 'version'));
  if (!/^\d{4}$/.test(version)) throw new Error(`${options.tabular}: <version> ${JSON.stringify(version)} is not a fiscal year`);
  const tabular = tabularOf(tab.root);
  const idx = readXml(options.index);
  const index = indexOf(idx.root);
  const sources: SourceFile[] = [source('tabular', options.tabular, tab.bytes, version), source('index', options.index, idx.bytes, index.version)];
  const known = new Set(tabular.codes.map((c) => c.code));
  const notes: Record<string, number> = {};
  let refsUnparsed = 0;
  const countNotes = (n: Notes | undefined) => {
    for (const [kind, list] of Object.entries(n ?? {})) {
      notes[kind] = (notes[kind] ?? 0) + list.length;
      if (kind !== 'inclusionTerm' && kind !== 'includes' && kind !== 'notes') refsUnparsed += list.filter((l) => !l.refs).length;
    }
  };
  for (const e of [...tabular.chapters, ...tabular.sections, ...tabular.codes]) countNotes(e.notes);
  const counts: Record<string, number> = {
    chapters: tabular.chapters.length,
    sections: tabular.sections.length,
    codes: tabular.codes.length,
    billable: tabular.codes.filter((c) => c.billable).length,
    generatedSeventhCharacter: tabular.codes.filter((c) => c.generated).length,
    indexTerms: countTerms(index.terms),
    ...Object.fromEntries(Object.entries(notes).map(([k, v]) => [`notes.${k}`, v])),
    notesWithoutCodeReference: refsUnparsed,
  };

  mkdirSync(options.out, { recursive: true });
  writeFileSync(path.join(options.out, 'tabular.json.gz'), gz(json(tabular)));
  writeFileSync(path.join(options.out, 'index.json.gz'), gz(json(index)));
  for (const role of ['neoplasm', 'drug', 'eindex'] as const) {
    const file = options[role];
    if (!file) continue;
    const xml = readXml(file);
    const table = indexOf(xml.root);
    sources.push(source(role, file, xml.bytes, table.version));
    counts[`${role}Terms`] = countTerms(table.terms);
    // Codes the table names that the Tabular year lacks (the table may be of another year):
    // resolved at run time to the nearest code that exists, and counted here.
    counts[`${role}CodesNotInTabular`] = [...tableCodes(table.terms)].filter((c) => !known.has(c) && !known.has(c.replace(/\.$/, ''))).length;
    writeFileSync(path.join(options.out, `${role}.json.gz`), gz(json(table)));
  }
  const fy = Number(version);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    system: 'http://hl7.org/fhir/sid/icd-10-cm',
    version,
    effective: { from: `${fy - 1}-10-01`, to: `${fy}-09-30` },
    sources,
    counts,
    builder: `icd10-cds build-codeset ${SOFTWARE_VERSION}`,
  };
  writeFileSync(path.join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

runCommand(module, 'build:codeset', () => {
  const { values } = parseArgs({
    options: {
      tabular: { type: 'string' },
      index: { type: 'string' },
      neoplasm: { type: 'string' },
      drug: { type: 'string' },
      eindex: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.tabular || !values.index || !values.out) {
    throw new UsageError(
      'usage: npm run build:codeset -- --tabular <xml[.gz]> --index <xml[.gz]> [--neoplasm <xml>] [--drug <xml>] [--eindex <xml>] --out <dir>',
    );
  }
  const started = performance.now();
  const manifest = buildCodeSet({
    tabular: values.tabular,
    index: values.index,
    neoplasm: values.neoplasm,
    drug: values.drug,
    eindex: values.eindex,
    out: values.out,
  });
  return { out: values.out, version: manifest.version, counts: manifest.counts, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) };
});

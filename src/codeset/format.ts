/**
 * The code-set bundle's files, as written by `npm run build:codeset` (src/tools/build-codeset.ts,
 * the only reader of CDC's XML) and read by load.ts (the only reader of the bundle). Plain JSON,
 * gzip-compressed, in CDC's order: a coder can read it with zcat.
 *
 * - manifest.json: identity, sources and counts (BundleManifest)
 * - tabular.json.gz: chapters, sections and every code with its notes (TabularFile)
 * - index.json.gz: the Alphabetic Index to Diseases and Injuries (IndexFile)
 * - neoplasm.json.gz, drug.json.gz, eindex.json.gz: the tables, when built with them (TableFile, IndexFile)
 */

export const BUNDLE_FORMAT = 1;

/** Kinds of Tabular List instructional notes kept in the bundle. */
export const NOTE_KINDS = ['includes', 'inclusionTerm', 'excludes1', 'excludes2', 'codeFirst', 'useAdditionalCode', 'codeAlso', 'notes'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

/** One note of the Tabular List, with the code references found in its text. */
export interface TabularNote {
  text: string;
  /**
   * Code references, as written in the note and normalized: a code (`E11.22`), a code and
   * everything below it (`I50.-` → `I50`, also written `I50-`), or a range (`N18.1-N18.6`,
   * `I10-I1A`): `from..to`.
   */
  refs?: string[];
}

export type Notes = Partial<Record<NoteKind, TabularNote[]>>;

export interface ChapterEntry {
  id: string;
  title: string;
  notes?: Notes;
}

export interface SectionEntry {
  /** Its code range, e.g. `I10-I1A`. */
  id: string;
  chapter: string;
  title: string;
  notes?: Notes;
}

/** The 7th characters that apply below a code (its `sevenChrDef`). */
export interface SeventhCharacters {
  note?: string;
  /** 7th character → its meaning (`A` → `initial encounter for closed fracture`). */
  chars: Record<string, string>;
}

export interface CodeEntry {
  /** Dotted, upper case. */
  code: string;
  title: string;
  /** The code above it; absent for a category (its parent is the section). */
  parent?: string;
  section: string;
  /** Valid for reporting (HIPAA-valid): a leaf, or a 7th-character code. */
  billable: boolean;
  notes?: Notes;
  /** The code whose 7th characters apply to this one (itself or an ancestor), when any. */
  seventh?: string;
  /** Made here from a 7th-character definition (CDC's Tabular spells them out nowhere). */
  generated?: true;
}

export interface TabularFile {
  chapters: ChapterEntry[];
  sections: SectionEntry[];
  /** Every code, in Tabular order. */
  codes: CodeEntry[];
  seventh: Record<string, SeventhCharacters>;
}

/**
 * One term of an index, compact: [title, nonessential modifiers, fields, subterms]. `title`
 * holds the essential words only; the modifiers in parentheses are apart.
 */
export type IndexTerm = [title: string, nemod: string[], fields: TermFields, terms: IndexTerm[]];

export interface TermFields {
  code?: string;
  /** The manifestation code printed in brackets after the code. */
  manif?: string;
  see?: string;
  seeAlso?: string;
  seecat?: string;
  subcat?: string;
  /** Index notes printed among the subterms ("Note: heart failure stages A, B, C, and D ..."). */
  note?: string;
  /** Table cells (Neoplasm, Drug): one per column after the first, null for "-" or "--". */
  cells?: (string | null)[];
}

export interface IndexFile {
  version: string;
  title: string;
  /** Column headings of a table (Neoplasm, Drug). */
  columns?: string[];
  terms: IndexTerm[];
}

export interface SourceFile {
  role: 'tabular' | 'index' | 'neoplasm' | 'drug' | 'eindex';
  file: string;
  /** The `<version>` inside the file. */
  version: string;
  bytes: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  system: 'http://hl7.org/fhir/sid/icd-10-cm';
  /** The fiscal year of the Tabular List, e.g. `2023`: Condition.code.coding.version. */
  version: string;
  /** FY N runs from (N-1)-10-01 to N-09-30. */
  effective: { from: string; to: string };
  sources: SourceFile[];
  counts: Record<string, number>;
  builder: string;
}

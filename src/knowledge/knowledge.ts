/**
 * The project's coding knowledge (models/knowledge/*.tsv), loaded once: each table names its
 * source in its header, and a coder reviews it as a table. Nothing here is a code literal; the
 * stages read these tables. See models/knowledge/README.md.
 */
import path from 'node:path';
import type { SpellingVariants } from '../finder/words';
import { readTsv } from './tsv';

/** A clinical abbreviation or synonym and the words it stands for, in the Index's wording. */
export interface LexiconEntry {
  /** Its words as written (matched on raw tokens). */
  term: string;
  /** The Index wording it stands for. */
  expansion: string;
  caseSensitive: boolean;
  /** `means`: the words replace the term; `also`: they are added to it (a synonym that keeps its own words). */
  kind: 'means' | 'also';
  source: string;
}

export interface Combination {
  when: string[];
  code: string;
  source: string;
}

/** How an Index main term may be matched from free text. */
export interface MainTermRule {
  /** The main term's title as the Index prints it. */
  term: string;
  /** `never`: not a diagnosis in running text; `subterm`: only with a subterm (a generic head); `prefer`: the form taken among main terms that start alike. */
  rule: 'never' | 'subterm' | 'prefer';
  reason: string;
}

export interface EncounterCue {
  cue: string;
  encounter: 'subsequent' | 'subsequent-delayed' | 'subsequent-nonunion' | 'subsequent-malunion' | 'sequela';
}

/** A sign or symptom that is part of a definitive diagnosis (guideline I.B.5). */
export interface IntegralSymptom {
  /** Code references of the symptom (a code covers what is below it; `from-to` ranges). */
  symptoms: string[];
  diagnoses: string[];
  condition: string;
  source: string;
}

export interface Knowledge {
  lexicon: LexiconEntry[];
  spelling: SpellingVariants;
  combinations: Combination[];
  /** Code prefixes of chronic conditions: "history of" them means they are current. */
  chronic: string[];
  mainTerms: MainTermRule[];
  encounterCues: EncounterCue[];
  /** Codes never suggested (catch-alls). */
  catchAll: string[];
  integralSymptoms: IntegralSymptom[];
}

const list = (cell: string) => cell.split(/\s+/).filter(Boolean);

/**
 * Loads every table of the knowledge directory.
 * @param dir - KNOWLEDGE_DIR (models/knowledge)
 * @throws Error naming the file, line and column of the first problem
 */
export async function loadKnowledge(dir: string): Promise<Knowledge> {
  const file = (name: string) => path.join(dir, name);
  const [abbreviations, synonyms, spelling, combinations, chronic, mainTerms, cues, catchAll, integral] = await Promise.all([
    readTsv(file('abbreviations.tsv'), ['term', 'expansion', 'case_sensitive', 'source']),
    readTsv(file('synonyms.tsv'), ['term', 'adds', 'source']),
    readTsv(file('spelling-variants.tsv'), ['kind', 'british', 'us']),
    readTsv(file('combinations.tsv'), ['when', 'code', 'source']),
    readTsv(file('chronic-conditions.tsv'), ['codes', 'condition', 'source']),
    readTsv(file('main-terms.tsv'), ['term', 'rule', 'reason']),
    readTsv(file('encounter-cues.tsv'), ['cue', 'encounter', 'source']),
    readTsv(file('catch-all-codes.tsv'), ['code', 'title', 'reason']),
    readTsv(file('integral-symptoms.tsv'), ['symptom', 'diagnoses', 'condition', 'source']),
  ]);
  return {
    lexicon: [
      ...abbreviations.map((r): LexiconEntry => ({
        term: r.term,
        expansion: r.expansion,
        caseSensitive: /^(yes|true|1)$/i.test(r.case_sensitive),
        kind: 'means',
        source: r.source,
      })),
      ...synonyms.map((r): LexiconEntry => ({ term: r.term, expansion: r.adds, caseSensitive: false, kind: 'also', source: r.source })),
    ],
    spelling: {
      prefixes: spelling.filter((r) => r.kind === 'prefix').map((r) => [r.british, r.us] as [string, string]),
      words: new Map(spelling.filter((r) => r.kind === 'word').map((r) => [r.british, r.us])),
    },
    combinations: combinations.map((r) => ({ when: list(r.when), code: r.code, source: r.source })),
    chronic: chronic.flatMap((r) => list(r.codes)),
    mainTerms: mainTerms.map((r) => {
      if (r.rule !== 'never' && r.rule !== 'subterm' && r.rule !== 'prefer')
        throw new Error(`${file('main-terms.tsv')}: rule of "${r.term}" must be never, subterm or prefer`);
      return { term: r.term, rule: r.rule, reason: r.reason };
    }),
    encounterCues: cues.map((r) => ({ cue: r.cue, encounter: r.encounter as EncounterCue['encounter'] })),
    catchAll: catchAll.map((r) => r.code),
    integralSymptoms: integral.map((r) => ({ symptoms: list(r.symptom), diagnoses: list(r.diagnoses), condition: r.condition, source: r.source })),
  };
}

/** Whether a code is a chronic condition's (chronic-conditions.tsv): "history of" it means it is current. */
export function isChronicCode(knowledge: Pick<Knowledge, 'chronic'>, code: string): boolean {
  const bare = code.replace('.', '');
  return knowledge.chronic.some((prefix) => bare.startsWith(prefix.replace('.', '')));
}

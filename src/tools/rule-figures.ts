/**
 * `npm run rule-figures -- [--mtsamples <dir>] [--unparsed <md>] [--sample 20]`: what the
 * coding-rule checks (rules/) have to work with and how often they fire.
 *
 * - Rules per type in the loaded code set: Tabular notes by kind (items with code references,
 *   headings, notes with no reference the checks can use), the pairs they make (note × reference,
 *   and billable code × billable code), the notes that require a partner, 7th-character
 *   definitions and the codes they make, header codes, integral-symptom derivations.
 * - `--unparsed`: the Excludes1 notes without a code reference, written as a Markdown table
 *   (generated: docs/excludes1-unparsed.md).
 * - `--mtsamples`: the service's engine (ENGINE=both, default bundles) and the checks over the
 *   MTSamples discharge summaries: findings per rule, notes with a finding, and a seeded sample
 *   of findings with the passages of the codes they name, for a coder to read.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../cli/command';
import { loadCodeSet, type CodeSet } from '../codeset/code-set';
import type { NoteKind } from '../codeset/format';
import { loadEngine } from '../engine/load-engine';
import { loadKnowledge } from '../knowledge/knowledge';
import { PROJECT_ROOT } from '../paths';
import { createRuleChecker } from '../rules/check-coding';
import { readNotesOf, RULE_CODES, type RuleCode, type RuleFinding } from '../rules/findings';
import { MANIFESTATION, requiredPartnerNotes } from '../rules/paired-codes';
import type { Suggestion } from '../suggest';
import { mtsamplesDischargeSummaries } from './read-mtsamples';
import { seededRandom } from './random';

const KINDS = ['excludes1', 'excludes2', 'codeFirst', 'useAdditionalCode', 'codeAlso'] as const satisfies readonly NoteKind[];
const undotted = (code: string) => code.replace('.', '');

/** Billable codes (undotted, sorted) under a reference, counted by binary search. */
function billableCounter(codeSet: CodeSet): (ref: string) => number {
  const sorted = codeSet.codes
    .filter((c) => c.billable)
    .map((c) => undotted(c.code))
    .sort();
  const lowerBound = (key: string) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Everything at or below `to` sorts before `to` followed by the highest character.
  return (ref) => {
    const [from, to = from] = ref.split('-');
    return Math.max(0, lowerBound(`${undotted(to)}\uffff`) - lowerBound(undotted(from)));
  };
}

interface KindFigures {
  notes: number;
  withReferences: number;
  headings: number;
  withoutReference: number;
  references: number;
  /** Billable codes the note applies to × billable codes its references cover. */
  billablePairs: number;
}

/** The Tabular's notes of every kind, where each is printed (a code, a section, a chapter). */
function tabularRuleFigures(codeSet: CodeSet) {
  const billableIn = billableCounter(codeSet);
  const billableUnder = new Map<string, number>();
  const sectionBillable = new Map<string, number>();
  const chapterBillable = new Map<string, number>();
  for (const c of codeSet.codes) {
    if (!c.billable) continue;
    sectionBillable.set(c.section, (sectionBillable.get(c.section) ?? 0) + 1);
    const chapter = codeSet.chapter(c.code)?.id ?? '';
    chapterBillable.set(chapter, (chapterBillable.get(chapter) ?? 0) + 1);
  }
  const carriers: { from: string; billable: number; notes: NonNullable<(typeof codeSet.codes)[number]['notes']> }[] = [];
  for (const c of codeSet.codes) {
    if (!c.notes) continue;
    let n = billableUnder.get(c.code);
    if (n === undefined) billableUnder.set(c.code, (n = codeSet.billableDescendants(c.code).length));
    carriers.push({ from: c.code, billable: n, notes: c.notes });
  }
  const figures = {} as Record<(typeof KINDS)[number], KindFigures>;
  const unparsedExcludes1: { from: string; text: string }[] = [];
  const sectionsAndChapters = [
    ...codeSet.codes
      .map((c) => codeSet.section(c.code))
      .filter((s, i, all) => s && all.indexOf(s) === i)
      .map((s) => ({ from: s!.id, billable: sectionBillable.get(s!.id) ?? 0, notes: s!.notes ?? {} })),
  ];
  const chapters = new Map<string, { from: string; billable: number; notes: object }>();
  for (const c of codeSet.codes) {
    const ch = codeSet.chapter(c.code);
    if (ch && !chapters.has(ch.id)) chapters.set(ch.id, { from: `chapter ${ch.id}`, billable: chapterBillable.get(ch.id) ?? 0, notes: ch.notes ?? {} });
  }
  const all = [...carriers, ...sectionsAndChapters, ...chapters.values()];
  for (const kind of KINDS) {
    const f: KindFigures = { notes: 0, withReferences: 0, headings: 0, withoutReference: 0, references: 0, billablePairs: 0 };
    for (const carrier of all) {
      for (const note of (carrier.notes as Record<string, { text: string; refs?: string[] }[]>)[kind] ?? []) {
        f.notes++;
        const refs = note.refs ?? [];
        if (refs.length > 0) {
          f.withReferences++;
          f.references += refs.length;
          f.billablePairs += carrier.billable * refs.reduce((sum, r) => sum + billableIn(r), 0);
        } else if (/:\s*$/.test(note.text)) f.headings++;
        else {
          f.withoutReference++;
          if (kind === 'excludes1') unparsedExcludes1.push({ from: carrier.from, text: note.text });
        }
      }
    }
    figures[kind] = f;
  }
  return { figures, unparsedExcludes1 };
}

/** Billable codes that a note makes need a partner, and the manifestation codes. */
function partnerFigures(codeSet: CodeSet) {
  const required = { codeFirst: 0, useAdditionalCode: 0, codeAlso: 0 };
  let manifestations = 0;
  for (const c of codeSet.codes) {
    if (!c.billable) continue;
    if (MANIFESTATION.test(c.title)) manifestations++;
    for (const kind of ['codeFirst', 'useAdditionalCode', 'codeAlso'] as const) {
      // A manifestation needs one of the etiologies its code-first notes list.
      const manifestation = kind === 'codeFirst' && MANIFESTATION.test(c.title) && readNotesOf(codeSet, c.code, kind).length > 0;
      if (manifestation || requiredPartnerNotes(codeSet, c.code, kind).length > 0) required[kind]++;
    }
  }
  return { billableCodesRequiringAPartner: required, manifestationCodes: manifestations };
}

function codeFigures(codeSet: CodeSet) {
  let billable = 0;
  let header = 0;
  let seventhDefinitions = 0;
  let seventhCodes = 0;
  let placeholderCodes = 0;
  for (const c of codeSet.codes) {
    if (c.billable) billable++;
    else header++;
    if (c.seventh === c.code) seventhDefinitions++;
    if (c.generated) {
      seventhCodes++;
      // A placeholder X stands between the code's own characters and its 7th.
      if (/X/.test(undotted(c.code).slice(3, -1))) placeholderCodes++;
    }
  }
  return {
    codes: codeSet.codes.length,
    billable,
    header,
    seventhCharacter: { definitions: seventhDefinitions, codesMade: seventhCodes, withPlaceholderX: placeholderCodes },
  };
}

/** Symptom (R) codes whose Excludes1 names a diagnosis outside chapter 18: pairs the integral check derives. */
function integralFigures(codeSet: CodeSet, tableRows: number) {
  let symptomsWithDerivations = 0;
  let excludes1References = 0;
  for (const c of codeSet.codes) {
    if (!c.billable || !c.code.startsWith('R')) continue;
    const refs = readNotesOf(codeSet, c.code, 'excludes1').flatMap((n) => n.refs.filter((r) => !r.startsWith('R')));
    if (refs.length > 0) symptomsWithDerivations++;
    excludes1References += refs.length;
  }
  return {
    billableSymptomCodesWithExcludes1Diagnoses: symptomsWithDerivations,
    excludes1DiagnosisReferences: excludes1References,
    projectTableRows: tableRows,
  };
}

/** The passage of a code's strongest evidence, trimmed to its sentence-ish surroundings. */
function passageOf(text: string, s: Suggestion | undefined): string | undefined {
  const e = s?.evidence[0];
  if (!e) return undefined;
  const from = Math.max(0, e.start - 60);
  const to = Math.min(text.length, e.end + 60);
  return `…${text.slice(from, to).replace(/\s+/g, ' ')}…`;
}

async function firingOnMtsamples(dir: string, sampleSize: number) {
  const notes = mtsamplesDischargeSummaries(dir);
  const models = path.join(PROJECT_ROOT, 'models');
  const { engine } = await loadEngine({
    mode: 'both',
    modelDir: path.join(models, 'default'),
    codeSetDir: path.join(models, 'icd10cm-2023'),
    knowledgeDir: path.join(models, 'knowledge'),
    rankerDir: path.join(models, 'ranker'),
    intraOpThreads: 1,
  });
  const knowledge = await loadKnowledge(path.join(models, 'knowledge'));
  const codeSet = await loadCodeSet(path.join(models, 'icd10cm-2023'));
  const checker = createRuleChecker(codeSet, knowledge.integralSymptoms);
  const perRule = Object.fromEntries(RULE_CODES.map((r) => [r, { findings: 0, notes: 0 }])) as Record<RuleCode, { findings: number; notes: number }>;
  const all: { note: number; finding: RuleFinding; passages: Record<string, string | undefined> }[] = [];
  let suggestions = 0;
  let removed = 0;
  let notesWithFinding = 0;
  for (const [i, text] of notes.entries()) {
    const suggested = await engine.suggest([{ text, source: { display: `mtsamples-${i}`, contentIndex: 0, contentType: 'text/plain' } }], {
      setting: 'inpatient',
    });
    const result = checker.check(suggested, []);
    suggestions += result.suggestions.length;
    removed += result.removed.length;
    if (result.findings.length > 0) notesWithFinding++;
    for (const rule of new Set(result.findings.map((f) => f.rule))) perRule[rule].notes++;
    for (const finding of result.findings) {
      perRule[finding.rule].findings++;
      const passages = Object.fromEntries(
        finding.suggested.map((code) => [
          code,
          passageOf(
            text,
            suggested.find((s) => s.code === code),
          ),
        ]),
      );
      all.push({ note: i, finding, passages });
    }
  }
  // A seeded sample, drawn rule by rule in turn so that rare rules are read too.
  const random = seededRandom(13);
  const byRule = RULE_CODES.map((r) => all.filter((f) => f.finding.rule === r).sort(() => random() - 0.5)).filter((l) => l.length > 0);
  const sample: typeof all = [];
  for (let k = 0; sample.length < Math.min(sampleSize, all.length); k++)
    for (const list of byRule) if (list[k] && sample.length < sampleSize) sample.push(list[k]);
  return {
    notes: notes.length,
    suggestions,
    suggestionsPerNote: Number((suggestions / notes.length).toFixed(2)),
    integralSymptomsLeftOut: removed,
    notesWithAFinding: notesWithFinding,
    findings: all.length,
    perRule,
    recordedCodes:
      'none: MTSamples notes come without recorded conditions, so the recorded-code rules (not-billable, not-in-code-set, recorded 7th characters) cannot fire here',
    sample: sample.map((s) => ({ note: `mtsamples-${s.note}`, rule: s.finding.rule, codes: s.finding.suggested, text: s.finding.text, passages: s.passages })),
  };
}

/** Code-shaped words of a note (`E72.4`, `H90.-`, `E08-E10`). */
const bareCodes = (text: string) =>
  [...text.matchAll(/\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-Z]{1,4})?(?:\.?-(?:[A-Z]\d[0-9AB](?:\.[0-9A-Z]{1,4})?)?)?/g)].map((m) => m[0]);

function unparsedTable(codeSet: CodeSet, rows: readonly { from: string; text: string }[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '# Excludes1 notes the checks cannot use',
    '',
    `Generated by \`npm run rule-figures -- --unparsed docs/excludes1-unparsed.md\` from the code-set bundle \`models/icd10cm-2023\` (ICD-10-CM ${codeSet.version}). Do not edit by hand.`,
    '',
    'These Excludes1 notes name no code, code range or category, and are not headings of a list',
    '("…, such as:"). The Excludes1 check (src/rules/excludes1.ts) cannot pair them with a code, so',
    'they never raise a finding; a coder reads them in the Tabular.',
    '',
    `${rows.length} notes.`,
    '',
    `${rows.filter((r) => bareCodes(r.text).length > 0).length} of them write a code outside parentheses (the third column), where the bundle builder`,
    '(src/tools/build-codeset.ts) does not look for one, so that words in running text are not taken for codes;',
    'the others name no code at all ("see injury … by body region", "code to condition").',
    '',
    '| printed at | note | code written outside parentheses |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.from} | ${cell(r.text)} | ${bareCodes(r.text).join(', ')} |`),
    '',
  ].join('\n');
}

runCommand(module, 'rule-figures', async () => {
  const { values } = parseArgs({ options: { mtsamples: { type: 'string' }, unparsed: { type: 'string' }, sample: { type: 'string', default: '20' } } });
  const sampleSize = Number(values.sample);
  if (!Number.isInteger(sampleSize) || sampleSize < 0)
    throw new UsageError('usage: npm run rule-figures -- [--mtsamples <dir>] [--unparsed <md>] [--sample 20]');
  const models = path.join(PROJECT_ROOT, 'models');
  const codeSet = await loadCodeSet(path.join(models, 'icd10cm-2023'));
  const knowledge = await loadKnowledge(path.join(models, 'knowledge'));
  const { figures, unparsedExcludes1 } = tabularRuleFigures(codeSet);
  if (values.unparsed) writeFileSync(values.unparsed, unparsedTable(codeSet, unparsedExcludes1));
  return {
    codeSet: { version: codeSet.version, ...codeFigures(codeSet) },
    notes: figures,
    partners: partnerFigures(codeSet),
    integralSymptoms: integralFigures(codeSet, knowledge.integralSymptoms.length),
    ...(values.mtsamples ? { mtsamples: await firingOnMtsamples(values.mtsamples, sampleSize) } : {}),
  };
});

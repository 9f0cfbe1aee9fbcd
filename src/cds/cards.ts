/**
 * Suggestions → CDS Hooks cards: one card per code, one suggestion per card with a single
 * `create` action of the suggested Condition. Never systemActions, never autolaunch.
 *
 * One card per code (selectionBehavior at-most-one) because feedback `overridden` applies
 * to a whole card (CDS Hooks 2.0 §Feedback): per-code cards give per-code override reasons.
 */
import type { CodeSystem } from '@medplum/fhirtypes';
import type { DeltaSuggestion } from '../coding/recorded-codes';
import type { RuleFinding } from '../rules/findings';
import type { AssertionStatus } from '../evidence/assertion';
import { describeContext } from '../evidence/context';
import { confidenceText, percent, toCondition } from '../fhir/condition';
import { CDS_TOPIC_SYSTEM } from '../fhir/constants';
import { escapeMarkdown, escapeMarkdownInline } from '../fhir/markdown';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import { overrideReasonsOf } from './override-reasons';
import type { Card, Coding } from './types';

/** CDS Hooks 2.0 §Card Attributes: summary "<140 characters". */
export const MAX_SUMMARY = 139;

export interface CardContext {
  patientId: string;
  encounterId: string;
  model: ModelInfo;
  notes: readonly Note[];
  newId: () => string;
  overrideReasons: CodeSystem;
  topics: CodeSystem;
  /** The coding-rule CodeSystem: the rules' names. */
  codingRules: CodeSystem;
  /** True when the encounter's recorded Conditions could not be read (no delta coding was done). */
  recordedUnknown?: boolean;
}

/**
 * One-sentence summary with code, display, confidence and (unless present) the assertion
 * status, shortened (display first) to fit.
 * @param suggestion - the code and its score
 */
export function summaryOf(suggestion: DeltaSuggestion): string {
  const refined = suggestion.refines?.[0];
  const head = refined ? `Refine recorded ${refined.code} → ICD-10-CM ${suggestion.code}: ` : `Suggested ICD-10-CM ${suggestion.code}: `;
  const status = suggestion.status && suggestion.status !== 'present' ? `, ${suggestion.status}` : '';
  const tail = ` (${percent(suggestion.score)} confidence${status})`;
  const room = MAX_SUMMARY - Array.from(head + tail).length;
  const display = Array.from(suggestion.display);
  const shown =
    display.length <= room
      ? suggestion.display
      : `${display
          .slice(0, room - 1)
          .join('')
          .trimEnd()}…`;
  return `${head}${shown}${tail}`;
}

/** What a coder should weigh when the best evidence is not a plain present mention. */
const STATUS_ADVICE: Readonly<Record<Exclude<AssertionStatus, 'present'>, string>> = {
  uncertain: 'The note qualifies it (e.g. "probable", "suspected"); inpatient guidelines code it as if established only when it is still so at discharge.',
  historical: 'The note mentions it as past history; code it only if it is still present or affects this stay.',
  hypothetical: 'The note mentions it only as a possibility or plan.',
  family: 'The note attributes it to a relative.',
  negated: 'The note says it is absent.',
};

const SOURCE_TEXT: Readonly<Record<NonNullable<DeltaSuggestion['source']>, string>> = {
  index: 'the Alphabetic Index',
  model: 'the classifier',
  both: 'the Alphabetic Index and the classifier',
};

/** Markdown lines saying which recorded codes a refinement is more specific than. */
function refinementLines(suggestion: DeltaSuggestion): string[] {
  const refines = suggestion.refines ?? [];
  if (refines.length === 0) return [];
  const recorded = refines.map((r) => escapeMarkdown(`${r.code}${r.display ? ` (${r.display})` : ''}${r.reference ? `, ${r.reference}` : ''}`));
  return [
    `**Refines a recorded diagnosis:** ${recorded.join('; ')} ${refines.length > 1 ? 'are' : 'is'} recorded for this encounter, and ${escapeMarkdown(suggestion.code)} is more specific.`,
    'Accepting adds it as a new provisional diagnosis; the recorded one stays as is (this service never changes or removes recorded data), so update or remove it yourself if the new code replaces it.',
    '',
  ];
}

/** The rule's name in the coding-rule CodeSystem ("Excludes1", "Use additional code"). */
function ruleName(finding: RuleFinding, codingRules: CodeSystem): string {
  return codingRules.concept?.find((c) => c.code === finding.rule)?.display ?? finding.rule;
}

/** One paragraph per finding, each starting "Coding rule:" and naming the rule and the codes. */
function ruleLines(findings: readonly RuleFinding[], codingRules: CodeSystem): string[] {
  return findings.flatMap((f) => [`Coding rule: ${escapeMarkdown(`${ruleName(f, codingRules)}. ${f.text}`)}`, '']);
}

/** Markdown detail: the coding rules, the quoted evidence, the confidence, the model, and what accepting does. */
function detailOf(suggestion: DeltaSuggestion, ctx: CardContext): string {
  const lines: string[] = [];
  if (!ctx.model.clinicallyMeaningful) {
    lines.push('**Test model: these suggestions are not clinically meaningful.**', '');
  }
  lines.push(...ruleLines(suggestion.rules ?? [], ctx.codingRules));
  lines.push(...refinementLines(suggestion));
  if (suggestion.evidence.length > 0) {
    const documents = [...new Set(suggestion.evidence.map((e) => ctx.notes[e.note].source.display))];
    lines.push(`**Supporting text** (${escapeMarkdown(documents.join('; '))}):`, '');
    for (const e of suggestion.evidence) lines.push(`> ${escapeMarkdown(e.text)}`, '', `_${escapeMarkdownInline(describeContext(e.context))}_`, '');
  } else {
    lines.push('The model did not point to a specific passage of the note.', '');
  }
  const engine = ctx.model.engine;
  if (suggestion.indexPath) lines.push(`**Alphabetic Index:** ${escapeMarkdown(suggestion.indexPath.join(' → '))}`, '');
  for (const g of suggestion.guidance ?? []) lines.push(`**Coding guidance:** ${escapeMarkdown(g)}`, '');
  if (suggestion.status && suggestion.status !== 'present' && !suggestion.indexPath) {
    lines.push(`**Status in the note:** ${suggestion.status}. ${STATUS_ADVICE[suggestion.status]}`, '');
  }
  lines.push(
    `**Confidence:** ${confidenceText(suggestion.score)} (threshold ${suggestion.threshold.toFixed(2)})  `,
    `**Model:** ${escapeMarkdown(`${ctx.model.name} ${ctx.model.version}`)}${engine?.codeSet ? escapeMarkdown(`; ICD-10-CM ${engine.codeSet.version} code set`) : ''}${suggestion.source ? escapeMarkdown(`; found by ${SOURCE_TEXT[suggestion.source]}`) : ''}`,
    '',
    ...(ctx.recordedUnknown ? ['_The diagnoses already recorded for this encounter could not be read: this code may already be recorded._', ''] : []),
    '_Suggestion only: nothing is recorded unless you accept it, and it is recorded as provisional._',
  );
  return lines.join('\n');
}

/**
 * Builds the cards for a hook response.
 * @param suggestions - ranked suggestions
 * @param ctx - patient, encounter, model, notes and id source
 */
export function toCards(suggestions: readonly DeltaSuggestion[], ctx: CardContext): Card[] {
  const topic = ctx.topics.concept![0];
  const overrideReasons: Coding[] = overrideReasonsOf(ctx.overrideReasons);
  return suggestions.map((suggestion) => {
    const suggestionId = ctx.newId();
    const condition = toCondition(suggestion, {
      subject: { reference: `Patient/${ctx.patientId}` },
      encounter: { reference: `Encounter/${ctx.encounterId}` },
      model: ctx.model,
      suggestionId,
      notes: ctx.notes,
    });
    return {
      uuid: ctx.newId(),
      summary: summaryOf(suggestion),
      detail: detailOf(suggestion, ctx),
      // A suggestion a coding rule touches asks the coder to look (CDS Hooks 2.0 indicator).
      indicator: suggestion.rules?.length ? 'warning' : 'info',
      source: {
        label: `ICD-10-CM coding assistant (AI): ${ctx.model.name} ${ctx.model.version}`,
        topic: { system: CDS_TOPIC_SYSTEM, code: topic.code!, display: topic.display! },
      },
      selectionBehavior: 'at-most-one',
      suggestions: [
        {
          label: `Add ${suggestion.code} as a provisional encounter diagnosis${suggestion.refines ? ` (refines recorded ${suggestion.refines[0].code})` : ''}`,
          uuid: suggestionId,
          actions: [
            {
              type: 'create',
              description: `Create a provisional encounter diagnosis ${suggestion.code} (${suggestion.display}) for this encounter${suggestion.refines ? `; the recorded ${suggestion.refines.map((r) => r.code).join(', ')} is not changed` : ''}`,
              resource: condition,
            },
          ],
        },
      ],
      overrideReasons,
    };
  });
}

/** Summary of a finding with no suggestion of its own (about recorded codes). */
function findingSummary(finding: RuleFinding, codingRules: CodeSystem): string {
  const codes = finding.recorded.map((r) => r.code).join(', ');
  const text = `Coding rule (${ruleName(finding, codingRules)}): recorded ICD-10-CM ${codes}`;
  return Array.from(text).length <= MAX_SUMMARY
    ? text
    : `${Array.from(text)
        .slice(0, MAX_SUMMARY - 1)
        .join('')}…`;
}

/**
 * Information cards for the findings that touch no suggestion (a recorded code that is not
 * valid, an integral symptom of a recorded diagnosis): indicator warning, no suggestion.
 * @param findings - every finding of the call
 * @param ctx - model, rules, topics and id source
 */
export function findingCards(findings: readonly RuleFinding[], ctx: Pick<CardContext, 'model' | 'topics' | 'codingRules' | 'newId'>): Card[] {
  const topic = ctx.topics.concept![0];
  return findings
    .filter((f) => f.suggested.length === 0)
    .map((finding) => ({
      uuid: ctx.newId(),
      summary: findingSummary(finding, ctx.codingRules),
      detail: [...ruleLines([finding], ctx.codingRules), '_Information only: this service never changes recorded diagnoses._'].join('\n'),
      indicator: 'warning' as const,
      source: {
        label: `ICD-10-CM coding assistant (AI): ${ctx.model.name} ${ctx.model.version}`,
        topic: { system: CDS_TOPIC_SYSTEM, code: topic.code!, display: topic.display! },
      },
    }));
}

/**
 * The one card answered when the analysis is not done within the hook's time budget
 * (HOOK_TIME_BUDGET_MS): information only, no suggestion; the analysis goes on into the
 * result cache, so the next call for the same note gets the real cards.
 * @param ctx - model, topics and id source
 */
export function pendingCard(ctx: Pick<CardContext, 'model' | 'topics' | 'newId'>): Card {
  const topic = ctx.topics.concept![0];
  return {
    uuid: ctx.newId(),
    summary: 'ICD-10-CM suggestions are being prepared',
    detail: 'The discharge summary is still being analysed. Reopen or refresh this view in a minute to see the suggested ICD-10-CM codes.',
    indicator: 'info',
    source: {
      label: `ICD-10-CM coding assistant (AI): ${ctx.model.name} ${ctx.model.version}`,
      topic: { system: CDS_TOPIC_SYSTEM, code: topic.code!, display: topic.display! },
    },
  };
}

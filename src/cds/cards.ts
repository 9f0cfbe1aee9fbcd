/**
 * Suggestions → CDS Hooks cards: one card per code, one suggestion per card with a single
 * `create` action of the suggested Condition. Never systemActions, never autolaunch.
 *
 * One card per code (selectionBehavior at-most-one) because feedback `overridden` applies
 * to a whole card (CDS Hooks 2.0 §Feedback): per-code cards give per-code override reasons.
 */
import type { CodeSystem } from '@medplum/fhirtypes';
import { percent, toCondition } from '../fhir/condition';
import { CDS_TOPIC_SYSTEM, OVERRIDE_REASON_SYSTEM } from '../fhir/constants';
import { escapeMarkdown } from '../fhir/markdown';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import type { Suggestion } from '../suggest';
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
}

/**
 * One-sentence summary with code, display and confidence, shortened (display first) to fit.
 * @param suggestion - the code and its score
 */
export function summaryOf(suggestion: Suggestion): string {
  const head = `Suggested ICD-10-CM ${suggestion.code}: `;
  const tail = ` (${percent(suggestion.score)} confidence)`;
  const room = MAX_SUMMARY - Array.from(head + tail).length;
  const display = Array.from(suggestion.display);
  const shown = display.length <= room ? suggestion.display : `${display.slice(0, room - 1).join('').trimEnd()}…`;
  return `${head}${shown}${tail}`;
}

/** Markdown detail: the quoted evidence, the confidence, the model, and what accepting does. */
function detailOf(suggestion: Suggestion, ctx: CardContext): string {
  const lines: string[] = [];
  if (!ctx.model.clinicallyMeaningful) {
    lines.push('**Test model: these suggestions are not clinically meaningful.**', '');
  }
  if (suggestion.evidence.length > 0) {
    const documents = [...new Set(suggestion.evidence.map((e) => ctx.notes[e.note].source.display))];
    lines.push(`**Supporting text** (${escapeMarkdown(documents.join('; '))}):`, '');
    for (const e of suggestion.evidence) lines.push(`> ${escapeMarkdown(e.text)}`, '');
  } else {
    lines.push('The model did not point to a specific passage of the note.', '');
  }
  lines.push(
    `**Confidence:** ${suggestion.score.toFixed(2)} (threshold ${suggestion.threshold.toFixed(2)})  `,
    `**Model:** ${escapeMarkdown(`${ctx.model.name} ${ctx.model.version}`)}`,
    '',
    '_Suggestion only: nothing is recorded unless you accept it, and it is recorded as provisional._',
  );
  return lines.join('\n');
}

/**
 * Builds the cards for a hook response.
 * @param suggestions - ranked suggestions
 * @param ctx - patient, encounter, model, notes and id source
 */
export function toCards(suggestions: readonly Suggestion[], ctx: CardContext): Card[] {
  const topic = ctx.topics.concept![0];
  const overrideReasons: Coding[] = (ctx.overrideReasons.concept ?? []).map((c) => ({
    system: OVERRIDE_REASON_SYSTEM,
    code: c.code!,
    display: c.display!,
  }));
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
      indicator: 'info',
      source: {
        label: `ICD-10-CM coding assistant (AI): ${ctx.model.name} ${ctx.model.version}`,
        topic: { system: CDS_TOPIC_SYSTEM, code: topic.code!, display: topic.display! },
      },
      selectionBehavior: 'at-most-one',
      suggestions: [{
        label: `Add ${suggestion.code} as a provisional encounter diagnosis`,
        uuid: suggestionId,
        actions: [{
          type: 'create',
          description: `Create a provisional encounter diagnosis ${suggestion.code} (${suggestion.display}) for this encounter`,
          resource: condition,
        }],
      }],
      overrideReasons,
    };
  });
}

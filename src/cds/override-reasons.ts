/**
 * The override reasons: one list, from fhir-profiles/CodeSystem-override-reason.json, both
 * offered on every card (card.overrideReasons) and checked on feedback, whose stored display
 * comes from here rather than from the client.
 */
import type { CodeSystem } from '@medplum/fhirtypes';
import { OVERRIDE_REASON_SYSTEM } from '../fhir/constants';
import type { Coding } from './types';

/**
 * The reasons as CDS Hooks Codings (`display` is REQUIRED on overrideReasons, CDS Hooks 2.0 §Card Attributes).
 * @param codeSystem - the override-reason CodeSystem (profiles.overrideReasons)
 */
export function overrideReasonsOf(codeSystem: CodeSystem): Coding[] {
  return (codeSystem.concept ?? []).map((c) => ({ system: OVERRIDE_REASON_SYSTEM, code: c.code!, display: c.display! }));
}

/**
 * The offered reason a feedback Coding names (same system and code), or undefined.
 * @param reasons - overrideReasonsOf(...)
 * @param coding - the reason sent in feedback
 */
export function offeredReason(reasons: readonly Coding[], coding: { system: string; code: string }): Coding | undefined {
  return reasons.find((r) => r.system === coding.system && r.code === coding.code);
}

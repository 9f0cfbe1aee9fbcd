/**
 * The coding-rule checks over one encounter's suggestions and recorded codes, read from the
 * Tabular's notes of the loaded code set (so each October's release brings its own rules) and
 * the project's integral-symptom table. Pure: the coding use case (coding/code-encounter.ts)
 * and the evaluation call it alike.
 *
 * Order: recorded codes checked for validity; integral symptoms left out (a finding says so);
 * Excludes1 pairs flagged; paired codes put in the order the notes require, missing partners
 * named. A suggestion is never dropped for an Excludes1 conflict: only the coder knows whether
 * the two conditions are related.
 */
import type { CodeSet } from '../codeset/code-set';
import type { IntegralSymptom } from '../knowledge/knowledge';
import { excludes1Findings } from './excludes1';
import type { CheckedRecord, RuleFinding } from './findings';
import { integralTo, integralText } from './integral-symptoms';
import { pairedCodeFindings } from './paired-codes';
import { recordedCodeFinding } from './recorded-validity';

export interface RuleCheck<S> {
  /** The suggestions kept, in the order the rules require, each with the findings that touch it. */
  suggestions: (S & { rules?: RuleFinding[] })[];
  /** Suggestions left out by a rule (integral symptoms), with the finding that says so. */
  removed: { code: string; finding: RuleFinding }[];
  /** Every finding, suggestions' and recorded codes' alike. */
  findings: RuleFinding[];
}

export interface RuleChecker {
  check<S extends { code: string }>(suggestions: readonly S[], recorded: readonly CheckedRecord[]): RuleCheck<S>;
}

/**
 * @param codeSet - the loaded code set
 * @param integral - the project's integral-symptom table (knowledge/integral-symptoms.tsv)
 */
export function createRuleChecker(codeSet: CodeSet, integral: readonly IntegralSymptom[]): RuleChecker {
  return {
    check<S extends { code: string }>(suggestions: readonly S[], recorded: readonly CheckedRecord[]): RuleCheck<S> {
      const findings: RuleFinding[] = [];
      for (const record of recorded) {
        const finding = recordedCodeFinding(codeSet, record);
        if (finding) findings.push(finding);
      }
      const valid = recorded.filter((r) => codeSet.exists(r.code));

      const removed: RuleCheck<S>['removed'] = [];
      let kept = [...suggestions];
      for (const s of suggestions) {
        const others = [...kept.filter((k) => k !== s).map((k) => k.code), ...valid.map((r) => r.code)];
        const match = integralTo(codeSet, integral, s.code, others);
        if (!match) continue;
        const record = valid.find((r) => r.code === match.diagnosis);
        const suggestedDiagnosis = kept.some((k) => k.code === match.diagnosis);
        const finding: RuleFinding = {
          rule: 'integral-symptom',
          suggested: suggestedDiagnosis ? [match.diagnosis] : [],
          recorded: !suggestedDiagnosis && record ? [record] : [],
          text: integralText(codeSet, match, !suggestedDiagnosis),
        };
        kept = kept.filter((k) => k !== s);
        removed.push({ code: s.code, finding });
        findings.push(finding);
      }

      findings.push(
        ...excludes1Findings(
          codeSet,
          kept.map((k) => k.code),
          valid,
        ),
      );
      const paired = pairedCodeFindings(
        codeSet,
        kept.map((k) => k.code),
        valid.map((r) => r.code),
      );
      findings.push(...paired.findings);

      const byCode = new Map(kept.map((k) => [k.code, k]));
      const ordered = paired.order.map((code) => {
        const s = byCode.get(code)!;
        const touching = findings.filter((f) => f.suggested.includes(code));
        return touching.length > 0 ? { ...s, rules: touching } : s;
      });
      return { suggestions: ordered, removed, findings };
    },
  };
}

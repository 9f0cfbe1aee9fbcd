/**
 * The code set and the project table the coding-rule checks and delta coding read, loaded once
 * by the process (main.ts) beside the analysis workers, which load their own.
 */
import { loadCodeSet, type CodeSet } from '../codeset/code-set';
import { loadKnowledge } from '../knowledge/knowledge';
import { createRuleChecker, type RuleChecker } from './check-coding';

export interface CodingRules {
  codeSet: CodeSet;
  rules: RuleChecker;
}

/**
 * @param codeSetDir - CODESET_DIR
 * @param knowledgeDir - KNOWLEDGE_DIR
 */
export async function loadCodingRules(codeSetDir: string, knowledgeDir: string): Promise<CodingRules> {
  const [codeSet, knowledge] = await Promise.all([loadCodeSet(codeSetDir), loadKnowledge(knowledgeDir)]);
  return { codeSet, rules: createRuleChecker(codeSet, knowledge.integralSymptoms) };
}

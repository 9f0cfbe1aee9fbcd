/**
 * The Index engine's parts, loaded once: the code set, the knowledge tables, the Index trees,
 * the lexicon, the mention finder, the Index walker and the Tabular refiner.
 */
import { createIndexCoder } from '../assign/code-note';
import { createIndexWalker } from '../assign/index-walk';
import { createTabularRefiner } from '../assign/tabular-refine';
import { loadCodeSet, type CodeSet } from '../codeset/code-set';
import { createMentionFinder } from '../finder/find-mentions';
import { createLexicon } from '../finder/lexicon';
import { termIndexesOf } from '../finder/term-index';
import { wordsOf } from '../finder/words';
import { loadKnowledge, type Knowledge } from '../knowledge/knowledge';

export interface IndexEngine {
  codeSet: CodeSet;
  knowledge: Knowledge;
  codeNote: ReturnType<typeof createIndexCoder>;
  /** Completes a code to a billable one (assign/tabular-refine.ts). */
  refine: ReturnType<typeof createTabularRefiner>;
}

/**
 * @param codeSetDir - the code-set bundle (CODESET_DIR)
 * @param knowledgeDir - the knowledge tables (KNOWLEDGE_DIR)
 */
export async function loadIndexEngine(codeSetDir: string, knowledgeDir: string): Promise<IndexEngine> {
  const [codeSet, knowledge] = await Promise.all([loadCodeSet(codeSetDir), loadKnowledge(knowledgeDir)]);
  return indexEngineOf(codeSet, knowledge);
}

/** The engine of a loaded code set and knowledge. */
export function indexEngineOf(codeSet: CodeSet, knowledge: Knowledge): IndexEngine {
  const spelling = knowledge.spelling;
  const indexes = termIndexesOf(codeSet, spelling);
  const lexicon = createLexicon(knowledge.lexicon, spelling);
  const finder = createMentionFinder(indexes.index, lexicon, knowledge.mainTerms);
  const walker = createIndexWalker(indexes, spelling);
  const refine = createTabularRefiner(codeSet, spelling);
  const cues = knowledge.encounterCues.map((c) => ({ words: wordsOf(c.cue, spelling).map((w) => w.norm), encounter: c.encounter }));
  return { codeSet, knowledge, refine, codeNote: createIndexCoder({ codeSet, finder, walker, refine, knowledge, cues }) };
}

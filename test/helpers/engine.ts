/**
 * The real coding engine for tests: the committed code-set bundle, knowledge tables and ranker,
 * with the default model, loaded once per test file.
 */
import { loadIndexEngine, type IndexEngine } from '../../src/engine/index-engine';
import { loadEngine, type LoadedEngine } from '../../src/engine/load-engine';
import type { EngineMode } from '../../src/engine/engine';
import { DEFAULT_CODESET_DIR, DEFAULT_KNOWLEDGE_DIR, DEFAULT_MODEL_DIR, DEFAULT_RANKER_DIR } from '../../src/paths';

let index: Promise<IndexEngine> | undefined;
/** The Index engine of the committed bundle. */
export function indexEngine(): Promise<IndexEngine> {
  index ??= loadIndexEngine(DEFAULT_CODESET_DIR, DEFAULT_KNOWLEDGE_DIR);
  return index;
}

const engines = new Map<EngineMode, Promise<LoadedEngine>>();
/** The full engine of a mode, with the default model. */
export function fullEngine(mode: EngineMode = 'both'): Promise<LoadedEngine> {
  let e = engines.get(mode);
  if (!e) {
    e = loadEngine({
      mode,
      modelDir: DEFAULT_MODEL_DIR,
      codeSetDir: DEFAULT_CODESET_DIR,
      knowledgeDir: DEFAULT_KNOWLEDGE_DIR,
      rankerDir: DEFAULT_RANKER_DIR,
      intraOpThreads: 1,
    });
    engines.set(mode, e);
  }
  return e;
}

/**
 * Loads the coding engine a process serves with: the classifier, and for ENGINE=index or both
 * the code set, the knowledge tables and the ranker (all in parallel, failing fast with a
 * message that names the missing piece). With ENGINE=model the code set is loaded too when it
 * is there, so that the classifier's codes are still checked against it.
 */
import { existsSync } from 'node:fs';
import { createClassifier } from '../model/classifier';
import type { Classifier, ModelInfo } from '../model/types';
import { createEngine, type Engine, type EngineMode } from './engine';
import { loadIndexEngine, type IndexEngine } from './index-engine';
import { loadRanker, type Ranker } from './ranker';

export interface EngineSettings {
  mode: EngineMode;
  modelDir: string;
  codeSetDir: string;
  knowledgeDir: string;
  rankerDir: string;
  intraOpThreads: number;
}

export interface LoadedEngine {
  engine: Engine;
  classifier: Classifier;
  /** The classifier's identity, with the engine's (mode, code set, ranker). */
  info: ModelInfo;
}

/** What a process reports of its engine (cards, Device, health). */
export function engineInfoOf(classifier: Classifier, mode: EngineMode, index?: IndexEngine, ranker?: Ranker): ModelInfo {
  return {
    ...classifier.info,
    ...(index ? { codeSystemVersion: index.codeSet.version } : {}),
    engine: {
      mode,
      ...(index ? { codeSet: { version: index.codeSet.version, effective: index.codeSet.manifest.effective } } : {}),
      ...(ranker ? { ranker: { name: ranker.bundle.name, version: ranker.bundle.version } } : {}),
    },
  };
}

/** @param settings - mode and bundle directories */
export async function loadEngine(settings: EngineSettings): Promise<LoadedEngine> {
  const needsIndex = settings.mode !== 'model';
  const [classifier, index, ranker] = await Promise.all([
    createClassifier(settings.modelDir, { intraOpThreads: settings.intraOpThreads }),
    needsIndex || existsSync(settings.codeSetDir) ? loadIndexEngine(settings.codeSetDir, settings.knowledgeDir) : undefined,
    needsIndex ? loadRanker(settings.rankerDir, settings.mode === 'both' ? 'both' : 'index') : undefined,
  ]);
  return { engine: createEngine({ mode: settings.mode, classifier, index, ranker }), classifier, info: engineInfoOf(classifier, settings.mode, index, ranker) };
}

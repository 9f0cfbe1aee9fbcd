/**
 * `npm run evaluate -- --data <CodiEsp dir> [--mtsamples <dir>] [--plot <png>]`: the coding
 * engine on CodiEsp dev (held out: the classifier's and the ranker's training never read it),
 * for ENGINE=both, index and model, on the full code set and on the classifier's 50 labels:
 *
 * - micro precision, recall and F1; macro-F1 over the gold codes; category (3-character) F1;
 *   MAP, CodiEsp's ranking measure (every candidate ranked by confidence);
 * - candidate recall: gold codes among the candidates before ranking;
 * - an error table: missed mention, wrong specificity, over-coding, assertion;
 * - the same with suppression off (CodiEsp's annotators also code negated findings; the
 *   service never turns it off by default), and without the coding rules (CodiEsp's annotators
 *   also code symptoms integral to a diagnosis, which guideline I.B.5 leaves out);
 * - calibration: expected calibration error of the confidence on dev, and a reliability plot;
 * - on MTSamples discharge summaries (no gold): suggestions per note and the share of header,
 *   invalid and catch-all codes among them.
 *
 * The decisions are the engine's own (engine.ts candidatesOf, the ranker, its threshold and
 * the catch-all list) and the coding rules' (rules/check-coding.ts), as the service makes them.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../cli/command';
import { createEngine, type EngineMode } from '../engine/engine';
import { loadIndexEngine, type IndexEngine } from '../engine/index-engine';
import { loadRanker, type Ranker } from '../engine/ranker';
import { createClassifier } from '../model/classifier';
import { createRuleChecker, type RuleChecker } from '../rules/check-coding';
import type { Classifier } from '../model/types';
import { DEFAULT_MODEL_DIR, PROJECT_ROOT } from '../paths';
import { calibrationError } from './ranker/fit';
import { candidateRows, goldDocsOf, type GoldDoc } from './ranker/data';
import { mtsamplesDischargeSummaries } from './read-mtsamples';
import { reliabilityPng } from './ranker/reliability-plot';
import { codiespSplits } from './train/dataset';

const round = (v: number, digits = 4) => Number((Number.isFinite(v) ? v : 0).toFixed(digits));

export interface SetFigures {
  documents: number;
  microPrecision: number;
  microRecall: number;
  microF1: number;
  macroF1: number;
  categoryF1: number;
  map: number;
  candidateRecall: number;
  predicted: number;
  gold: number;
}

/** One document's ranked candidates (confidence), suggestions and gold. */
export interface DocResult {
  ranked: { code: string; confidence: number }[];
  predicted: Set<string>;
  gold: Set<string>;
}

/** Figures of a set of documents, optionally restricted to a code subset. */
export function figuresOf(docs: readonly DocResult[], subset?: ReadonlySet<string>): SetFigures {
  const keep = (c: string) => !subset || subset.has(c);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let catTp = 0;
  let catFp = 0;
  let catFn = 0;
  let apSum = 0;
  let apDocs = 0;
  let inCandidates = 0;
  const perCode = new Map<string, { tp: number; fp: number; fn: number }>();
  const count = (code: string, k: 'tp' | 'fp' | 'fn') => {
    const e = perCode.get(code) ?? { tp: 0, fp: 0, fn: 0 };
    e[k]++;
    perCode.set(code, e);
  };
  for (const d of docs) {
    const pred = new Set([...d.predicted].filter(keep));
    const gold = new Set([...d.gold].filter(keep));
    for (const c of pred) {
      if (gold.has(c)) {
        tp++;
        count(c, 'tp');
      } else {
        fp++;
        count(c, 'fp');
      }
    }
    for (const c of gold) {
      if (!pred.has(c)) {
        fn++;
        count(c, 'fn');
      }
    }
    const pc = new Set([...pred].map((c) => c.slice(0, 3)));
    const gc = new Set([...gold].map((c) => c.slice(0, 3)));
    for (const c of pc)
      if (gc.has(c)) catTp++;
      else catFp++;
    for (const c of gc) if (!pc.has(c)) catFn++;
    const ranked = d.ranked.filter((r) => keep(r.code));
    inCandidates += [...gold].filter((g) => ranked.some((r) => r.code === g)).length;
    if (gold.size > 0) {
      let hits = 0;
      let ap = 0;
      ranked.forEach((r, i) => {
        if (gold.has(r.code)) {
          hits++;
          ap += hits / (i + 1);
        }
      });
      apSum += ap / gold.size;
      apDocs++;
    }
  }
  const f1 = (a: number, b: number, c: number) => (2 * a + b + c === 0 ? 0 : (2 * a) / (2 * a + b + c));
  const goldCodes = [...perCode].filter(([, e]) => e.tp + e.fn > 0);
  return {
    documents: docs.length,
    microPrecision: round(tp / Math.max(1, tp + fp)),
    microRecall: round(tp / Math.max(1, tp + fn)),
    microF1: round(f1(tp, fp, fn)),
    macroF1: round(goldCodes.reduce((s, [, e]) => s + f1(e.tp, e.fp, e.fn), 0) / Math.max(1, goldCodes.length)),
    categoryF1: round(f1(catTp, catFp, catFn)),
    map: round(apSum / Math.max(1, apDocs)),
    candidateRecall: round(inCandidates / Math.max(1, tp + fn)),
    predicted: tp + fp,
    gold: tp + fn,
  };
}

/** Why each error happened: a gold code missed, or a suggestion that is not gold. */
export function errorTableOf(docs: readonly DocResult[], withoutSuppression: readonly DocResult[]): Record<string, number> {
  const table = { missedMention: 0, wrongSpecificity: 0, assertion: 0, notRankedHighEnough: 0, overCoding: 0, wrongSpecificitySuggested: 0 };
  docs.forEach((d, i) => {
    const cats = new Set(d.ranked.map((r) => r.code.slice(0, 3)));
    const loose = new Set(withoutSuppression[i].ranked.map((r) => r.code));
    for (const g of d.gold) {
      if (d.predicted.has(g)) continue;
      if (d.ranked.some((r) => r.code === g)) table.notRankedHighEnough++;
      else if (loose.has(g)) table.assertion++;
      else if (cats.has(g.slice(0, 3))) table.wrongSpecificity++;
      else table.missedMention++;
    }
    const goldCats = new Set([...d.gold].map((g) => g.slice(0, 3)));
    for (const p of d.predicted) {
      if (d.gold.has(p)) continue;
      if (goldCats.has(p.slice(0, 3))) table.wrongSpecificitySuggested++;
      else table.overCoding++;
    }
  });
  return table;
}

interface EngineSetup {
  index: IndexEngine;
  classifier: Classifier;
  rankers: { both: Ranker; index: Ranker };
  rules: RuleChecker;
}

async function probabilitiesOf(classifier: Classifier, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of texts) out.push((await classifier.classify(t)).probabilities);
  return out;
}

/**
 * Each document's candidates ranked by confidence (for MAP and candidate recall) and the
 * engine's own suggestions (engine.suggest: the same decisions the service makes).
 */
async function resultsOf(
  setup: EngineSetup,
  docs: readonly GoldDoc[],
  mode: EngineMode,
  probabilities: readonly Float32Array[],
  keepSuppressed = false,
  rules = true,
): Promise<DocResult[]> {
  const ranker = mode === 'model' ? undefined : setup.rankers[mode];
  const engine = createEngine({ mode, classifier: setup.classifier, index: setup.index, ranker });
  const rows = ranker
    ? candidateRows(docs, {
        index: setup.index,
        labels: setup.classifier.info.labels.map((l) => l.code),
        probabilities: mode === 'both' ? probabilities : docs.map(() => undefined),
        setting: 'inpatient',
        modelFloor: ranker.bundle.modelFloor,
        keepSuppressed,
      })
    : [];
  const out: DocResult[] = [];
  for (const [i, d] of docs.entries()) {
    const ranked = ranker
      ? rows
          .filter((r) => r.doc === i)
          .map((r) => ({ code: r.candidate.code, confidence: ranker.confidence(r.facts) }))
          .sort((a, b) => b.confidence - a.confidence || a.code.localeCompare(b.code))
      : setup.classifier.info.labels.map((l, k) => ({ code: l.code, confidence: probabilities[i][k] })).sort((a, b) => b.confidence - a.confidence);
    const suggestions = await engine.suggest([{ text: d.text, source: { display: d.id, contentIndex: 0, contentType: 'text/plain' } }], {
      setting: 'inpatient',
      ...(keepSuppressed ? { keepSuppressed, suppress: [] } : {}),
    });
    // The coding rules, as the service applies them (integral symptoms left out).
    const kept = rules ? setup.rules.check(suggestions, []).suggestions : suggestions;
    out.push({ ranked, predicted: new Set(kept.map((s) => s.code)), gold: new Set(d.gold) });
  }
  return out;
}

export interface EngineEvaluation {
  data: { dev: number; goldRenamed: number; goldDropped: number };
  engines: Record<
    string,
    {
      full: SetFigures;
      top50: SetFigures;
      withoutRules?: SetFigures;
      withoutSuppression?: SetFigures;
      errors?: Record<string, number>;
      calibration?: { ece: number };
    }
  >;
  mtsamples?: Record<string, { notes: number; suggestionsPerNote: number; header: number; invalid: number; catchAll: number; catchAllShareBefore?: number }>;
  seconds: number;
}

/**
 * @param options - CodiEsp directory, MTSamples directory, where to draw the reliability plot
 */
export async function evaluateEngine(options: {
  data: string;
  mtsamples?: string;
  plot?: string;
  modelDir: string;
  codeSetDir: string;
  knowledgeDir: string;
  rankerDir: string;
}): Promise<EngineEvaluation> {
  const started = performance.now();
  const index = await loadIndexEngine(options.codeSetDir, options.knowledgeDir);
  const classifier = await createClassifier(options.modelDir, { intraOpThreads: 0 });
  try {
    const rankers = { both: await loadRanker(options.rankerDir, 'both'), index: await loadRanker(options.rankerDir, 'index') };
    const setup: EngineSetup = { index, classifier, rankers, rules: createRuleChecker(index.codeSet, index.knowledge.integralSymptoms) };
    const splits = codiespSplits(options.data, { labels: 50, folds: 5, seed: 13 });
    const { docs, renamed, dropped } = goldDocsOf(splits.test, index);
    const probabilities = await probabilitiesOf(
      classifier,
      docs.map((d) => d.text),
    );
    const top50 = new Set(classifier.info.labels.map((l) => l.code));
    const engines: EngineEvaluation['engines'] = {};
    for (const mode of ['both', 'index'] as const) {
      const results = await resultsOf(setup, docs, mode, probabilities);
      const loose = await resultsOf(setup, docs, mode, probabilities, true);
      const unruled = await resultsOf(setup, docs, mode, probabilities, false, false);
      const confidences = results.flatMap((r) => r.ranked.map((c) => c.confidence));
      const labels = results.flatMap((r) => r.ranked.map((c) => (r.gold.has(c.code) ? 1 : 0) as 0 | 1));
      const calibration = calibrationError(confidences, labels);
      if (mode === 'both' && options.plot) writeFileSync(options.plot, reliabilityPng(calibration.bins));
      engines[mode] = {
        full: figuresOf(results),
        top50: figuresOf(results, top50),
        withoutRules: figuresOf(unruled),
        withoutSuppression: figuresOf(loose),
        errors: errorTableOf(results, loose),
        calibration: {
          ece: round(calibration.ece),
          ...{ bins: calibration.bins.map((b) => ({ ...b, confidence: round(b.confidence), rate: round(b.rate) })) },
        },
      };
    }
    const modelResults = await resultsOf(setup, docs, 'model', probabilities);
    engines.model = { full: figuresOf(modelResults), top50: figuresOf(modelResults, top50) };

    let mtsamples: EngineEvaluation['mtsamples'];
    if (options.mtsamples) {
      const notes = mtsamplesDischargeSummaries(options.mtsamples);
      const noteDocs: GoldDoc[] = notes.map((text, i) => ({ id: String(i), text, codes: [], gold: [] }));
      const noteProbabilities = await probabilitiesOf(classifier, notes);
      mtsamples = {};
      const catchAll = new Set(index.knowledge.catchAll);
      const shares = (results: DocResult[]) => {
        const all = results.flatMap((r) => [...r.predicted]);
        return {
          notes: notes.length,
          suggestionsPerNote: round(all.length / notes.length, 2),
          header: all.filter((c) => index.codeSet.exists(c) && !index.codeSet.isBillable(c)).length,
          invalid: all.filter((c) => !index.codeSet.exists(c)).length,
          catchAll: all.filter((c) => catchAll.has(c)).length,
        };
      };
      for (const mode of ['both', 'index'] as const) mtsamples[mode] = shares(await resultsOf(setup, noteDocs, mode, noteProbabilities));
      // The classifier alone, before the catch-all list: what the service suggested until now.
      const raw = noteDocs.map((_, i) => {
        const t = classifier.info.thresholds;
        return classifier.info.labels.filter((l, k) => noteProbabilities[i][k] >= (t.perCode?.[l.code] ?? t.global)).map((l) => l.code);
      });
      const rawAll = raw.flat();
      mtsamples.model = {
        ...shares(await resultsOf(setup, noteDocs, 'model', noteProbabilities)),
        catchAllShareBefore: round(rawAll.filter((c) => catchAll.has(c)).length / Math.max(1, rawAll.length)),
      };
    }
    return {
      data: { dev: docs.length, goldRenamed: renamed, goldDropped: dropped },
      engines,
      ...(mtsamples ? { mtsamples } : {}),
      seconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await classifier.dispose();
  }
}

runCommand(module, 'evaluation', async () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      mtsamples: { type: 'string' },
      plot: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      codeset: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'icd10cm-2023') },
      knowledge: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'knowledge') },
      ranker: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'ranker') },
    },
  });
  if (!values.data) throw new UsageError('usage: npm run evaluate -- --data <CodiEsp dir> [--mtsamples <dir>] [--plot <png>]');
  return evaluateEngine({
    data: values.data,
    mtsamples: values.mtsamples,
    plot: values.plot,
    modelDir: values.model!,
    codeSetDir: values.codeset!,
    knowledgeDir: values.knowledge!,
    rankerDir: values.ranker!,
  });
});

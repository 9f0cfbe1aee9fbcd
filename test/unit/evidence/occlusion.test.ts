/**
 * Occlusion evidence on real ONNX models: the tiny keyword model (it has token_scores) and the
 * same model generated without its token_scores output, as an imported Hugging Face model is.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { occludedPassages, passageDrops, passagesByDrop } from '../../../src/evidence/occlusion';
import { passagesOf } from '../../../src/evidence/passages';
import { supportingPassages } from '../../../src/evidence/token-evidence';
import { createClassifier } from '../../../src/model/classifier';
import type { Classifier } from '../../../src/model/types';
import { suggestConditions } from '../../../src/suggest';
import { generateTestModel } from '../../../src/tools/generate-test-model';
import { tinyClassifier } from '../../helpers/app';
import { SAMPLE_NOTE } from '../../helpers/resources';

let dir: string;
let noTokenScores: Classifier;
let tiny: Classifier;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'no-token-scores-'));
  for (const [name, content] of Object.entries(generateTestModel({ tokenScores: false }))) writeFileSync(path.join(dir, name), content);
  noTokenScores = await createClassifier(dir, { intraOpThreads: 1 });
  tiny = await tinyClassifier();
});
afterAll(async () => {
  await noTokenScores.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const note = (text: string) => ({ text, source: { display: 'Discharge summary', contentIndex: 0, contentType: 'text/plain' } });
const labelIndex = (classifier: Classifier, code: string) => classifier.info.labels.findIndex((l) => l.code === code);
/** The classifier, counting the re-scorings asked of it. */
function counting(classifier: Classifier) {
  const counter = { deletions: 0 };
  const wrapped: Classifier = {
    ...classifier,
    windowLogitsWithout: (text, classification, deletions) => {
      counter.deletions += deletions.length;
      return classifier.windowLogitsWithout(text, classification, deletions);
    },
  };
  return { classifier: wrapped, counter };
}

const KEYWORD_NOTE = 'Patient seen on the ward today. Chest x-ray showed pneumonia of the right lower lobe. He walked in the corridor.';

describe('a model without token_scores gets evidence by occlusion', () => {
  test('the keyword sentence is the evidence, with offsets that slice to its text', async () => {
    const [suggestion] = await suggestConditions([note(KEYWORD_NOTE)], noTokenScores);
    expect(suggestion.code).toBe('J18.9');
    expect(suggestion.evidence).toHaveLength(1);
    const [evidence] = suggestion.evidence;
    expect(evidence.text).toBe('Chest x-ray showed pneumonia of the right lower lobe.');
    expect(KEYWORD_NOTE.slice(evidence.start, evidence.end)).toBe(evidence.text);
    // The keyword model's logit is a sum of token weights: deleting the sentence removes "pneumonia" (6).
    expect(evidence.support).toBeCloseTo(6, 4);
  });

  test('every suggestion of the sample note quotes a passage that names it', async () => {
    const suggestions = await suggestConditions([note(SAMPLE_NOTE)], noTokenScores);
    expect(suggestions.map((s) => s.code).sort()).toEqual(['E11.9', 'I10', 'J18.9', 'N17.9']);
    const names: Record<string, RegExp> = { 'E11.9': /diabetes/i, I10: /hypertension/i, 'J18.9': /pneumonia/i, 'N17.9': /kidney/i };
    for (const s of suggestions) {
      expect(s.evidence.length).toBeGreaterThan(0);
      for (const e of s.evidence) {
        expect(SAMPLE_NOTE.slice(e.start, e.end)).toBe(e.text);
        expect(e.text).toMatch(names[s.code]);
      }
    }
  });

  test('deleting a passage scores like blanking it in the text and classifying again', async () => {
    const classification = await noTokenScores.classify(KEYWORD_NOTE);
    const passages = passagesOf(KEYWORD_NOTE);
    const drops = await passageDrops(noTokenScores, KEYWORD_NOTE, classification, passages);
    const j18 = labelIndex(noTokenScores, 'J18.9');
    for (const [p, drop] of drops) {
      const { start, end } = passages[p];
      const blanked = await noTokenScores.classify(KEYWORD_NOTE.slice(0, start) + ' '.repeat(end - start) + KEYWORD_NOTE.slice(end));
      expect(drop[j18]).toBeCloseTo(classification.logits[j18] - blanked.logits[j18], 4);
    }
  });

  test('a note without predicted codes costs no re-scoring', async () => {
    const { classifier, counter } = counting(noTokenScores);
    const text = 'He walked in the corridor.';
    const classification = await classifier.classify(text);
    expect(await passageDrops(classifier, text, classification, passagesOf(text))).toEqual(new Map());
    expect(counter.deletions).toBe(0);
  });

  test('a long note stays within the budget and still finds each code its sentence', async () => {
    const filler = Array.from({ length: 60 }, (_, i) => `Day ${i + 1} was uneventful.`);
    filler.splice(17, 0, 'Chest x-ray showed pneumonia.');
    filler.splice(45, 0, 'Blood pressure history of hypertension.');
    const text = filler.join('\n');
    const { classifier, counter } = counting(noTokenScores);
    const classification = await classifier.classify(text);
    const passages = passagesOf(text);
    const drops = await passageDrops(classifier, text, classification, passages, 12);
    expect(counter.deletions).toBeLessThanOrEqual(12);
    const quoted = (code: string) => passagesByDrop(drops, labelIndex(classifier, code), passages, 3).map((p) => text.slice(p.start, p.end));
    expect(quoted('J18.9')).toEqual(['Chest x-ray showed pneumonia.']);
    expect(quoted('I10')).toEqual(['Blood pressure history of hypertension.']);
  });
});

test("with mean pooling, a drop is the pooled logit's: the window's drop shared by all windows", async () => {
  const meanDir = mkdtempSync(path.join(tmpdir(), 'mean-pooling-'));
  for (const [name, content] of Object.entries(generateTestModel({ tokenScores: false }))) writeFileSync(path.join(meanDir, name), content);
  const config = JSON.parse(readFileSync(path.join(meanDir, 'config.json'), 'utf8'));
  writeFileSync(path.join(meanDir, 'config.json'), JSON.stringify({ ...config, pooling: 'mean' }));
  const mean = await createClassifier(meanDir, { intraOpThreads: 1 });
  try {
    const text = `Pneumonia and pneumonia again. ${'The patient walked in the corridor today. '.repeat(6)}Pneumonia on x-ray.`;
    const classification = await mean.classify(text);
    expect(classification.windowCount).toBe(3);
    const passages = passagesOf(text);
    const drops = await passageDrops(mean, text, classification, passages);
    const quoted = passagesByDrop(drops, labelIndex(mean, 'J18.9'), passages, 3).map((p) => [text.slice(p.start, p.end), p.support]);
    expect(quoted).toEqual([
      ['Pneumonia and pneumonia again.', expect.closeTo(12 / 3, 4)],
      ['Pneumonia on x-ray.', expect.closeTo(6 / 3, 4)],
    ]);
  } finally {
    await mean.dispose();
    rmSync(meanDir, { recursive: true, force: true });
  }
});

describe('on a model with token_scores, occlusion and token evidence agree', () => {
  test.each([
    ['one sentence', KEYWORD_NOTE],
    ['two supporting passages', 'Acute kidney injury on admission. Kidney function recovered. Pneumonia treated.'],
    ['the sample note, over several windows', SAMPLE_NOTE],
  ])('%s', async (_name, text) => {
    const classification = await tiny.classify(text);
    const passages = passagesOf(text);
    const predictions = tiny.predictionsOf(classification);
    expect(predictions.length).toBeGreaterThan(0);
    for (const { index } of predictions) {
      const byTokens = supportingPassages(classification, index, passages, 3);
      const byOcclusion = await occludedPassages(tiny, text, classification, index, passages, 3);
      expect(byOcclusion[0]).toEqual({ ...byTokens[0], support: expect.any(Number) });
      // The keyword model is additive: a passage's logit drop is the sum of its token scores.
      expect(byOcclusion.map((p) => [p.start, p.end])).toEqual(byTokens.map((p) => [p.start, p.end]));
      byOcclusion.forEach((p, i) => expect(p.support).toBeCloseTo(byTokens[i].support, 4));
    }
  });
});

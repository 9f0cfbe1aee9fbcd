/**
 * The faithfulness figures on the tiny keyword model (token-score evidence) and the same model
 * without its token_scores output (occlusion evidence).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClassifier } from '../../../src/model/classifier';
import type { Classifier } from '../../../src/model/types';
import { measureFaithfulness } from '../../../src/tools/faithfulness';
import { generateTestModel } from '../../../src/tools/generate-test-model';
import { tinyClassifier } from '../../helpers/app';

let dir: string;
let noTokenScores: Classifier;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'no-token-scores-'));
  for (const [name, content] of Object.entries(generateTestModel({ tokenScores: false }))) writeFileSync(path.join(dir, name), content);
  noTokenScores = await createClassifier(dir, { intraOpThreads: 1 });
});
afterAll(async () => {
  await noTokenScores.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const NOTES = [
  'Patient seen on the ward today. Chest x-ray showed pneumonia of the right lower lobe. He walked in the corridor. Family visited in the afternoon.',
  'Admitted for observation. Known hypertension, on lisinopril. Ate breakfast. Slept well overnight. Discharged home with his wife.',
];

describe('measureFaithfulness', () => {
  test.each([
    ['token-scores', () => tinyClassifier()],
    ['occlusion', async () => noTokenScores],
  ] as const)('%s evidence: blanking the cited passage lowers the code more than blanking another one', async (method, classifier) => {
    const result = await measureFaithfulness(await classifier(), NOTES, 7);
    expect(Object.keys(result.byMethod)).toEqual([method]);
    expect(result.byMethod[method]).toEqual({
      suggestions: result.suggestions,
      withoutEvidence: result.withoutEvidence,
      cited: result.cited,
      control: result.control,
    });
    expect(result.suggestions).toBe(2); // J18.9 and I10
    expect(result.withoutEvidence).toBe(0);
    expect(result.cited.suggestions).toBe(2);
    expect(result.cited.meanDrop!).toBeGreaterThan(0.5);
    // Without its keyword sentence the code is gone; other sentences hold no keyword.
    expect(result.cited.belowThreshold).toBe(1);
    expect(result.control.suggestions).toBe(2);
    expect(result.cited.meanDrop!).toBeGreaterThan(result.control.meanDrop!);
    expect(result.control.meanDrop).toBeCloseTo(0, 4);
    expect(result.control.belowThreshold).toBe(0);
  });

  test('the control draw is seeded', async () => {
    const classifier = await tinyClassifier();
    expect(await measureFaithfulness(classifier, NOTES, 3)).toEqual(await measureFaithfulness(classifier, NOTES, 3));
  });

  test('no suggestion: zero counts and null figures', async () => {
    const result = await measureFaithfulness(await tinyClassifier(), ['He walked in the corridor.']);
    expect(result).toEqual({
      suggestions: 0,
      withoutEvidence: 0,
      cited: { suggestions: 0, meanDrop: null, medianDrop: null, belowThreshold: null },
      control: { suggestions: 0, meanDrop: null, medianDrop: null, belowThreshold: null },
      byMethod: {},
    });
  });
});

/**
 * The result cache's pieces: the offsets-only value round-trips to exactly the suggestions
 * computed (quotes rebuilt from the note), and the store keeps, expires and replaces entries.
 */
import { decodeCacheValue, encodeCacheValue } from '../../../src/analysis/cache-value';
import { inlineAnalyzer } from '../../../src/analysis/analyzer';
import { openSqliteStore } from '../../../src/store/sqlite';
import { tinyClassifier } from '../../helpers/app';
import { SAMPLE_NOTE } from '../../helpers/resources';

const note = { text: SAMPLE_NOTE, source: { display: 'Discharge summary', contentIndex: 0, contentType: 'text/plain' } };

test('offsets-only value: no note text in it, and the same suggestions out', async () => {
  const { suggestions } = await inlineAnalyzer(await tinyClassifier()).analyze([note], {});
  expect(suggestions.length).toBeGreaterThan(0);
  const value = encodeCacheValue(suggestions, [note])!;
  expect(value).toBeDefined();
  for (const s of suggestions)
    for (const e of s.evidence) {
      expect(value).not.toContain(JSON.stringify(e.text));
      if (e.context?.section) expect(value).not.toContain(JSON.stringify(e.context.section.heading));
    }
  expect(decodeCacheValue(value, [note])).toEqual(suggestions);
});

test('store: get within the TTL, expire older entries on write, replace by key', async () => {
  const store = openSqliteStore(':memory:');
  const key = 'a'.repeat(64);
  const model = { name: 'm', version: '1' };
  await store.cacheSuggestions({ key, model, value: '[1]', createdAt: '2026-11-25T10:00:00.000Z' }, '2026-11-24T00:00:00.000Z');
  expect(await store.cachedSuggestions(key, '2026-11-25T09:00:00.000Z')).toBe('[1]');
  expect(await store.cachedSuggestions(key, '2026-11-25T11:00:00.000Z')).toBeUndefined();
  await store.cacheSuggestions({ key, model, value: '[2]', createdAt: '2026-11-25T12:00:00.000Z' }, '2026-11-24T00:00:00.000Z');
  expect(await store.cachedSuggestions(key, '2026-11-25T11:00:00.000Z')).toBe('[2]');
  await store.cacheSuggestions({ key: 'b'.repeat(64), model, value: '[3]', createdAt: '2026-11-27T12:00:00.000Z' }, '2026-11-26T00:00:00.000Z');
  expect(await store.cachedSuggestions(key, '')).toBeUndefined();
  await store.close();
});

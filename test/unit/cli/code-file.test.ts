/**
 * The parts of `npm run code` that need no model: resuming an output (a torn last line longer
 * than the read chunk is cut, ids are read from complete records only), the input line forms,
 * and the progress display on a terminal and off it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseLine, resumeOutput } from '../../../src/cli/code';
import { createProgress } from '../../../src/cli/progress';

describe('resumeOutput', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'resume-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('absent output: nothing done', async () => {
    expect(await resumeOutput(path.join(dir, 'none.ndjson'))).toEqual({ done: new Set(), repaired: false });
  });

  test('a torn last line of 200 kB is cut; the complete records are done', async () => {
    const file = path.join(dir, 'torn.ndjson');
    const complete = [
      { id: 'a"1', line: 1, bundle: {} },
      { id: 'line:2', line: 2, error: {} },
    ]
      .map((r) => `${JSON.stringify(r)}\n`)
      .join('');
    writeFileSync(file, `${complete}{"id":"c","line":3,"bundle":{"x":"${'y'.repeat(200_000)}`);
    const { done, repaired } = await resumeOutput(file);
    expect(repaired).toBe(true);
    expect([...done]).toEqual(['a"1', 'line:2']);
    expect(readFileSync(file, 'utf8')).toBe(complete);
    expect(await resumeOutput(file)).toEqual({ done, repaired: false });
  });

  test('only a torn line: the file is emptied', async () => {
    const file = path.join(dir, 'only-torn.ndjson');
    writeFileSync(file, '{"id":"x","li');
    expect(await resumeOutput(file)).toEqual({ done: new Set(), repaired: true });
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('parseLine', () => {
  test('the forms of a line, and what is an error record', () => {
    expect(parseLine('{"id":"n-1","text":"Hypertension."}', 1, 1e6)).toMatchObject({ key: 'n-1', body: { resourceType: 'DocumentReference', id: 'n-1' } });
    expect(parseLine('{"resourceType":"DocumentReference","id":"d.2"}', 2, 1e6)).toMatchObject({ key: 'd.2' });
    expect(parseLine('{"resourceType":"DocumentReference"}', 3, 1e6)).toMatchObject({ key: 'line:3' });
    expect(parseLine('{"resourceType":"Parameters","parameter":[{"name":"document","resource":{"id":"p-1"}}]}', 4, 1e6)).toMatchObject({ key: 'p-1' });
    for (const [line, text] of [
      ['{"id":', 'not valid JSON'],
      ['[1]', 'JSON object'],
      ['{"id":"a b","text":"x"}', '"id" must be'],
      ['{"id":"a","text":"x","patient":"Practitioner/1"}', '"patient" must be'],
      ['{"resourceType":"Patient"}', 'must be a DocumentReference'],
    ]) {
      const parsed = parseLine(line, 5, 1e6);
      expect('error' in parsed && parsed.error.issue?.[0].details?.text).toContain(text);
    }
    expect(parseLine(`{"id":"big","text":"${'x'.repeat(2000)}"}`, 6, 1024)).toMatchObject({ key: 'line:6', error: { resourceType: 'OperationOutcome' } });
  });
});

describe('createProgress', () => {
  const capture = (tty: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _e, done) {
        chunks.push(chunk.toString());
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    stream.isTTY = tty;
    return { stream, chunks };
  };

  test('a terminal: a bar redrawn in place, with the rate and the time left', () => {
    const { stream, chunks } = capture(true);
    const progress = createProgress(4, stream, { intervalMs: 0 });
    progress.tick();
    progress.tick(3);
    progress.done();
    expect(chunks[0]).toMatch(/^\r\[#{8}\.{22}\] 1\/4 25% [\d.]+ docs\/s, 00:00 elapsed, (\d\d:\d\d|--:--) left/);
    expect(chunks.at(-2)).toMatch(/^\r\[#{30}\] 4\/4 100% .* 00:00 left/);
    expect(chunks.at(-1)).toBe('\n');
  });

  test('not a terminal: plain lines, no control characters', () => {
    const { stream, chunks } = capture(false);
    const progress = createProgress(2, stream, { intervalMs: 60_000 });
    progress.tick();
    progress.tick();
    progress.done();
    expect(chunks).toHaveLength(2);
    expect(chunks.join('')).not.toMatch(/[\r\x1b]/);
    expect(chunks[1]).toMatch(/^2\/2 100% /);
  });
});

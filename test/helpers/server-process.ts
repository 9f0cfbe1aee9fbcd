/**
 * The compiled server (dist/main.js, built by `pretest`) as a child process, the way
 * `npm start` runs it, for the tests of test/process: its JSON log lines as they come, a
 * wait for a given line, and its exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

export const SERVER_MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

export type LogLine = Record<string, unknown>;

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every JSON log line written to stdout so far. */
  lines: LogLine[];
  /** The exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first log line whose `msg` is `msg` (already written or to come); rejects if the process exits first. */
  logged(msg: string): Promise<LogLine>;
}

/**
 * Starts the server with PATH and `env` only (no other variable of this process leaks in).
 * @param at - the compiled entry point and working directory (default: this checkout's dist/main.js)
 * @throws Error when dist/main.js is missing
 */
export function spawnServer(env: Record<string, string>, at: { main: string; cwd: string } = { main: SERVER_MAIN, cwd: PROJECT_ROOT }): ServerProcess {
  if (!existsSync(at.main)) throw new Error(`${at.main} is missing: run \`npm run build\` (npm test does it in pretest)`);
  const child = spawn(process.execPath, [at.main], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: at.cwd });
  const lines: LogLine[] = [];
  const waiting: { msg: string; resolve(line: LogLine): void; reject(error: Error): void }[] = [];
  let ended: Error | undefined;
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(part) as LogLine;
      } catch {
        continue; // not a log line
      }
      lines.push(line);
      for (const w of waiting.filter((w) => w.msg === line.msg)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': every line written before the end has been read by then.
    child.on('close', (code, signal) => {
      ended = new Error(`exited with ${code ?? signal}`);
      for (const w of waiting.splice(0)) w.reject(ended);
      resolve({ code, signal });
    });
  });
  return {
    child,
    lines,
    exited,
    logged(msg) {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiting.push({ msg, resolve, reject }));
    },
  };
}

/**
 * Progress of a batch on stderr: a bar redrawn in place on a terminal, plain lines every few
 * seconds otherwise (logs, CI), each with the rate and the time left. Counts only, never content.
 */

export interface Progress {
  /** `n` more documents done. */
  tick(n?: number): void;
  /** The last figures, and a line break after the bar. */
  done(): void;
}

const clock = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

/**
 * @param total - documents to do in this run (those already done before a restart excluded)
 * @param stream - stderr by default
 * @param options - `intervalMs` between plain lines (not a TTY)
 */
export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr, options: { intervalMs?: number } = {}): Progress {
  const started = performance.now();
  const tty = Boolean(stream.isTTY);
  const intervalMs = options.intervalMs ?? (tty ? 100 : 5000);
  let count = 0;
  let lastDrawn = -Infinity;

  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    const left = rate > 0 ? (total - count) / rate : Infinity;
    const pct = total > 0 ? Math.floor((100 * count) / total) : 100;
    return { text: `${count}/${total} ${pct}% ${rate.toFixed(1)} docs/s, ${clock(seconds)} elapsed, ${clock(left)} left`, pct };
  };
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastDrawn < intervalMs) return;
    lastDrawn = now;
    const { text, pct } = line();
    if (tty) {
      const width = 30;
      const filled = Math.round((width * pct) / 100);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else stream.write(`${text}\n`);
  };

  return {
    tick(n = 1) {
      count += n;
      draw(false);
    },
    done() {
      draw(true);
      if (tty) stream.write('\n');
    },
  };
}

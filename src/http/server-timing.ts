/**
 * `Server-Timing` (W3C Server Timing) of a suggestion call: durations per stage only, never
 * any content. Stages: decode (attachments → notes), cache (result-cache lookup), tokenize,
 * infer, evidence (passages, occlusion, assertion context), serialize (wire output + JSON).
 */
import type { SuggestTimings } from '../suggest';

export class ServerTiming {
  private readonly entries = new Map<string, number>();

  /** Adds `ms` to stage `name`. */
  add(name: string, ms: number): void {
    this.entries.set(name, (this.entries.get(name) ?? 0) + ms);
  }

  /** Adds the stages of an analysis. */
  addAnalysis(timings: Partial<SuggestTimings> & { cache?: number }): void {
    for (const [name, ms] of Object.entries(timings)) if (typeof ms === 'number') this.add(name, ms);
  }

  /** Runs `fn` and adds its duration to `name`. */
  async time<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, performance.now() - started);
    }
  }

  /** The header value, e.g. `decode;dur=0.41, infer;dur=12.3`. */
  header(): string {
    return [...this.entries].map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(', ');
  }
}

/**
 * The analyzer and the store as the app sees them when metrics are on: the same objects,
 * observed. Every analysis (hook, FHIR operation, background, bulk) passes through the
 * analyzer, and every store operation through the store, so nothing is counted twice or missed.
 */
import type { Analyzer } from '../analysis/analyzer';
import { StoreUnavailableError, type Store } from '../store/store';
import type { Metrics } from './metrics';

export function instrumentAnalyzer(analyzer: Analyzer, metrics: Metrics): Analyzer {
  return {
    get info() {
      return analyzer.info;
    },
    async analyze(notes, options) {
      const started = performance.now();
      try {
        const analysis = await analyzer.analyze(notes, options);
        metrics.analysis('done', (performance.now() - started) / 1000, analysis.timings);
        return analysis;
      } catch (error) {
        metrics.analysis('failed', (performance.now() - started) / 1000);
        throw error;
      }
    },
    ...(analyzer.load ? { load: () => analyzer.load!() } : {}),
    dispose: () => analyzer.dispose(),
  };
}

/** Counts the StoreUnavailableErrors of each operation; everything else passes through unchanged. */
export function instrumentStore(store: Store, metrics: Metrics): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            if (error instanceof StoreUnavailableError) metrics.storeError(property);
            throw error;
          });
        }
        return result;
      };
    },
  });
}

/**
 * Graceful stop of the HTTP server (SIGTERM/SIGINT in main.ts): stop accepting connections,
 * let the requests in flight finish within a deadline, close keep-alive connections as they
 * fall idle. `/healthz` answers 503 while this happens (health.ts), so a load balancer
 * holding a keep-alive connection stops sending work.
 */
import type { Server, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

export interface DrainState {
  /** True once the stop began. */
  readonly draining: boolean;
  /** Requests whose response is not finished (or whose connection is not closed) yet. */
  readonly inFlight: number;
  /** Counts requests; while draining, responses ask the client to close the connection. */
  readonly middleware: RequestHandler;
  /** Marks the start of the drain; responses not yet started will carry `Connection: close`. */
  begin(): void;
}

/** A fresh state: not draining, nothing in flight. */
export function createDrainState(): DrainState {
  const open = new Set<ServerResponse>();
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return open.size;
    },
    middleware: (_req, res, next) => {
      open.add(res);
      // 'close' fires after the response is sent, or when the client goes away first.
      res.once('close', () => open.delete(res));
      if (draining) res.setHeader('Connection', 'close');
      next();
    },
    begin() {
      draining = true;
      // A response still to be written tells its client not to reuse the connection, so the
      // connection closes right after it instead of waiting to be swept as idle.
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
    },
  };
}

export interface DrainResult {
  /** Every request finished before the deadline. */
  finished: boolean;
  /** Requests cut at the deadline (0 when finished). */
  cut: number;
  /** How long the drain took, in ms. */
  ms: number;
}

/**
 * Stops `server` gracefully: no new connections (server.close), in-flight requests finish,
 * idle keep-alive connections are closed as they appear; at `maxMs` the remaining
 * connections are destroyed.
 * @param server - the listening server
 * @param state - the app's drain state (its middleware counts the requests)
 * @param maxMs - longest wait for in-flight requests (SHUTDOWN_DRAIN_MS)
 * @returns whether everything finished in time
 */
export function drainServer(server: Server, state: DrainState, maxMs: number): Promise<DrainResult> {
  const started = Date.now();
  state.begin();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (finished: boolean, cut: number) => {
      if (settled) return;
      settled = true;
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ finished, cut, ms: Date.now() - started });
    };
    // server.close() closes the connections idle right now (Node ≥ 19); a connection whose
    // response ends later stays open for keepAliveTimeout unless swept.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      const cut = state.inFlight;
      server.closeAllConnections();
      settle(cut === 0, cut);
    }, maxMs);
    server.close(() => settle(true, 0));
  });
}

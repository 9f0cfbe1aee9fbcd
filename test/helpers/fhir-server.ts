/**
 * A small local HTTP server standing in for an EHR's FHIR server (outside the product, so
 * tests may fake it). Records every request with its Authorization header.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  accept?: string;
}

export type Route = (req: IncomingMessage, res: ServerResponse, base: string) => void;

export interface FakeFhirServer {
  /** Base URL, e.g. http://127.0.0.1:1234/fhir */
  base: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * @param routes - handlers by path prefix (after /fhir), tried in order; unmatched → 404
 */
export async function startFhirServer(routes: [string, Route][]): Promise<FakeFhirServer> {
  const requests: RecordedRequest[] = [];
  let base = '';
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, accept: req.headers.accept });
    const path = req.url!.replace(/^\/fhir/, '');
    const route = routes.find(([prefix]) => path.startsWith(prefix));
    if (route) route[1](req, res, base);
    else {
      res.writeHead(404, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  return {
    base,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a FHIR JSON body. */
export function json(body: unknown, status = 200): Route {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
    res.end(JSON.stringify(body));
  };
}

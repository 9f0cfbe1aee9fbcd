/**
 * Calls to the service (same origin only; the page's CSP allows no other host). The bearer
 * token, when given, is read from the page at call time and never stored.
 */

export interface Answer {
  ok: boolean;
  status: number;
  statusText: string;
  /** The parsed JSON body, when there is one. */
  body: unknown;
  /** Human-readable reasons from an OperationOutcome answer (issue details.text / diagnostics). */
  issues: string[];
}

/**
 * POSTs JSON to a path relative to the page.
 * @param path - e.g. "cds-services/icd10cm-suggestions"
 * @param body - JSON body
 * @param token - bearer token, or "" for none
 * @throws TypeError when the service cannot be reached
 */
export async function postJson(path: string, body: object, token: string): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { ok: response.ok, status: response.status, statusText: response.statusText, body: json, issues: issuesOf(json) };
}

function issuesOf(body: unknown): string[] {
  const outcome = body as { resourceType?: unknown; issue?: unknown } | undefined;
  if (outcome?.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return [];
  return outcome.issue
    .map((i: { details?: { text?: unknown }; diagnostics?: unknown }) => i?.details?.text ?? i?.diagnostics)
    .filter((t): t is string => typeof t === 'string' && t.length > 0)
    .slice(0, 5);
}

/** One line describing a failed answer, e.g. `401 Unauthorized: Bearer token required`. */
export function describeFailure(answer: Answer): string {
  const head = `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
  return answer.issues.length > 0 ? `${head}: ${answer.issues.join('; ')}` : head;
}

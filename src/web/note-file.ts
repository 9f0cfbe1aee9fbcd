/**
 * The note in an uploaded file: plain text, or a DocumentReference's text/plain attachment.
 */

/**
 * Note text from an uploaded file: plain text as is, or the text/plain attachment of a
 * DocumentReference (or the first one in a Bundle). Other attachment types are refused: the
 * page must show exactly the text the service reads, and the service's HTML-to-text is its own.
 * @param name - file name (for the JSON guess)
 * @param content - the file decoded as UTF-8
 * @throws Error with a message for the user
 */
export function noteFromFile(name: string, content: string): string {
  const trimmed = content.trimStart();
  if (!/\.json$/i.test(name) && !trimmed.startsWith('{')) return content;
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    if (/\.json$/i.test(name)) throw new Error('The file is not valid JSON.');
    return content;
  }
  let doc = json as { resourceType?: unknown; entry?: { resource?: { resourceType?: unknown } }[]; content?: unknown };
  if (doc?.resourceType === 'Bundle') {
    doc = (Array.isArray(doc.entry) ? doc.entry : []).map((e) => e?.resource).find((r) => r?.resourceType === 'DocumentReference') ?? {};
  }
  if (doc?.resourceType !== 'DocumentReference') throw new Error('The JSON file is not a DocumentReference (or a Bundle holding one).');
  const attachments = (Array.isArray(doc.content) ? doc.content : [])
    .map((c: { attachment?: { contentType?: unknown; data?: unknown } }) => c?.attachment)
    .filter((a): a is { contentType?: unknown; data?: unknown } => !!a && typeof a === 'object');
  const plain = attachments.find((a) => typeof a.data === 'string' && /^text\/plain\b/i.test(String(a.contentType ?? 'text/plain')));
  if (!plain) {
    const types = attachments.map((a) => String(a.contentType ?? 'no contentType')).join(', ') || 'none';
    throw new Error(`The DocumentReference has no text/plain attachment with inline data (found: ${types}). Use the FHIR operation for other types.`);
  }
  const charset = /;\s*charset="?([^";\s]+)/i.exec(String(plain.contentType ?? ''))?.[1] ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw new Error(`Unsupported charset "${charset}".`);
  }
  let binary: string;
  try {
    binary = atob(plain.data as string);
  } catch {
    throw new Error('The attachment data is not valid base64.');
  }
  return decoder.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

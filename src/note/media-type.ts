/**
 * Parses a MIME media type such as `text/plain; charset="utf-8"` (RFC 9110 §8.3.1).
 * Pure string code: imports nothing but `errors.ts`.
 */
import { badRequest } from '../errors';

export interface MediaType {
  /** Lower-cased top-level type, e.g. `text`. */
  type: string;
  /** Lower-cased subtype, e.g. `plain`. */
  subtype: string;
  /** `type/subtype` without parameters (the WHATWG "essence"), e.g. `text/plain`. */
  essence: string;
  /** Parameters by lower-cased name; values unquoted, case kept (only the caller knows if it matters). */
  params: Record<string, string>;
}

// RFC 9110 §5.6.2: token = 1*tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.6.3: OWS = *( SP / HTAB ).
const OWS = /^[ \t]*/;

/**
 * Parses a media type, case-insensitively for type, subtype and parameter names.
 *
 * Grammar (RFC 9110 §8.3.1, §5.6.6):
 * `type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`.
 * Empty parameters (`text/plain;`) are allowed, as in RFC 9110. For a repeated parameter the
 * first one wins (WHATWG MIME Sniffing §4.4). Deliberate leniency: whitespace around `=` is
 * accepted although §5.6.6 forbids it, because its meaning is unambiguous.
 *
 * @param contentType - the value of e.g. `Attachment.contentType`
 * @param expression - FHIRPath of the value, reported in the error
 * @returns the parsed media type
 * @throws OperationOutcomeError 400 `invalid` when the value is not a media type; the text
 *   never echoes the value
 */
export function parseMediaType(contentType: string, expression?: string): MediaType {
  const invalid = () => badRequest('contentType is not a valid MIME media type (RFC 9110 §8.3.1)', expression);

  const semicolon = contentType.indexOf(';');
  const head = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim();
  const slash = head.indexOf('/');
  const type = head.slice(0, slash);
  const subtype = head.slice(slash + 1);
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) throw invalid();

  const params: Record<string, string> = {};
  let rest = semicolon < 0 ? '' : contentType.slice(semicolon);
  while (rest.length > 0) {
    // Each round starts at a ';' (the loop invariant) or at trailing whitespace.
    rest = rest.replace(OWS, '');
    if (rest.length === 0) break;
    if (rest[0] !== ';') throw invalid();
    rest = rest.slice(1).replace(OWS, '');
    if (rest.length === 0 || rest[0] === ';') continue;

    const eq = rest.indexOf('=');
    if (eq < 0) throw invalid();
    const name = rest.slice(0, eq).trimEnd().toLowerCase();
    if (!TOKEN.test(name)) throw invalid();
    rest = rest.slice(eq + 1).replace(OWS, '');

    let value: string;
    if (rest[0] === '"') {
      const quoted = readQuotedString(rest);
      if (!quoted) throw invalid();
      value = quoted.value;
      rest = rest.slice(quoted.length);
    } else {
      const end = rest.search(/[ \t;]/);
      value = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
      if (!TOKEN.test(value)) throw invalid();
    }
    if (!(name in params)) params[name] = value;
  }

  const lowerType = type.toLowerCase();
  const lowerSubtype = subtype.toLowerCase();
  return { type: lowerType, subtype: lowerSubtype, essence: `${lowerType}/${lowerSubtype}`, params };
}

/**
 * Reads an RFC 9110 §5.6.4 quoted-string at the start of `s` (which starts with `"`):
 * `DQUOTE *( qdtext / "\" ( HTAB / SP / VCHAR / obs-text ) ) DQUOTE`.
 * @param s - text starting with the opening quote
 * @returns the unescaped value and the number of characters consumed, or undefined if unterminated
 */
function readQuotedString(s: string): { value: string; length: number } | undefined {
  let value = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '"') return { value, length: i + 1 };
    if (c === '\\') {
      i++;
      if (i >= s.length) return undefined;
      value += s[i];
    } else if ((c < ' ' && c !== '\t') || c === '\x7f') {
      return undefined; // control characters are not qdtext
    } else {
      value += c;
    }
  }
  return undefined;
}

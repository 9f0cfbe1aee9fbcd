/**
 * Entry of the note/ stage: Attachment `data` + `contentType` → the note text the classifier
 * reads, with a map back into the decoded document for markup types.
 * Imports no Express, cds/, fhir/ or model/ module: callers pass strings, not FHIR resources.
 */
import { badRequest, payloadTooLarge, unprocessable } from '../errors';
import { htmlToText } from './markup';
import { parseMediaType } from './media-type';

export interface DecodedText {
  /** The note text. Offsets downstream (tokens, evidence spans) are UTF-16 indices into it. */
  text: string;
  /** Media type essence, e.g. `text/html` (parameters dropped). */
  contentType: string;
  /**
   * For markup types only: `sourceOffsets[i]` is the UTF-16 index, in the decoded markup
   * (after charset decoding and BOM removal), of text char `i`; one extra entry at the end
   * (see `MarkupText`). Absent for plain types, whose map is the identity.
   */
  sourceOffsets?: Int32Array;
}

export interface DecodeOptions {
  /** Largest accepted size of the decoded bytes (`Attachment.size` counts the same bytes). */
  maxBytes: number;
  /** FHIRPath of the Attachment for error expressions, e.g. `DocumentReference.content[0].attachment`. */
  path?: string;
}

/** How each supported media type becomes text. */
const SUPPORTED = new Map<string, 'plain' | 'html' | 'xhtml'>([
  ['text/plain', 'plain'],
  // Markdown source is readable as is; rendering it would only remove a few marks.
  ['text/markdown', 'plain'],
  ['text/html', 'html'],
  ['application/xhtml+xml', 'xhtml'],
]);

/** Media type essences `decodeAttachmentData` accepts, for callers choosing among attachments. */
export const SUPPORTED_NOTE_TYPES: readonly string[] = Object.freeze([...SUPPORTED.keys()]);

/**
 * R4 base64Binary (http://hl7.org/fhir/R4/datatypes.html#base64Binary) has the lexical regex
 * `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`, in XML Schema syntax where `\s` is [ \t\n\r]: whitespace
 * anywhere between quads, as in the line-wrapped HL7 Binary example.
 */
const XSD_SPACE = /[ \t\n\r]/g;
/** After removing whitespace: RFC 4648 §4 alphabet, `=` only as final padding. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes an Attachment's `data` into note text.
 *
 * Order: the media type is checked before anything is decoded, then base64, then the size,
 * then the charset, then markup.
 *
 * @param data - `Attachment.data` (base64Binary)
 * @param contentType - `Attachment.contentType`, parameters included
 * @param opts - size limit and the Attachment's path for error expressions
 * @returns the note text, the media type essence and, for markup, the source map
 * @throws OperationOutcomeError 400 `invariant` (att-1), 400 `invalid` (bad media type or
 *   base64), 413 `too-costly` (size), 422 `not-supported` (media type or charset),
 *   422 `code-invalid` (bytes invalid in the charset)
 */
export function decodeAttachmentData(data: string, contentType: string | undefined, opts: DecodeOptions): DecodedText {
  const path = opts.path ?? 'Attachment';

  // R4 Attachment att-1: "If the Attachment has data, it SHALL have a contentType".
  if (contentType === undefined || contentType.trim() === '') {
    throw badRequest(`${path}.contentType is required when data is present (att-1)`, `${path}.contentType`, 'invariant');
  }
  const mediaType = parseMediaType(contentType, `${path}.contentType`);
  const kind = SUPPORTED.get(mediaType.essence);
  if (!kind) {
    throw unprocessable(
      `Attachment content type ${mediaType.essence} is not supported (supported: ${SUPPORTED_NOTE_TYPES.join(', ')})`,
      'not-supported',
      `${path}.contentType`,
    );
  }

  const bytes = decodeBase64(data, opts.maxBytes, path);
  const decoded = decodeCharset(bytes, mediaType.params.charset, path);

  if (kind === 'plain') {
    // No normalisation at all (CRLF, NBSP...): offsets downstream index this exact text.
    return { text: decoded, contentType: mediaType.essence };
  }
  const { text, sourceOffsets } = htmlToText(decoded, { xhtml: kind === 'xhtml' });
  return { text, contentType: mediaType.essence, sourceOffsets };
}

/**
 * Strict base64 decoding. `Buffer.from(s, 'base64')` skips any character outside the alphabet
 * and stops at the first `=`, so it silently turns corrupt data into a shorter, different note.
 * @param data - base64Binary text, whitespace allowed
 * @param maxBytes - size limit of the decoded bytes
 * @param path - Attachment path for error expressions
 * @returns the decoded bytes
 */
function decodeBase64(data: string, maxBytes: number, path: string): Uint8Array {
  const compact = data.replace(XSD_SPACE, '');
  // The R4 regex needs at least one quad, so empty data is invalid too.
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw badRequest(`${path}.data is not valid base64 (RFC 4648 §4)`, `${path}.data`);
  }
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const size = (compact.length / 4) * 3 - padding;
  if (size > maxBytes) {
    throw payloadTooLarge(`${path}.data decodes to ${size} bytes, over the limit of ${maxBytes}`);
  }
  return Buffer.from(compact, 'base64');
}

/**
 * Decodes bytes in the charset named by the contentType, following the WHATWG Encoding
 * Standard's "decode" (https://encoding.spec.whatwg.org/#decode): a BOM wins over the label
 * and is removed. Labels are WHATWG labels, so `iso-8859-1`, `latin1` and `us-ascii` decode as
 * windows-1252, as in browsers (a superset: 0x80–0x9F are smart quotes and dashes).
 *
 * Invalid bytes are rejected (`fatal: true`) rather than replaced by U+FFFD (standards §3.3
 * [DECIDE]): they nearly always mean a wrong or missing charset label (Latin-1 sent as UTF-8),
 * the replaced text would silently differ from the document the clinician signed, and a 422
 * tells the sender what to fix, while suggestions from corrupted text would not.
 *
 * In-document declarations (`<meta charset>`, `<?xml encoding?>`) are not consulted: FHIR
 * carries the charset in contentType, and a mismatch surfaces as `code-invalid`, not as garbage.
 *
 * @param bytes - the decoded base64
 * @param charset - the `charset` parameter, if any; UTF-8 when absent (FHIR JSON is UTF-8)
 * @param path - Attachment path for error expressions
 * @returns the text, without BOM
 */
function decodeCharset(bytes: Uint8Array, charset: string | undefined, path: string): string {
  const expression = `${path}.contentType`;
  let label = charset?.trim() ?? 'utf-8';
  // An unknown declared charset is reported even when a BOM would make it moot: it is a sender error.
  if (!isKnownEncoding(label)) {
    // Named only when it looks like a charset name (RFC 2978 mime-charset characters): a quoted
    // parameter can hold any text, and error texts never echo free text (it may be PHI).
    const named = /^[A-Za-z0-9][A-Za-z0-9!#$%&'+\-^_`{}~.]{0,39}$/.test(label);
    throw unprocessable(`Attachment charset ${named ? `${JSON.stringify(label)} ` : ''}is not supported`, 'not-supported', expression);
  }

  const bom = sniffBom(bytes);
  if (bom) label = bom.encoding;
  // WHATWG maps the label "utf-16" to UTF-16LE; as a MIME charset without a BOM, RFC 2781 §4.3
  // says big-endian. The label comes from a MIME type, so the RFC applies.
  else if (label.toLowerCase() === 'utf-16') label = 'utf-16be';

  // ignoreBOM: the BOM is already removed; a second U+FEFF is content (ZWNBSP) and stays.
  const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
  const content = bom ? bytes.subarray(bom.length) : bytes;
  if (decoder.encoding === 'windows-1252') return decodeWindows1252(content);
  try {
    return decoder.decode(content);
  } catch {
    throw unprocessable(`${path}.data is not valid ${decoder.encoding} (the charset of contentType, UTF-8 when absent)`, 'code-invalid', `${path}.data`);
  }
}

/**
 * WHATWG index-windows-1252 for 0x80–0x9F (https://encoding.spec.whatwg.org/index-windows-1252.txt);
 * every other byte is its own code point.
 */
const WINDOWS_1252_80_9F = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019,
  0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

/**
 * windows-1252 by table. Node's TextDecoder decodes it as ISO-8859-1 since 20.18.3 / 22.13.0
 * (0x93 → U+0093 instead of U+201C; https://github.com/nodejs/node/issues/60888, #56542), and
 * the labels iso-8859-1, latin1 and us-ascii all resolve to it, so smart quotes and dashes from
 * Word-pasted notes would become C1 control characters.
 * @param bytes - windows-1252 bytes (single-byte: every byte is valid)
 * @returns the text
 */
function decodeWindows1252(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    units[i] = b >= 0x80 && b <= 0x9f ? WINDOWS_1252_80_9F[b - 0x80] : b;
  }
  let text = '';
  for (let i = 0; i < units.length; i += 8192) text += String.fromCharCode(...units.subarray(i, i + 8192));
  return text;
}

/**
 * @param label - a charset name
 * @returns whether TextDecoder knows it (Node 20 ships full ICU: every WHATWG encoding)
 */
function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false; // RangeError, also for WHATWG's "replacement" labels (iso-2022-kr...)
  }
}

/**
 * WHATWG Encoding "BOM sniff".
 * @param bytes - the raw bytes
 * @returns the encoding the BOM names and the BOM's length, or undefined
 */
function sniffBom(bytes: Uint8Array): { encoding: string; length: number } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  return undefined;
}

import { OperationOutcomeError } from '../../../src/errors';
import { decodeAttachmentData } from '../../../src/note/attachment';
import { parseMediaType } from '../../../src/note/media-type';

const opts = { maxBytes: 1_000_000 };

function b64(bytes: Uint8Array | number[] | string): string {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8').toString('base64') : Buffer.from(bytes).toString('base64');
}

/** Runs `fn`, expects an OperationOutcomeError, returns what the client would see. */
function outcomeOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OperationOutcomeError);
    const { status, outcome } = error as OperationOutcomeError;
    const [issue] = outcome.issue ?? [];
    return { status, code: issue.code, text: issue.details?.text, expression: issue.expression };
  }
  throw new Error('expected an OperationOutcomeError');
}

describe('parseMediaType', () => {
  test.each<[string, string, Record<string, string>]>([
    ['text/plain', 'text/plain', {}],
    ['TEXT/PLAIN; Charset="utf-8"', 'text/plain', { charset: 'utf-8' }],
    ['text/html;charset=ISO-8859-1', 'text/html', { charset: 'ISO-8859-1' }],
    [' text/plain ; charset=utf-8 ;\tformat=flowed ', 'text/plain', { charset: 'utf-8', format: 'flowed' }],
    ['text/plain; title="a \\"b\\"; c"', 'text/plain', { title: 'a "b"; c' }],
    ['text/plain;', 'text/plain', {}],
    ['text/plain;;charset=utf-8', 'text/plain', { charset: 'utf-8' }],
    ['text/plain; charset=a; CHARSET=b', 'text/plain', { charset: 'a' }],
    ['text/plain; charset = utf-8', 'text/plain', { charset: 'utf-8' }],
    ['application/xhtml+xml', 'application/xhtml+xml', {}],
  ])('%j', (value, essence, params) => {
    const parsed = parseMediaType(value);
    expect(parsed.essence).toBe(essence);
    expect(`${parsed.type}/${parsed.subtype}`).toBe(essence);
    expect(parsed.params).toEqual(params);
  });

  test.each([
    '',
    'text',
    'text/',
    '/plain',
    'text/plain/x',
    'text plain',
    'text/plain charset=utf-8',
    'text/plain; charset',
    'text/plain; charset=',
    'text/plain; charset="utf-8',
    'text/plain; charset=utf 8',
    'text/plain; =utf-8',
    't\u00ebxt/plain',
  ])('rejects %j', (value) => {
    expect(outcomeOf(() => parseMediaType(value, 'Attachment.contentType'))).toEqual({
      status: 400,
      code: 'invalid',
      text: 'contentType is not a valid MIME media type (RFC 9110 §8.3.1)',
      expression: ['Attachment.contentType'],
    });
  });
});

describe('decodeAttachmentData', () => {
  describe('base64Binary', () => {
    test('whitespace anywhere is allowed (R4 base64Binary, HL7 Binary example style)', () => {
      const note = 'Discharge diagnosis: community-acquired pneumonia (J18.9). Hypertension (I10).';
      const wrapped = b64(note)
        .replace(/.{1,16}/g, (line) => `${line}\n`) // line-wrapped
        .replace(/(.{4})(.{4})/g, '$1 $2'); // and spaced inside lines
      expect(wrapped).toMatch(/ .*\n/);
      expect(decodeAttachmentData(`\n  ${wrapped}\t\r\n`, 'text/plain', opts).text).toBe(note);
    });

    test.each([
      ['a character outside the alphabet', 'SGVsbG8*'],
      ['URL-safe alphabet', 'SGVsbG8_'],
      ['length not a multiple of 4', 'SGVsbG8'],
      ['padding in the middle', 'SG==bG8='],
      ['too much padding', 'SGVsb==='],
      ['padding only', '===='],
      ['empty', ''],
      ['whitespace only', ' \n '],
      ['non-XSD whitespace (NBSP)', 'SGVs\u00a0bG8='],
    ])('rejects %s, which Buffer.from would accept or mangle', (_name, data) => {
      expect(outcomeOf(() => decodeAttachmentData(data, 'text/plain', opts))).toEqual({
        status: 400,
        code: 'invalid',
        text: 'Attachment.data is not valid base64 (RFC 4648 §4)',
        expression: ['Attachment.data'],
      });
    });

    test('error expressions use the caller path', () => {
      const path = 'DocumentReference.content[0].attachment';
      expect(outcomeOf(() => decodeAttachmentData('*', 'text/plain', { ...opts, path })).expression).toEqual([`${path}.data`]);
    });
  });

  describe('size limit on decoded bytes', () => {
    test('exactly at the limit passes', () => {
      expect(decodeAttachmentData(b64('abcd'), 'text/plain', { maxBytes: 4 }).text).toBe('abcd');
    });

    test('over the limit is 413 too-costly', () => {
      expect(outcomeOf(() => decodeAttachmentData(b64('abcde'), 'text/plain', { maxBytes: 4 }))).toEqual({
        status: 413,
        code: 'too-costly',
        text: 'Attachment.data decodes to 5 bytes, over the limit of 4',
        expression: undefined,
      });
    });
  });

  describe('charset', () => {
    test.each<[string, string, number[], string]>([
      ['UTF-8 by default', 'text/plain', [0x63, 0x61, 0x66, 0xc3, 0xa9], 'caf\u00e9'],
      ['explicit utf-8, parameter parsed case-insensitively', 'TEXT/PLAIN; Charset="utf-8"', [0xc3, 0xa9], '\u00e9'],
      ['ISO-8859-1 é as 0xE9', 'text/plain; charset=ISO-8859-1', [0x63, 0x61, 0x66, 0xe9], 'caf\u00e9'],
      ['windows-1252 smart quotes and en dash', 'text/plain; charset=windows-1252', [0x93, 0x78, 0x94, 0x20, 0x31, 0x96, 0x32], '\u201cx\u201d 1\u20132'],
      [
        'windows-1252 0x80-0x9F edges: euro, unassigned 0x81, Y diaeresis',
        'text/plain; charset=cp1252',
        [0x80, 0x81, 0x9f, 0xa0, 0xff],
        '\u20ac\u0081\u0178\u00a0\u00ff',
      ],
      ['ISO-8859-1 decodes as windows-1252 (WHATWG)', 'text/plain; charset=iso-8859-1', [0x93, 0x94], '\u201c\u201d'],
      ['utf-16le with BOM', 'text/plain; charset=utf-16le', [0xff, 0xfe, 0x44, 0x00, 0x78, 0x00], 'Dx'],
      ['utf-16 with LE BOM', 'text/plain; charset=utf-16', [0xff, 0xfe, 0x44, 0x00, 0x78, 0x00], 'Dx'],
      ['utf-16 with BE BOM', 'text/plain; charset=utf-16', [0xfe, 0xff, 0x00, 0x44, 0x00, 0x78], 'Dx'],
      ['utf-16 without BOM is big-endian (RFC 2781 §4.3)', 'text/plain; charset=utf-16', [0x00, 0x44, 0x00, 0x78], 'Dx'],
      ['UTF-8 BOM stripped', 'text/plain', [0xef, 0xbb, 0xbf, 0x44, 0x78], 'Dx'],
      ['only the leading BOM is stripped', 'text/plain', [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x44], '\ufeffD'],
      ['a BOM wins over the label (WHATWG decode)', 'text/plain; charset=windows-1252', [0xef, 0xbb, 0xbf, 0xc3, 0xa9], '\u00e9'],
    ])('%s', (_name, contentType, bytes, expected) => {
      expect(decodeAttachmentData(b64(bytes), contentType, opts)).toEqual({ text: expected, contentType: contentType.split(';')[0].toLowerCase() });
    });

    test.each<[string, string, number[], string]>([
      ['invalid UTF-8 (Latin-1 byte)', 'text/plain', [0x63, 0x61, 0x66, 0xe9], 'utf-8'],
      ['truncated UTF-8 sequence', 'text/plain; charset=utf-8', [0x44, 0xe2, 0x80], 'utf-8'],
      ['odd-length UTF-16', 'text/plain; charset=utf-16le', [0x44, 0x00, 0x78], 'utf-16le'],
      ['lone surrogate in UTF-16', 'text/plain; charset=utf-16le', [0x3d, 0xd8, 0x44, 0x00], 'utf-16le'],
    ])('rejects %s with code-invalid, without echoing content', (_name, contentType, bytes, encoding) => {
      expect(outcomeOf(() => decodeAttachmentData(b64(bytes), contentType, opts))).toEqual({
        status: 422,
        code: 'code-invalid',
        text: `Attachment.data is not valid ${encoding} (the charset of contentType, UTF-8 when absent)`,
        expression: ['Attachment.data'],
      });
    });

    test.each([
      ['x-klingon', '"x-klingon"'],
      ['utf-7', '"utf-7"'],
      ['iso-2022-kr', '"iso-2022-kr"'], // WHATWG "replacement" encoding
    ])('rejects unknown charset %s with not-supported, naming it', (charset, shown) => {
      expect(outcomeOf(() => decodeAttachmentData(b64('x'), `text/plain; charset=${charset}`, opts))).toEqual({
        status: 422,
        code: 'not-supported',
        text: `Attachment charset ${shown} is not supported`,
        expression: ['Attachment.contentType'],
      });
    });

    test('a quoted charset holding free text is not echoed (it may be PHI)', () => {
      expect(outcomeOf(() => decodeAttachmentData(b64('x'), 'text/plain; charset="Jane Doe 1956-02-03"', opts)).text).toBe(
        'Attachment charset is not supported',
      );
    });
  });

  describe('content types', () => {
    test('plain text is returned exactly: CRLF, NBSP, tabs and astral characters untouched', () => {
      const note = 'Dx:\u00a0pneumonia\r\n\tT\u00a038.5\u00b0C \u{1F912}\r\nFollow-up \u2013 1 week\u200b';
      const decoded = decodeAttachmentData(b64(note), 'text/plain; charset=utf-8', opts);
      expect(decoded).toEqual({ text: note, contentType: 'text/plain' });
      expect(decoded.sourceOffsets).toBeUndefined();
    });

    test('markdown is kept as is', () => {
      const note = '# Discharge summary\n\n- **Dx:** pneumonia\n';
      expect(decodeAttachmentData(b64(note), 'text/markdown', opts)).toEqual({ text: note, contentType: 'text/markdown' });
    });

    test('HTML is stripped, with offsets into the decoded markup (BOM removed)', () => {
      const html = '<p>Dx: pneumonia</p><p>Hx &amp; Px\u00a0\u{1F600}</p>';
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(html, 'utf8')]);
      const { text, contentType, sourceOffsets } = decodeAttachmentData(b64(bytes), 'text/html; charset=UTF-8', opts);

      expect(text).toBe('Dx: pneumonia\nHx & Px\u00a0\u{1F600}');
      expect(contentType).toBe('text/html');
      expect(sourceOffsets).toHaveLength(text.length + 1);
      for (let i = 0; i < text.length; i++) {
        if (text[i] === '\n') expect(html[sourceOffsets![i]]).toBe('<');
        else if (text[i] === '&') expect(html.slice(sourceOffsets![i], sourceOffsets![i] + 5)).toBe('&amp;');
        else expect(html[sourceOffsets![i]]).toBe(text[i]);
      }
    });

    test('HTML in windows-1252', () => {
      const bytes = [...Buffer.from('<p>'), 0x93, 0x78, 0x94, ...Buffer.from('</p>')];
      expect(decodeAttachmentData(b64(bytes), 'text/html; charset=windows-1252', opts).text).toBe('\u201cx\u201d');
    });

    test('XHTML goes through the markup path', () => {
      const xhtml = '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>Dx&#160;J18.9<br/>Hx</p></body></html>';
      const decoded = decodeAttachmentData(b64(xhtml), 'application/xhtml+xml', opts);
      expect(decoded.text).toBe('Dx\u00a0J18.9\nHx');
      expect(decoded.contentType).toBe('application/xhtml+xml');
    });

    test.each(['application/pdf', 'image/png', 'application/hl7-v3+xml', 'text/rtf', 'application/fhir+json', 'text/xml'])(
      'rejects %s naming the type, before decoding anything',
      (type) => {
        // The data is not even base64: the type check comes first.
        expect(outcomeOf(() => decodeAttachmentData('%PDF-1.7 not base64', `${type}; charset=utf-8`, opts))).toEqual({
          status: 422,
          code: 'not-supported',
          text: `Attachment content type ${type} is not supported (supported: text/plain, text/markdown, text/html, application/xhtml+xml)`,
          expression: ['Attachment.contentType'],
        });
      },
    );

    test('att-1: data without contentType is 400 invariant', () => {
      for (const contentType of [undefined, '', '  ']) {
        expect(outcomeOf(() => decodeAttachmentData(b64('x'), contentType, opts))).toEqual({
          status: 400,
          code: 'invariant',
          text: 'Attachment.contentType is required when data is present (att-1)',
          expression: ['Attachment.contentType'],
        });
      }
    });

    test('an unparseable contentType is 400 invalid', () => {
      expect(outcomeOf(() => decodeAttachmentData(b64('x'), 'text', opts)).code).toBe('invalid');
    });
  });
});

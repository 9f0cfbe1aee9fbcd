/**
 * Markup (text/html, application/xhtml+xml) → the plain text a reader sees, with an exact map
 * from every text character back to the markup. The only importer of htmlparser2.
 */
import { Parser, type Handler, type ParserOptions } from 'htmlparser2';

export interface MarkupText {
  /** What a reader of the rendered document sees, line breaks included. */
  text: string;
  /**
   * `sourceOffsets[i]` is the UTF-16 index in the markup of text char `i`: the char itself, the
   * `&` of the character reference it was decoded from, or, for a line break or tab we
   * inserted, the `<` of the tag that caused it. The extra last entry is the index just past
   * the source of the last char, so a text span `[s, e)` maps to `[sourceOffsets[s], sourceOffsets[e])`.
   */
  sourceOffsets: Int32Array;
}

/** Elements whose text is never rendered as document content. */
const DROPPED = new Set(['script', 'style', 'title', 'template']);

/** Elements rendered as blocks: their start and end are line boundaries (HTML §15.3.3, `display: block`). */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'center',
  'dd',
  'details',
  'dialog',
  'dir',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hgroup',
  'hr',
  'html',
  'legend',
  'li',
  'listing',
  'main',
  'menu',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
  'xmp',
]);

/** Table cells: separated from the previous cell of the row by a tab. */
const CELLS = new Set(['td', 'th']);

/**
 * Options per media type.
 * - text/html: htmlparser2's HTML mode (void elements, implied end tags, all HTML named entities).
 * - application/xhtml+xml: the same tokenizer plus the two XML features that change text content,
 *   self-closing tags (`<p/>`) and CDATA sections. Not `xmlMode`: that decodes only XML's five
 *   named entities, but XHTML documents with an XHTML DOCTYPE use `&nbsp;` and friends, which
 *   browsers resolve; leaving them literal would feed "&nbsp;" to the classifier. XHTML element
 *   names are lower case by definition, so lower-casing them changes nothing.
 */
const PARSER_OPTIONS: Record<'html' | 'xhtml', ParserOptions> = {
  html: {},
  xhtml: { recognizeSelfClosing: true, recognizeCDATA: true },
};

/**
 * Converts HTML or XHTML to text, dropping markup, `<script>`, `<style>`, `<title>` and
 * `<template>` content, and turning block boundaries, `<br>` and table cells into `\n` / `\t`.
 *
 * Whitespace (decision): characters are kept one for one, not collapsed as a browser would, so
 * the map stays one-to-one and nothing the author typed disappears; the tokenizer splits on any
 * run of whitespace anyway. Outside `<pre>`, CR, LF and FF (which HTML renders as spaces) become
 * spaces, so source line wrapping does not fake line structure. Whitespace at the start or end
 * of a rendered line or table cell is dropped: it is source indentation, and keeping it would
 * turn every pretty-printed document into runs of blank-looking lines. `<pre>` content is kept
 * verbatim, less the newline right after `<pre>` (HTML §13.2.6.4.7, "in body": ignored).
 *
 * `<head>` itself is not dropped: its only text is `<title>`/`<script>`/`<style>` (dropped) or
 * indentation, and htmlparser2 has no HTML "in head" insertion mode, so an unclosed `<head>`
 * in a document without `<body>` would otherwise swallow the whole note.
 *
 * @param html - the decoded markup
 * @param options - `xhtml: true` for application/xhtml+xml
 * @returns the text and its map into `html`
 */
export function htmlToText(html: string, options: { xhtml?: boolean } = {}): MarkupText {
  const out = new TextBuilder();
  let dropDepth = 0;
  let preDepth = 0;
  let atPreStart = false;

  const handler: Partial<Handler> = {
    onopentagname(rawName) {
      const name = localName(rawName);
      atPreStart = false;
      if (DROPPED.has(name)) dropDepth++;
      if (dropDepth > 0) return;
      const at = parser.spanStart;
      if (name === 'br') out.hardBreak(at);
      else if (CELLS.has(name)) out.cellBreak(at);
      else if (BLOCKS.has(name)) out.lineBreak(at);
      if (name === 'pre') {
        preDepth++;
        atPreStart = true;
      }
    },
    onclosetag(rawName) {
      const name = localName(rawName);
      if (DROPPED.has(name)) {
        dropDepth--;
        return;
      }
      if (dropDepth > 0) return;
      if (name === 'pre') preDepth--;
      if (BLOCKS.has(name)) out.lineBreak(parser.spanStart);
    },
    ontext(data) {
      if (dropDepth > 0) return;
      const { spanStart, referenceEnd } = parser;
      let i = 0;
      if (atPreStart) {
        atPreStart = false;
        if (data.startsWith('\r\n')) i = 2;
        else if (data[0] === '\n' || data[0] === '\r') i = 1;
      }
      for (; i < data.length; i++) {
        // A decoded reference maps all its code units (1 or 2) to its `&`.
        const offset = referenceEnd >= 0 ? spanStart : spanStart + i;
        const end = referenceEnd >= 0 ? referenceEnd : offset + 1;
        const unit = data.charCodeAt(i);
        if (preDepth > 0 || !isHtmlSpace(unit)) out.push(unit, offset, end, Kind.Content);
        else if (!out.atBoundary()) out.push(unit === TAB ? TAB : SPACE, offset, end, Kind.Space);
      }
    },
  };

  const parser = new SpanParser(html, handler, PARSER_OPTIONS[options.xhtml ? 'xhtml' : 'html']);
  parser.end(html);
  return out.finish();
}

/** Drops a namespace prefix (`xhtml:p` → `p`); HTML and XHTML elements are matched by local name. */
function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/**
 * htmlparser2's Parser with the exact source span of each event.
 *
 * The public `startIndex` is not exact for text: it is the end of the previous event, so after
 * `</p >` it points into that tag, for a CDATA section it points at `<![CDATA[`, and for the
 * second code point of a two-code-point entity (`&NotEqualTilde;`) it lies past `endIndex`.
 * The tokenizer callbacks below receive the true positions, so we record them before the
 * handler runs. (htmlparser2 10.x: `ontext`/`ontextentity`/`oncdata`/`onopentagname`/
 * `onclosetag` are the Tokenizer → Parser callbacks, declared public in Parser.d.ts.)
 */
class SpanParser extends Parser {
  /** Source index of the text chunk, reference or tag being reported. */
  spanStart = 0;
  /** End (exclusive) of the character reference being reported, or -1 for literal text. */
  referenceEnd = -1;

  /**
   * @param source - the whole markup, written in one `end()` call
   * @param handler - callbacks
   * @param options - parser options
   */
  constructor(
    private readonly source: string,
    handler: Partial<Handler>,
    options: ParserOptions,
  ) {
    super(handler, options);
  }

  override ontext(start: number, endIndex: number): void {
    this.spanStart = start;
    this.referenceEnd = -1;
    super.ontext(start, endIndex);
  }

  override ontextentity(cp: number, endIndex: number): void {
    // `endIndex` is the end of the reference; its start is its only `&` (a reference is
    // `&name;`, `&#123;` or `&#x7B;`, with or without `;`).
    this.spanStart = this.source.lastIndexOf('&', endIndex - 1);
    this.referenceEnd = endIndex;
    super.ontextentity(cp, endIndex);
  }

  override oncdata(start: number, endIndex: number, offset: number): void {
    this.spanStart = start; // the first char after `<![CDATA[`
    this.referenceEnd = -1;
    super.oncdata(start, endIndex, offset);
  }

  override onopentagname(start: number, endIndex: number): void {
    this.spanStart = start - 1; // `start` is the name; `<` precedes it
    super.onopentagname(start, endIndex);
  }

  override onclosetag(start: number, endIndex: number): void {
    this.spanStart = start - 2; // `</` precedes the name
    super.onclosetag(start, endIndex);
  }
}

const enum Kind {
  /** A character of the document (including whitespace inside `<pre>`). */
  Content,
  /** Whitespace outside `<pre>`: dropped at the start and end of a line. */
  Space,
  /** A `\n` or `\t` we inserted for a tag. */
  Break,
}

const LF = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;

/** WHATWG Infra "ASCII whitespace" (TAB, LF, FF, CR, SPACE), which HTML rendering collapses outside `<pre>`. */
function isHtmlSpace(unit: number): boolean {
  return unit === SPACE || unit === TAB || unit === LF || unit === 0x0c || unit === 0x0d;
}

/** Accumulates UTF-16 code units with their source start/end, in typed arrays (notes can be MBs). */
class TextBuilder {
  private length = 0;
  private units = new Uint16Array(1024);
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private kinds = new Uint8Array(1024);

  push(unit: number, start: number, end: number, kind: Kind): void {
    if (this.length === this.units.length) this.grow();
    const i = this.length++;
    this.units[i] = unit;
    this.starts[i] = start;
    this.ends[i] = end;
    this.kinds[i] = kind;
  }

  atLineStart(): boolean {
    return this.length === 0 || this.units[this.length - 1] === LF;
  }

  /** At a line start or right after an inserted tab: where leading whitespace is dropped. */
  atBoundary(): boolean {
    return this.atLineStart() || this.kinds[this.length - 1] === Kind.Break;
  }

  /** Ends the current line, unless already at a line start (no blank lines between blocks). */
  lineBreak(at: number): void {
    this.trimSpaces();
    if (!this.atLineStart()) this.push(LF, at, at, Kind.Break);
  }

  /** `<br>`: always a new line, but at most one blank line in a row and none at the start. */
  hardBreak(at: number): void {
    this.trimSpaces();
    const n = this.length;
    if (n > 0 && !(this.units[n - 1] === LF && this.units[n - 2] === LF)) this.push(LF, at, at, Kind.Break);
  }

  /** A tab before every cell but the first of its line. */
  cellBreak(at: number): void {
    this.trimSpaces();
    if (!this.atLineStart()) this.push(TAB, at, at, Kind.Break);
  }

  finish(): MarkupText {
    while (this.length > 0 && this.kinds[this.length - 1] !== Kind.Content) this.length--;
    const n = this.length;
    const sourceOffsets = new Int32Array(n + 1);
    sourceOffsets.set(this.starts.subarray(0, n));
    sourceOffsets[n] = n > 0 ? this.ends[n - 1] : 0;
    let text = '';
    for (let i = 0; i < n; i += 8192) {
      text += String.fromCharCode(...this.units.subarray(i, Math.min(i + 8192, n)));
    }
    return { text, sourceOffsets };
  }

  private trimSpaces(): void {
    while (this.length > 0 && this.kinds[this.length - 1] === Kind.Space) this.length--;
  }

  private grow(): void {
    const size = this.units.length * 2;
    const units = new Uint16Array(size);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const kinds = new Uint8Array(size);
    units.set(this.units);
    starts.set(this.starts);
    ends.set(this.ends);
    kinds.set(this.kinds);
    this.units = units;
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
  }
}

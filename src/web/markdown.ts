/**
 * The Markdown subset of card `detail`, parsed into a small tree (no DOM, no HTML).
 *
 * The service writes paragraphs, `> ` block quotes, `**strong**`, `_emphasis_`, hard line
 * breaks (two trailing spaces) and backslash escapes (src/cds/cards.ts, src/fhir/markdown.ts).
 * Everything else (raw HTML, links, images, headings, lists) is kept as its literal characters:
 * the detail is treated as untrusted, and render.ts turns this tree into DOM nodes with
 * textContent only, so no HTML parser ever sees it. Imports nothing (unit-tested under Node).
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'br' };

export type Block = { type: 'paragraph'; children: Inline[] } | { type: 'quote'; children: Block[] };

// GFM §2.4: any ASCII punctuation may be backslash-escaped.
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const WORD = /[\p{L}\p{N}]/u;

/**
 * Parses card detail Markdown into blocks.
 * @param markdown - untrusted Markdown (card.detail)
 */
export function parseMarkdown(markdown: string): Block[] {
  return parseBlocks(markdown.replace(/\r\n?/g, '\n').split('\n'), 0);
}

// Quotes nest at most this deep; deeper `>` are shown as text.
const MAX_QUOTE_DEPTH = 8;

function parseBlocks(lines: readonly string[], depth: number): Block[] {
  const blocks: Block[] = [];
  let group: string[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const quoted = depth < MAX_QUOTE_DEPTH && group.every((l) => /^ {0,3}>/.test(l));
    blocks.push(
      quoted
        ? {
            type: 'quote',
            children: parseBlocks(
              group.map((l) => l.replace(/^ {0,3}> ?/, '')),
              depth + 1,
            ),
          }
        : { type: 'paragraph', children: parseParagraph(group) },
    );
    group = [];
  };
  for (const line of lines) {
    if (line.trim() === '') flush();
    else group.push(line);
  }
  flush();
  return blocks;
}

/** Lines of one paragraph: soft breaks become spaces, "  " or "\" at a line's end a hard break. */
function parseParagraph(lines: readonly string[]): Inline[] {
  const out: Inline[] = [];
  lines.forEach((raw, i) => {
    const last = i === lines.length - 1;
    let line = raw.replace(/^[ \t]+/, '');
    let hard = false;
    if (!last && / {2,}$/.test(line)) {
      hard = true;
      line = line.replace(/ +$/, '');
    } else if (!last && /(^|[^\\])(\\\\)*\\$/.test(line)) {
      hard = true;
      line = line.slice(0, -1);
    } else {
      line = line.replace(/[ \t]+$/, '');
    }
    out.push(...parseInline(line));
    if (!last) out.push(hard ? { type: 'br' } : { type: 'text', text: ' ' });
  });
  return merge(out);
}

/**
 * Index of the closing delimiter `delim` in `s` from `from`, skipping escapes and code spans.
 * For `_`, the closer must not be followed by a letter or digit (GFM: no intraword `_`).
 */
function closer(s: string, from: number, delim: string): number {
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && ASCII_PUNCTUATION.test(s[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (c === '`') {
      const end = s.indexOf('`', i + 1);
      if (end > 0) i = end;
      continue;
    }
    if (s.startsWith(delim, i)) {
      // "**" must not close a single "*".
      if (delim === '*' && s[i + 1] === '*') {
        i++;
        continue;
      }
      if (delim === '_' && WORD.test(s[i + 1] ?? '')) continue;
      if (i > from && !/\s/.test(s[i - 1])) return i;
    }
  }
  return -1;
}

/**
 * Inline content: escapes, code spans, strong and emphasis. Unmatched delimiters stay text.
 * @param s - one line of Markdown
 */
export function parseInline(s: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const push = (node: Inline) => {
    if (text) out.push({ type: 'text', text });
    text = '';
    out.push(node);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && ASCII_PUNCTUATION.test(s[i + 1] ?? '')) {
      text += s[++i];
      continue;
    }
    if (c === '`') {
      const end = s.indexOf('`', i + 1);
      if (end > i + 1) {
        push({ type: 'code', text: s.slice(i + 1, end) });
        i = end;
        continue;
      }
    }
    if (c === '*' && s[i + 1] === '*' && !/\s/.test(s[i + 2] ?? ' ')) {
      const end = closer(s, i + 2, '**');
      if (end > 0) {
        push({ type: 'strong', children: parseInline(s.slice(i + 2, end)) });
        i = end + 1;
        continue;
      }
    }
    if ((c === '*' || (c === '_' && !WORD.test(s[i - 1] ?? ''))) && !/\s/.test(s[i + 1] ?? ' ')) {
      const end = closer(s, i + 1, c);
      if (end > 0) {
        push({ type: 'em', children: parseInline(s.slice(i + 1, end)) });
        i = end;
        continue;
      }
    }
    text += c;
  }
  if (text) out.push({ type: 'text', text });
  return merge(out);
}

/** Joins adjacent text nodes. */
function merge(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const node of nodes) {
    const prev = out[out.length - 1];
    if (node.type === 'text' && prev?.type === 'text') out[out.length - 1] = { type: 'text', text: prev.text + node.text };
    else out.push(node);
  }
  return out;
}

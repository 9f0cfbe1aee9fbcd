/**
 * The review page's Markdown subset (src/web/markdown.ts): what the service's card detail
 * uses becomes structure, everything else stays literal text.
 */
import { parseInline, parseMarkdown, type Block } from '../../../src/web/markdown';
import { escapeMarkdown, escapeMarkdownInline } from '../../../src/fhir/markdown';

const text = (t: string) => ({ type: 'text' as const, text: t });

describe('parseInline', () => {
  it.each([
    ['plain', [text('plain')]],
    ['**Confidence:** 0.88', [{ type: 'strong', children: [text('Confidence:')] }, text(' 0.88')]],
    ['_present, section "X"_', [{ type: 'em', children: [text('present, section "X"')] }]],
    ['*em* and `co*de*`', [{ type: 'em', children: [text('em')] }, text(' and '), { type: 'code', text: 'co*de*' }]],
    ['\\*not em\\* 2\\.1 mg\\/dL', [text('*not em* 2.1 mg/dL')]],
    ['snake_case_word', [text('snake_case_word')]],
    ['** not strong **', [text('** not strong **')]],
    ['unclosed **bold and _em', [text('unclosed **bold and _em')]],
    ['<script>alert(1)</script>', [text('<script>alert(1)</script>')]],
    ['[x](javascript:alert(1)) ![i](x.png)', [text('[x](javascript:alert(1)) ![i](x.png)')]],
    ['\\<b\\> and \\\\', [text('<b> and \\')]],
  ])('%s', (input, expected) => {
    expect(parseInline(input)).toEqual(expected);
  });
});

describe('parseMarkdown', () => {
  it('reads the blocks the service writes: paragraphs, quotes, hard breaks', () => {
    const detail = [
      '**Supporting text** (Discharge summary 2026\\-11\\-25):',
      '',
      '> A 71\\-year\\-old woman\\.',
      '',
      '_historical ("history of")_',
      '',
      '**Confidence:** 0.88  ',
      '**Model:** m 1\\.0',
    ].join('\n');
    const expected: Block[] = [
      { type: 'paragraph', children: [{ type: 'strong', children: [text('Supporting text')] }, text(' (Discharge summary 2026-11-25):')] },
      { type: 'quote', children: [{ type: 'paragraph', children: [text('A 71-year-old woman.')] }] },
      { type: 'paragraph', children: [{ type: 'em', children: [text('historical ("history of")')] }] },
      {
        type: 'paragraph',
        children: [
          { type: 'strong', children: [text('Confidence:')] },
          text(' 0.88'),
          { type: 'br' },
          { type: 'strong', children: [text('Model:')] },
          text(' m 1.0'),
        ],
      },
    ];
    expect(parseMarkdown(detail)).toEqual(expected);
  });

  it('joins soft line breaks with a space and keeps headings, lists and HTML blocks as text', () => {
    expect(parseMarkdown('# Title\n- item\n<div onclick="x">y</div>')).toEqual([
      { type: 'paragraph', children: [text('# Title - item <div onclick="x">y</div>')] },
    ]);
  });

  it('limits quote nesting', () => {
    const deep = parseMarkdown('>'.repeat(20) + ' x');
    let depth = 0;
    for (let b: Block | undefined = deep[0]; b?.type === 'quote'; b = b.children[0]) depth++;
    expect(depth).toBe(8);
  });

  // Whatever the note says, the escaped quote reads back as the note's characters.
  it.each([
    'A 71-year-old woman with a history of hypertension.',
    '**not bold** _not em_ `not code` <img src=x> [l](javascript:x) \\ back\\slash & ~~s~~ | pipe',
    '1. Listed item # not a heading > not a quote',
  ])('round-trips escaped note text: %s', (note) => {
    expect(parseMarkdown(`> ${escapeMarkdown(note)}`)).toEqual([{ type: 'quote', children: [{ type: 'paragraph', children: [text(note)] }] }]);
    expect(parseInline(`_${escapeMarkdownInline(note)}_`)).toEqual([{ type: 'em', children: [text(note)] }]);
  });
});

import { htmlToText, type MarkupText } from '../../../src/note/markup';

/**
 * Checks the offset map: one entry per text char plus one, never decreasing, and each entry
 * pointing at the char itself, at the `&` of the reference it was decoded from, at the `<` of
 * the tag that produced a synthetic `\n`/`\t`, or at the CR/LF/FF rendered as a space.
 */
function expectExactMap(html: string, { text, sourceOffsets }: MarkupText): void {
  expect(sourceOffsets).toHaveLength(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const source = html[sourceOffsets[i]];
    const ok =
      source === text[i] ||
      source === '&' ||
      (source === '<' && (text[i] === '\n' || text[i] === '\t')) ||
      (text[i] === ' ' && ['\n', '\r', '\f'].includes(source));
    if (!ok) throw new Error(`text[${i}] ${JSON.stringify(text[i])} maps to ${JSON.stringify(source)}`);
    if (i > 0) expect(sourceOffsets[i]).toBeGreaterThanOrEqual(sourceOffsets[i - 1]);
  }
  expect(sourceOffsets[text.length]).toBeLessThanOrEqual(html.length);
}

describe('htmlToText', () => {
  test('paragraphs become lines and every char maps back exactly', () => {
    const html = '<p>Dx: pneumonia</p><p>Hx &amp; Px</p>';
    const result = htmlToText(html);

    expect(result.text).toBe('Dx: pneumonia\nHx & Px');
    expect(Array.from(result.sourceOffsets)).toEqual([
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      12,
      13,
      14,
      15, // Dx: pneumonia
      16, // \n at the `<` of </p>
      23,
      24,
      25, // "Hx "
      26, // & from &amp;
      31,
      32,
      33, // " Px"
      34, // end: just past the last "x"
    ]);
    expect(html.slice(26, 31)).toBe('&amp;');
    expectExactMap(html, result);
  });

  test.each<[string, string, string]>([
    [
      'script, style and title are dropped',
      '<html><head><title>Title</title><style>p { color: red }</style><script>var s = "<p>no</p>";</script></head><body><p>Keep</p><script>alert(1)</script></body></html>',
      'Keep',
    ],
    ['template content is dropped', '<p>a</p><template><p>no</p></template><p>b</p>', 'a\nb'],
    ['comments and DOCTYPE are dropped', '<!DOCTYPE html><!-- hidden --><p>a<!-- x -->b</p>', 'ab'],
    ['<br> is a line break; at most one blank line', 'a<br>b<br/>c<br><br><br><br>d', 'a\nb\nc\n\nd'],
    ['no leading line break', '<br><p>a</p>', 'a'],
    ['</br> and a stray </p> are line breaks, as in browsers', 'a</br>b</p>c', 'a\nb\nc'],
    ['an unclosed <head> without <body> keeps the note', '<html><head><title>t</title><meta charset="utf-8"><p>Dx</p>', 'Dx'],
    ['list items each on their own line', '<ul><li>one</li><li>two<li>three</ul><ol><li>four</li></ol>', 'one\ntwo\nthree\nfour'],
    ['nested blocks give one line break, not blank lines', '<div><div><p>a</p></div></div><div><h2>b</h2></div>', 'a\nb'],
    ['pretty-printed indentation is not kept at line edges', '<ul>\n  <li>one </li>\n  <li> two</li>\n</ul>\n', 'one\ntwo'],
    ['inline elements keep the text flowing', '<p><b>Dx:</b> <i>pneumonia</i></p>', 'Dx: pneumonia'],
    ['newlines inside text become spaces, runs are kept', '<p>community\nacquired   pneumonia\r\nJ18.9</p>', 'community acquired   pneumonia  J18.9'],
    ['tabs inside text are kept', '<p>a\tb</p>', 'a\tb'],
    ['<pre> keeps whitespace, less the first newline', '<p>x</p><pre>\n  a  b\n c\n</pre><p>y</p>', 'x\n  a  b\n c\ny'],
    [
      'table cells are tab-separated, rows on lines',
      '<table><tr><th>Code</th><th>Dx</th></tr><tr><td>J18.9</td><td> Pneumonia </td></tr></table>',
      'Code\tDx\nJ18.9\tPneumonia',
    ],
    ['definition lists', '<dl><dt>Dx</dt><dd>pneumonia</dd></dl>', 'Dx\npneumonia'],
    ['hr is a boundary', 'a<hr>b', 'a\nb'],
    ['&nbsp; is U+00A0, not collapsible whitespace', '<p>&nbsp;a&nbsp;&nbsp;b&nbsp;</p>', '\u00a0a\u00a0\u00a0b\u00a0'],
    ['numeric and named references', '<p>2&#x2013;3 &#8211; caf&eacute; &lt;5 &quot;x&quot; &apos;</p>', '2\u20133 \u2013 caf\u00e9 <5 "x" \''],
    ['legacy reference without semicolon', '<p>Hx &amp Px</p>', 'Hx & Px'],
    ['astral characters, literal and referenced', '<p>\u{1F600} &#x1F600;</p>', '\u{1F600} \u{1F600}'],
    ['CDATA is a comment in text/html', '<p>a<![CDATA[hidden]]>b</p>', 'ab'],
    ['unknown tags keep their text', '<custom-el>a</custom-el>', 'a'],
    ['empty document', '', ''],
  ])('%s', (_name, html, expected) => {
    const result = htmlToText(html);
    expect(result.text).toBe(expected);
    expectExactMap(html, result);
  });

  test('a reference maps all its code units to its `&`', () => {
    const html = 'x&NotEqualTilde;y&#x1F600;';
    const { text, sourceOffsets } = htmlToText(html);
    expect(text).toBe('x\u2242\u0338y\u{1F600}');
    expect(Array.from(sourceOffsets)).toEqual([0, 1, 1, 16, 17, 17, html.length]);
  });

  test('long documents keep an exact map', () => {
    const html = '<p>Dx: <b>pneumonia</b> &amp; sepsis&nbsp;J18.9</p>\n'.repeat(2000);
    const result = htmlToText(html);
    expect(result.text).toBe(Array(2000).fill('Dx: pneumonia & sepsis\u00a0J18.9').join('\n'));
    expectExactMap(html, result);
  });

  test('literal astral characters map unit by unit', () => {
    const html = '<p>\u{1F600}</p>';
    expect(Array.from(htmlToText(html).sourceOffsets)).toEqual([3, 4, 5]);
  });

  test('text after a closing tag with whitespace maps exactly (parser.startIndex would not)', () => {
    const html = '<p>a</p >&amp;b';
    const { text, sourceOffsets } = htmlToText(html);
    expect(text).toBe('a\n&b');
    expect(Array.from(sourceOffsets)).toEqual([3, 4, 9, 14, 15]);
  });

  test('synthetic line breaks and tabs map to the `<` of their tag', () => {
    const html = '<p>a</p><table><tr><td>b</td><td>c</td></tr></table><br>d';
    const { text, sourceOffsets } = htmlToText(html);
    // `<br>` after a block starts an empty line, as browsers render it.
    expect(text).toBe('a\nb\tc\n\nd');
    for (const i of [1, 3, 5, 6]) expect(html[sourceOffsets[i]]).toBe('<');
    expect(html.slice(sourceOffsets[3], sourceOffsets[3] + 4)).toBe('<td>');
    expect(html.slice(sourceOffsets[5], sourceOffsets[5] + 5)).toBe('</tr>');
    expect(html.slice(sourceOffsets[6], sourceOffsets[6] + 4)).toBe('<br>');
  });

  test('a span [s, e) of the text maps to the source [offsets[s], offsets[e])', () => {
    const html = '<p>Admitted with <b>community-acquired pneumonia</b>.</p>';
    const { text, sourceOffsets } = htmlToText(html);
    const s = text.indexOf('pneumonia');
    const e = s + 'pneumonia'.length;
    expect(html.slice(sourceOffsets[s], sourceOffsets[e])).toBe('pneumonia</b>');
    const last = text.length;
    expect(html.slice(sourceOffsets[last - 1], sourceOffsets[last])).toBe('.');
  });

  test('XHTML discharge summary with prolog, DOCTYPE and namespaces', () => {
    const xhtml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
      '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:h="http://www.w3.org/1999/xhtml" xml:lang="en">',
      '  <head>',
      '    <title>Discharge Summary</title>',
      '    <script type="text/javascript">//<![CDATA[',
      '      if (a < b) { alert("no"); }',
      '    //]]></script>',
      '  </head>',
      '  <body>',
      '    <h1>Discharge Summary</h1>',
      '    <p>Admitted with <b>community-acquired pneumonia</b>&#160;(J18.9)&nbsp;&amp; sepsis.</p>',
      '    <p/>',
      '    <h2>Hospital course</h2>',
      '    <ul>',
      '      <li>Ceftriaxone 1&#xA0;g IV daily</li>',
      '      <li>O<sub>2</sub> weaned<br/>to room air</li>',
      '    </ul>',
      '    <h:p>Follow-up <![CDATA[in 1 week; BP < 140/90]]>.</h:p>',
      '  </body>',
      '</html>',
    ].join('\n');
    const result = htmlToText(xhtml, { xhtml: true });

    expect(result.text).toBe(
      [
        'Discharge Summary',
        'Admitted with community-acquired pneumonia\u00a0(J18.9)\u00a0& sepsis.',
        'Hospital course',
        'Ceftriaxone 1\u00a0g IV daily',
        'O2 weaned',
        'to room air',
        'Follow-up in 1 week; BP < 140/90.',
      ].join('\n'),
    );
    expectExactMap(xhtml, result);
    const cdata = result.text.indexOf('in 1 week');
    expect(xhtml.slice(result.sourceOffsets[cdata], result.sourceOffsets[cdata] + 9)).toBe('in 1 week');
  });

  test('XHTML self-closing tags close, as XML requires', () => {
    // In text/html `<script/>` opens a script element that swallows the rest of the document.
    expect(htmlToText('<p>x<script/>y</p>').text).toBe('x');
    expect(htmlToText('<p>x<script/>y</p>', { xhtml: true }).text).toBe('xy');
    expect(htmlToText('<p>x<title/>y</p>', { xhtml: true }).text).toBe('xy');
  });
});

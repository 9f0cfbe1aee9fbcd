import { MAX_SUMMARY, summaryOf } from '../../../src/cds/cards';
import { escapeMarkdown, escapeMarkdownInline } from '../../../src/fhir/markdown';

const suggestion = (display: string, score = 0.873) => ({ code: 'E11.9', display, score, threshold: 0.5, evidence: [], notes: [0] });

test('summary: code, display and confidence in one sentence', () => {
  expect(summaryOf(suggestion('Type 2 diabetes mellitus without complications'))).toBe(
    'Suggested ICD-10-CM E11.9: Type 2 diabetes mellitus without complications (87% confidence)',
  );
  expect(summaryOf(suggestion('x', 0.999))).toContain('(99% confidence)');
});

test('summary: a long display is shortened so the summary stays under 140 characters', () => {
  const summary = summaryOf(suggestion('Very long display '.repeat(20)));
  expect(Array.from(summary).length).toBeLessThanOrEqual(MAX_SUMMARY);
  expect(Array.from(summary).length).toBeGreaterThan(MAX_SUMMARY - 3);
  expect(summary).toMatch(/^Suggested ICD-10-CM E11\.9: Very long display .*\S… \(87% confidence\)$/);
});

test.each([
  [
    '*bold* _it_ `code` <b>x</b> [a](b) ![i](j) &amp; ~~s~~ | # 1. -',
    '\\*bold\\* \\_it\\_ \\`code\\` \\<b\\>x\\<\\/b\\> \\[a\\]\\(b\\) \\!\\[i\\]\\(j\\) \\&amp\\; \\~\\~s\\~\\~ \\| \\# 1\\. \\-',
  ],
  ['line one\n\nline two', 'line one line two'],
])('escapeMarkdown(%j)', (text, expected) => {
  expect(escapeMarkdown(text)).toBe(expected);
});

test('escapeMarkdownInline keeps ordinary punctuation readable', () => {
  expect(escapeMarkdownInline('Dx: COPD (acute), 5.5 mg/kg; <script> & *x*')).toBe('Dx: COPD (acute), 5.5 mg/kg; \\<script\\> \\& \\*x\\*');
});

test('summary of a refinement: names the recorded code it refines, and still fits', () => {
  const refinement = { ...suggestion('Type 2 diabetes mellitus with hyperglycemia'), code: 'E11.65', refines: [{ code: 'E11.9', reference: 'Condition/c1' }] };
  expect(summaryOf(refinement)).toBe('Refine recorded E11.9 → ICD-10-CM E11.65: Type 2 diabetes mellitus with hyperglycemia (87% confidence)');
  const long = { ...refinement, code: 'S72.001A', display: 'Very long display '.repeat(20), refines: [{ code: 'S72.001' }] };
  expect(Array.from(summaryOf(long)).length).toBeLessThanOrEqual(MAX_SUMMARY);
  expect(summaryOf(long)).toMatch(/^Refine recorded S72\.001 → ICD-10-CM S72\.001A: Very long display .*\S… \(87% confidence\)$/);
});

/**
 * Escaping note text for Markdown fields (CDS card `detail` is GitHub-Flavored Markdown,
 * FHIR Annotation.text is markdown). Quoted note text must render as the characters it is,
 * and must never become HTML, a link or an image.
 */

// GFM lets a backslash escape any ASCII punctuation; escaping all of it also neutralises
// block syntax ("1." lists, "#" headings) where a quote starts a line, e.g. after "> ".
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;
// Inside a line (never at its start) only inline syntax matters: emphasis, code, links,
// images, raw HTML, entities, strikethrough, table pipes.
const INLINE_SYNTAX = /[\\`*_[\]<>&~|!]/g;

/**
 * Escapes text for a Markdown block that renders it literally (card detail).
 * @param text - untrusted text (from the note)
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/gu, ' ').replace(ASCII_PUNCTUATION, (c) => `\\${c}`);
}

/**
 * Escapes text placed inside a line of Markdown, keeping it readable where systems show
 * the raw text (FHIR Annotation.text is often displayed without rendering).
 * @param text - untrusted text (from the note)
 */
export function escapeMarkdownInline(text: string): string {
  return text.replace(/\s+/gu, ' ').replace(INLINE_SYNTAX, (c) => `\\${c}`);
}

/**
 * The Note: decoded text of one document, as the classifier reads it, and where it came from.
 * Internal type: no FHIR or CDS shapes; the edges build it and map results back.
 */

/** Where a note's text came from, in words the edges can turn back into references. */
export interface NoteSource {
  /** Relative reference of the document, e.g. `DocumentReference/123`, when it has an id. */
  reference?: string;
  /** Business identifier of the document when it has no id. */
  identifier?: { system?: string; value: string };
  /** Human label, e.g. "Discharge summary 2026-11-25". */
  display: string;
  /** Index of the content element whose attachment was decoded. */
  contentIndex: number;
  /** Media type essence of the attachment, e.g. `text/plain`. */
  contentType: string;
}

export interface Note {
  /** The decoded text. Evidence offsets index into exactly this string. */
  text: string;
  source: NoteSource;
  /** For markup sources: `sourceOffsets[i]` is the index in the decoded markup of text char i. */
  sourceOffsets?: Int32Array;
}

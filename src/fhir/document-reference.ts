/**
 * DocumentReference → Note, and which documents of a set to read.
 *
 * Picks the best attachment (inline data first, in a supported text format), decodes it
 * (note/attachment.ts), and applies R4's status semantics: entered-in-error is never read,
 * a superseded document gives way to the document that replaces it.
 */
import type { Attachment, DocumentReference, Reference } from '@medplum/fhirtypes';
import { badRequest, payloadTooLarge, unprocessable } from '../errors';
import { decodeAttachmentData, SUPPORTED_NOTE_TYPES } from '../note/attachment';
import { parseMediaType } from '../note/media-type';
import type { Note } from '../note/note';

/** Fetches a `url` attachment (CDS edge only: from the hook's own FHIR server). */
export type AttachmentFetcher = (url: string) => Promise<{ contentType: string; data: string }>;

export interface NoteOptions {
  /** Largest decoded attachment, in bytes. */
  maxBytes: number;
  /** Largest note text, in characters. */
  maxNoteChars: number;
  /** Absent at the FHIR edge: `url`-only attachments are then unsupported. */
  fetchAttachment?: AttachmentFetcher;
}

export interface DocumentChoice {
  /** Indexes of the documents to read, in the given order. */
  use: number[];
  /** Why each other document was left out, and warnings about used ones (no PHI). */
  notices: { index: number; text: string; skipped: boolean }[];
}

/**
 * Chooses which documents of a set to read.
 * @param docs - DocumentReferences (e.g. a discharge summary and its addenda)
 */
export function chooseDocuments(docs: readonly DocumentReference[]): DocumentChoice {
  const inError = (d: DocumentReference) => d.status === 'entered-in-error' || d.docStatus === 'entered-in-error';
  // Documents replaced by another document of the set ("replaces": the target is obsolete).
  const replaced = new Set<string>();
  for (const d of docs) {
    if (inError(d)) continue;
    for (const relation of d.relatesTo ?? []) {
      if (relation.code === 'replaces' && relation.target?.reference) replaced.add(idOf(relation.target.reference));
    }
  }
  const choice: DocumentChoice = { use: [], notices: [] };
  docs.forEach((d, index) => {
    if (inError(d)) {
      choice.notices.push({ index, skipped: true, text: 'document is entered-in-error' });
    } else if (d.id && replaced.has(d.id)) {
      choice.notices.push({ index, skipped: true, text: 'document is replaced by another document of the request' });
    } else {
      if (d.status === 'superseded') {
        choice.notices.push({ index, skipped: false, text: 'document is superseded but its replacement was not provided' });
      }
      if (d.docStatus === 'preliminary') {
        choice.notices.push({ index, skipped: false, text: 'document is preliminary (may be incomplete)' });
      }
      choice.use.push(index);
    }
  });
  return choice;
}

/** The id in a reference such as `DocumentReference/12`, `https://x/fhir/DocumentReference/12/_history/3`. */
export function idOf(reference: string): string {
  const match = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return match ? match[2] : reference;
}

/** `Type/id` of a reference, if it names one (absolute and versioned forms accepted). */
export function typedIdOf(reference: Reference | undefined): string | undefined {
  const match = reference?.reference && /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference.reference);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/**
 * Decodes the note of a DocumentReference.
 * @param doc - the document
 * @param options - limits and the optional url fetcher
 * @param expression - FHIRPath of the document in the request, for error messages
 * @throws OperationOutcomeError 400 (att-1), 413 (too large), 422 (no supported attachment)
 */
export async function noteOf(doc: DocumentReference, options: NoteOptions, expression = 'DocumentReference'): Promise<Note> {
  const contents = doc.content ?? [];
  contents.forEach((c, i) => {
    // R4 att-1: "If the Attachment has data, it SHALL have a contentType".
    if (c.attachment?.data !== undefined && !c.attachment.contentType) {
      throw badRequest('An attachment with data must have a contentType (att-1)', `${expression}.content[${i}].attachment`, 'invariant');
    }
  });
  const supported = (a: Attachment) => !a.contentType || SUPPORTED_NOTE_TYPES.includes(parseMediaType(a.contentType).essence);
  const inline = contents.findIndex((c) => c.attachment?.data !== undefined && supported(c.attachment));
  const byUrl = options.fetchAttachment ? contents.findIndex((c) => c.attachment?.data === undefined && c.attachment?.url && supported(c.attachment)) : -1;
  const index = inline >= 0 ? inline : byUrl;
  if (index < 0) {
    // Media type essences only: parameters (e.g. `name="<patient> discharge.pdf"`) are free text.
    const types = [...new Set(contents.map((c) => essenceOf(c.attachment?.contentType)).filter(Boolean))];
    const urlOnly = contents.some((c) => c.attachment?.url && c.attachment.data === undefined);
    throw unprocessable(
      `No attachment of the document can be read: ${types.length ? `content type ${types.join(', ')} is not supported` : 'no valid content type given'}` +
        `${urlOnly && !options.fetchAttachment ? '; attachments given only by url are not fetched here, send the content inline as data' : ''}` +
        ` (supported: ${SUPPORTED_NOTE_TYPES.join(', ')})`,
      'not-supported',
      `${expression}.content`,
    );
  }
  const attachment = contents[index].attachment!;
  const { data, contentType } =
    attachment.data !== undefined ? { data: attachment.data, contentType: attachment.contentType! } : await options.fetchAttachment!(attachment.url!);
  const decoded = decodeAttachmentData(data, contentType, { maxBytes: options.maxBytes });
  if (decoded.text.length > options.maxNoteChars) {
    throw payloadTooLarge(`The note has ${decoded.text.length} characters; the limit is ${options.maxNoteChars}`);
  }
  if (decoded.text.trim() === '') {
    throw unprocessable('The document has no text', 'processing', `${expression}.content[${index}].attachment`);
  }
  const typeText = doc.type?.text ?? doc.type?.coding?.find((c) => c.display)?.display ?? 'Clinical note';
  const date = doc.date?.slice(0, 10);
  const businessId = doc.masterIdentifier ?? doc.identifier?.[0];
  return {
    text: decoded.text,
    sourceOffsets: decoded.sourceOffsets,
    source: {
      reference: doc.id ? `DocumentReference/${doc.id}` : undefined,
      identifier: !doc.id && businessId?.value ? { system: businessId.system, value: businessId.value } : undefined,
      display: date ? `${typeText} ${date}` : typeText,
      contentIndex: index,
      contentType: decoded.contentType,
    },
  };
}

/** The essence (`type/subtype`) of a contentType, or undefined when it is absent or not a media type. */
function essenceOf(contentType: string | undefined): string | undefined {
  try {
    return contentType ? parseMediaType(contentType).essence : undefined;
  } catch {
    return undefined;
  }
}

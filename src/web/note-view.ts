/**
 * The note with every card's evidence as <mark> elements, each followed by a status badge per
 * passage ending there ("I10 · historical"), so the assertion status is text, not colour alone.
 */
import { segmentsOf, type Passage } from './evidence.js';

/**
 * Fills `view` with the note and its marks.
 * @param view - the <pre> element
 * @param note - the note text sent to the service
 * @param passages - every card's passages
 * @returns the mark elements of each passage id
 */
export function renderNote(view: HTMLElement, note: string, passages: readonly Passage[]): Map<string, HTMLElement[]> {
  const byId = new Map(passages.map((p) => [p.id, p]));
  const marks = new Map<string, HTMLElement[]>(passages.map((p) => [p.id, []]));
  const fragment = document.createDocumentFragment();
  for (const segment of segmentsOf(note.length, passages)) {
    const text = note.slice(segment.start, segment.end);
    if (segment.passages.length === 0) {
      fragment.appendChild(document.createTextNode(text));
      continue;
    }
    const covering = segment.passages.map((id) => byId.get(id)!);
    const statuses = [...new Set(covering.map((p) => p.status))];
    const mark = document.createElement('mark');
    mark.textContent = text;
    mark.dataset.passages = segment.passages.join(' ');
    mark.dataset.status = statuses.length === 1 ? statuses[0] : 'mixed';
    mark.className = `status-${mark.dataset.status}`;
    mark.tabIndex = -1;
    mark.title = covering.map((p) => `${p.code}: ${p.context}`).join('\n');
    fragment.appendChild(mark);
    for (const p of covering) marks.get(p.id)!.push(mark);
    for (const p of covering.filter((c) => c.end === segment.end)) {
      const badge = document.createElement('span');
      badge.className = `badge status-${p.status}`;
      badge.dataset.passage = p.id;
      badge.textContent = `${p.code} · ${p.status === 'undetermined' ? 'status not determined' : p.status}`;
      fragment.appendChild(badge);
    }
  }
  view.replaceChildren(fragment);
  return marks;
}

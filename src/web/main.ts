/**
 * The review page (served at GET /): the note form, the hook call, the cards beside the note
 * with its evidence highlighted, and feedback. Talks only to the service that serves it.
 * The note and the bearer token live in this page's memory only (no storage, no cookies).
 */
import { describeFailure, postJson, type Answer } from './api.js';
import { cardView, renderCard, setBusy, showFeedback, type CardView } from './cards.js';
import { codePointBoundaries, evidenceOf, type CardEvidence, type Passage } from './evidence.js';
import { DOCUMENT_REF, SERVICE_ID, feedbackBody, hookRequest, type Reason } from './hook-request.js';
import { noteFromFile } from './note-file.js';
import { renderNote } from './note-view.js';

const MAX_FILE_BYTES = 10 * 1024 * 1024;

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

const form = byId<HTMLFormElement>('note-form');
const noteInput = byId<HTMLTextAreaElement>('note-input');
const fileInput = byId<HTMLInputElement>('note-file');
const submit = byId<HTMLButtonElement>('analyse');
const result = byId<HTMLElement>('note-result');
const noteView = byId<HTMLElement>('note-view');
const editNote = byId<HTMLButtonElement>('edit-note');
const cardsHeading = byId<HTMLElement>('cards-heading');
const cardList = byId<HTMLOListElement>('cards');
const statusLine = byId<HTMLElement>('status');
const errorLine = byId<HTMLElement>('error');
const auth = byId<HTMLDetailsElement>('auth');
const tokenInput = byId<HTMLInputElement>('token');

interface State {
  views: CardView[];
  evidence: CardEvidence[];
  items: HTMLLIElement[];
  marks: Map<string, HTMLElement[]>;
  selected?: number;
}
let state: State = { views: [], evidence: [], items: [], marks: new Map() };

const token = () => tokenInput.value.trim();

function say(message: string): void {
  statusLine.textContent = message;
}

function fail(message: string): void {
  errorLine.textContent = message;
  errorLine.hidden = message === '';
}

/**
 * 401: say why in words and take the user to the token field. With auth on, the service takes
 * CDS client JWTs only, each for one call: `aud` names the URL called and a `jti` is accepted
 * once (README "Security model"), so a refused token is usually a used or mis-addressed one.
 */
function unauthorized(answer: Answer, what: string, path: string, sentToken: boolean): string {
  auth.open = true;
  tokenInput.focus();
  tokenInput.select();
  const reason = answer.issues.length > 0 ? ` (${answer.issues.join('; ')})` : '';
  const aud = new URL(path, document.baseURI).href;
  return sentToken
    ? `${what}: 401 Unauthorized${reason}. The service refused the bearer token. Its tokens are single-use JWTs of a trusted CDS client: paste a fresh one whose aud is ${aud} and try again.`
    : `${what}: 401 Unauthorized${reason}. The service requires authentication: enter a bearer token under "Authentication" (a JWT whose aud is ${aud}) and try again.`;
}

function clearResults(): void {
  state = { views: [], evidence: [], items: [], marks: new Map() };
  cardList.replaceChildren();
  noteView.replaceChildren();
}

async function analyse(): Promise<void> {
  fail('');
  const note = noteInput.value;
  if (note.trim() === '') {
    fail('Paste a note or load a file first.');
    noteInput.focus();
    return;
  }
  submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  say('Asking the service for suggestions…');
  const path = `cds-services/${SERVICE_ID}`;
  const sentToken = token();
  let answer: Answer;
  try {
    answer = await postJson(path, hookRequest(note, new Date()), sentToken);
  } catch {
    say('');
    fail('The service could not be reached.');
    return;
  } finally {
    submit.disabled = false;
    form.removeAttribute('aria-busy');
  }
  const cards = (answer.body as { cards?: unknown } | undefined)?.cards;
  if (!answer.ok || !Array.isArray(cards)) {
    say('');
    fail(
      answer.status === 401
        ? unauthorized(answer, 'No suggestions', path, sentToken !== '')
        : answer.ok
          ? 'The service answered without cards.'
          : `No suggestions: the service answered ${describeFailure(answer)}.`,
    );
    return;
  }
  showResults(note, cards);
}

function showResults(note: string, cards: unknown[]): void {
  clearResults();
  const boundaries = codePointBoundaries(note);
  state.views = cards.map(cardView);
  state.evidence = cards.map((card, i) => evidenceOf(card, i, boundaries, DOCUMENT_REF));
  state.marks = renderNote(
    noteView,
    note,
    state.evidence.flatMap((e) => e.passages),
  );
  state.items = state.views.map((view, i) => renderCard(view, i, state.evidence[i], { select, showPassage, accept, reject }));
  cardList.replaceChildren(...state.items);
  form.hidden = true;
  result.hidden = false;
  say(
    cards.length === 0
      ? 'The service made no suggestions for this note.'
      : `${cards.length} suggestion${cards.length === 1 ? '' : 's'}. Select a card to highlight its evidence in the note.`,
  );
  cardsHeading.focus();
}

function passagesOf(index: number): Passage[] {
  return state.evidence[index]?.passages ?? [];
}

/**
 * Selects a card: its passages are highlighted and the first is scrolled into view.
 * @param index - the card
 */
function select(index: number): void {
  state.selected = index;
  const chosen = new Set(passagesOf(index).map((p) => p.id));
  state.items.forEach((item, i) => {
    item.querySelector('article')?.classList.toggle('selected', i === index);
    item.querySelector('.card-select')?.setAttribute('aria-pressed', String(i === index));
  });
  noteView.classList.add('has-selection');
  for (const mark of noteView.querySelectorAll<HTMLElement>('mark')) {
    mark.classList.toggle(
      'selected',
      (mark.dataset.passages ?? '').split(' ').some((id) => chosen.has(id)),
    );
  }
  for (const badge of noteView.querySelectorAll<HTMLElement>('.badge')) badge.classList.toggle('selected', chosen.has(badge.dataset.passage ?? ''));
  const first = state.marks.get(passagesOf(index)[0]?.id ?? '')?.[0];
  if (first) centreInNote(first);
  const n = chosen.size;
  const code = state.evidence[index]?.code || 'this card';
  say(n === 0 ? `${code}: no passage of the note is quoted.` : `${code}: ${n} passage${n === 1 ? '' : 's'} highlighted in the note.`);
}

/**
 * Scrolls the note (only the note: the card being selected stays where it is) so that `mark`
 * is in the middle of it.
 */
function centreInNote(mark: HTMLElement): void {
  const view = noteView.getBoundingClientRect();
  const box = mark.getBoundingClientRect();
  noteView.scrollTop += box.top - view.top - (view.height - box.height) / 2;
}

/** Scrolls to one passage and moves focus to it (marks are focusable with tabindex -1). */
function showPassage(index: number, passageId: string): void {
  if (state.selected !== index) select(index);
  const mark = state.marks.get(passageId)?.[0];
  if (!mark) return;
  mark.scrollIntoView({ block: 'center', inline: 'nearest' });
  mark.focus({ preventScroll: true });
}

async function sendFeedback(index: number, body: object, outcome: 'accepted' | 'overridden'): Promise<void> {
  const item = state.items[index];
  setBusy(item, true);
  const path = `cds-services/${SERVICE_ID}/feedback`;
  const sentToken = token();
  let answer: Answer;
  try {
    answer = await postJson(path, body, sentToken);
  } catch {
    setBusy(item, false);
    showFeedback(item, 'Feedback not stored: the service could not be reached.');
    return;
  }
  setBusy(item, false);
  if (answer.ok) {
    showFeedback(item, `Feedback stored: ${outcome === 'accepted' ? 'accepted' : 'rejected (overridden)'} (HTTP ${answer.status}).`, outcome);
  } else {
    showFeedback(
      item,
      answer.status === 401
        ? unauthorized(answer, 'Feedback not stored', path, sentToken !== '')
        : `Feedback not stored: the service answered ${describeFailure(answer)}.`,
    );
  }
}

function accept(index: number): void {
  const view = state.views[index];
  if (!view?.suggestion) return;
  void sendFeedback(index, feedbackBody(view.uuid, { accepted: view.suggestion.uuid }, new Date()), 'accepted');
}

function reject(index: number, reason: Reason | undefined, comment: string): void {
  const view = state.views[index];
  if (!view) return;
  void sendFeedback(index, feedbackBody(view.uuid, { overridden: { reason, comment } }, new Date()), 'overridden');
}

/** Clicking a mark selects its card (the next one, when several cards quote the passage). */
noteView.addEventListener('click', (event) => {
  const mark = (event.target as Element).closest('mark');
  if (!mark) return;
  const cards = [...new Set((mark.dataset.passages ?? '').split(' ').map((id) => Number(/^c(\d+)p/.exec(id)?.[1])))].filter(Number.isInteger);
  if (cards.length === 0) return;
  const next = cards[(cards.indexOf(state.selected ?? -1) + 1) % cards.length];
  select(next);
  state.items[next]?.querySelector<HTMLElement>('.card-select')?.focus();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void analyse();
});

editNote.addEventListener('click', () => {
  clearResults();
  result.hidden = true;
  form.hidden = false;
  fail('');
  say('Edit the note, then get suggestions again.');
  noteInput.focus();
});

fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  fail('');
  if (file.size > MAX_FILE_BYTES) {
    fail(`${file.name} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB.`);
    return;
  }
  try {
    noteInput.value = noteFromFile(file.name, await file.text());
    say(`Loaded ${file.name} (${noteInput.value.length} characters). Review it, then get suggestions.`);
  } catch (error) {
    fail(`${file.name}: ${(error as Error).message}`);
  }
  fileInput.value = '';
});

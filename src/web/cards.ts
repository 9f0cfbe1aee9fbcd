/**
 * One CDS Hooks card as an EHR shows it (CDS Hooks 2.0 §Card Attributes): indicator, summary,
 * detail (Markdown rendered with DOM APIs only), source label, the suggestion button, and
 * the override reasons offered when rejecting. The card JSON is untrusted: every field is
 * checked for its type and shown as text.
 */
import type { CardEvidence } from './evidence.js';
import type { Reason } from './hook-request.js';
import { parseMarkdown } from './markdown.js';
import { renderMarkdown } from './render-markdown.js';

export interface CardView {
  uuid: string;
  summary: string;
  indicator: 'info' | 'warning' | 'critical';
  detail: string;
  source: string;
  suggestion?: { label: string; uuid: string };
  overrideReasons: Reason[];
  /** §Link: only absolute http(s) URLs get a link; anything else (javascript:, data:, SMART launch) is shown as text. */
  links: { label: string; url?: string }[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The URL when it is absolute http(s), else undefined. */
function webUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fields the page shows, read defensively.
 * @param card - one element of the response's `cards`
 */
export function cardView(card: unknown): CardView {
  // A tolerant reader of untrusted JSON: every field is checked before it is used.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const c = (card && typeof card === 'object' ? card : {}) as Record<string, any>;
  const suggestion = Array.isArray(c.suggestions) ? c.suggestions[0] : undefined;
  const indicator = ['info', 'warning', 'critical'].includes(c.indicator) ? c.indicator : 'info';
  return {
    uuid: str(c.uuid),
    summary: str(c.summary) || '(card without a summary)',
    indicator,
    detail: str(c.detail),
    source: str(c.source?.label),
    suggestion: suggestion && str(suggestion.label) ? { label: str(suggestion.label), uuid: str(suggestion.uuid) } : undefined,
    overrideReasons: (Array.isArray(c.overrideReasons) ? c.overrideReasons : [])
      .filter((r: any) => r && typeof r.code === 'string' && typeof r.system === 'string')
      .map((r: any) => ({ system: r.system, code: r.code, display: str(r.display) || r.code })),
    links: (Array.isArray(c.links) ? c.links : []).filter((l: any) => str(l?.label)).map((l: any) => ({ label: str(l.label), url: webUrl(l.url) })),
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

export interface CardHandlers {
  select(index: number): void;
  showPassage(index: number, passageId: string): void;
  accept(index: number): void;
  reject(index: number, reason: Reason | undefined, comment: string): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const INDICATOR_LABEL = { info: 'Info', warning: 'Warning', critical: 'Critical' } as const;

/**
 * Builds the list item of one card.
 * @param view - cardView(card)
 * @param index - the card's position
 * @param evidence - its passages in the note
 * @param on - what the card's controls do
 */
export function renderCard(view: CardView, index: number, evidence: CardEvidence, on: CardHandlers): HTMLLIElement {
  const id = `card-${index}`;
  const select = el('button', { type: 'button', className: 'card-select', id: `${id}-select` }, view.summary);
  select.setAttribute('aria-pressed', 'false');
  select.setAttribute('aria-controls', 'note-view');
  select.addEventListener('click', () => on.select(index));

  const article = el('article', { className: `card indicator-${view.indicator}` });
  article.setAttribute('aria-labelledby', `${id}-select`);
  article.dataset.card = String(index);
  article.append(el('p', { className: `indicator indicator-${view.indicator}` }, INDICATOR_LABEL[view.indicator]), el('h3', { className: 'summary' }, select));
  if (view.detail) article.append(el('div', { className: 'detail' }, renderMarkdown(parseMarkdown(view.detail))));

  if (evidence.passages.length > 0 || evidence.unplaced > 0) {
    const list = el('ul', { className: 'passages' });
    for (const p of evidence.passages) {
      const button = el(
        'button',
        { type: 'button', className: 'passage-link' },
        `Passage ${p.index + 1} `,
        el('span', { className: `badge status-${p.status}` }, p.status === 'undetermined' ? 'status not determined' : p.status),
      );
      button.dataset.passage = p.id;
      button.addEventListener('click', () => on.showPassage(index, p.id));
      list.append(el('li', {}, button));
    }
    if (evidence.unplaced > 0) list.append(el('li', { className: 'unplaced' }, `${evidence.unplaced} passage(s) could not be placed in this note`));
    article.append(el('h4', { className: 'visually-hidden' }, `Evidence for ${evidence.code || view.summary}`), list);
  }
  if (view.links.length > 0) {
    article.append(
      el(
        'ul',
        { className: 'links' },
        ...view.links.map((link) =>
          el(
            'li',
            {},
            link.url
              ? el('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer' }, link.label)
              : `${link.label} (link not shown: only http and https links are opened)`,
          ),
        ),
      ),
    );
  }
  if (view.source) article.append(el('p', { className: 'source' }, 'Source: ', el('span', {}, view.source)));

  const status = el('p', { className: 'feedback-status' });
  status.setAttribute('role', 'status');
  const actions = el('div', { className: 'actions' });
  const controls: HTMLButtonElement[] = [];
  if (view.suggestion) {
    const accept = el('button', { type: 'button', className: 'accept' }, el('span', { className: 'verb' }, 'Accept: '), view.suggestion.label);
    accept.addEventListener('click', () => on.accept(index));
    actions.append(accept);
    controls.push(accept);
  }
  const form = el('form', { className: 'override-form', id: `${id}-override`, hidden: true });
  const reject = el('button', { type: 'button', className: 'reject' }, 'Reject…');
  reject.setAttribute('aria-expanded', 'false');
  reject.setAttribute('aria-controls', form.id);
  actions.append(reject);
  controls.push(reject);

  const fieldset = el('fieldset', {}, el('legend', {}, `Why reject ${evidence.code || 'this suggestion'}?`));
  view.overrideReasons.forEach((reason, i) => {
    const radio = el('input', { type: 'radio', name: `${id}-reason`, value: String(i), id: `${id}-reason-${i}`, required: true });
    fieldset.append(el('div', { className: 'reason' }, radio, el('label', { htmlFor: radio.id }, reason.display ?? reason.code)));
  });
  const comment = el('textarea', { id: `${id}-comment`, rows: 2, maxLength: 500 });
  const send = el('button', { type: 'submit' }, 'Send rejection');
  const cancel = el('button', { type: 'button', className: 'secondary' }, 'Cancel');
  form.append(fieldset, el('label', { htmlFor: comment.id }, 'Comment (optional)'), comment, el('div', { className: 'actions' }, send, cancel));
  controls.push(send);

  const toggle = (open: boolean) => {
    form.hidden = !open;
    reject.setAttribute('aria-expanded', String(open));
    if (open) (form.querySelector('input') ?? comment).focus();
    else reject.focus();
  };
  reject.addEventListener('click', () => toggle(form.hidden));
  cancel.addEventListener('click', () => toggle(false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const picked = form.querySelector<HTMLInputElement>('input[type=radio]:checked');
    on.reject(index, picked ? view.overrideReasons[Number(picked.value)] : undefined, comment.value.trim());
  });

  // A click anywhere on the card that is not on a control selects it (mouse convenience; the
  // summary button is the keyboard path).
  article.addEventListener('click', (event) => {
    if (!(event.target as Element).closest('button, input, textarea, label, form, a')) on.select(index);
  });
  article.append(actions, form, status);
  const item = el('li', {}, article);
  cardControls.set(item, { controls, status, form });
  return item;
}

const cardControls = new WeakMap<HTMLLIElement, { controls: HTMLButtonElement[]; status: HTMLElement; form: HTMLFormElement }>();

/**
 * Shows the service's answer to a card's feedback; a stored outcome closes the card's controls.
 * @param item - the card's list item
 * @param message - what to show
 * @param done - the outcome, when the service stored it
 */
export function showFeedback(item: HTMLLIElement, message: string, done?: 'accepted' | 'overridden'): void {
  const parts = cardControls.get(item);
  if (!parts) return;
  parts.status.textContent = message;
  parts.status.className = `feedback-status ${done ? 'stored' : 'failed'}`;
  if (done) {
    for (const c of parts.controls) c.disabled = true;
    parts.form.hidden = true;
    item.querySelector('article')?.classList.add(`decided`, done);
  }
}

/**
 * Marks the card being busy sending feedback.
 * @param item - the card's list item
 * @param busy - whether a request is under way
 */
export function setBusy(item: HTMLLIElement, busy: boolean): void {
  const parts = cardControls.get(item);
  if (!parts) return;
  for (const c of parts.controls) c.disabled = busy;
  if (busy) {
    parts.status.textContent = 'Sending feedback…';
    parts.status.className = 'feedback-status';
  }
}

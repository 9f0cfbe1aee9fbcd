/**
 * Assertion status of one mention inside one passage: is the condition present, negated,
 * historical, about someone else, hypothetical or uncertain? ConText-style rules (triggers with
 * a direction and a scope, pseudo-triggers, termination terms) written for this project and
 * kept as data in ASSERTION_RULES. Pure: no I/O; the rules are compiled once at load.
 *
 * The method follows NegEx (Chapman et al. 2001, https://doi.org/10.1006/jbin.2001.1029) and
 * ConText (Harkema et al. 2009, https://doi.org/10.1016/j.jbi.2009.05.002); the phrases and
 * the scope rules below are our own.
 */
import type { Span } from './passages';

/**
 * What the passage says about the mention.
 *
 * `uncertain` and `hypothetical` are kept apart because ICD-10-CM treats them differently:
 * for inpatient admissions a diagnosis qualified at discharge as "probable", "suspected",
 * "likely", "possible", "still to be ruled out", "consistent with"… is coded as if it existed
 * (Official Guidelines FY2025, Section II.H and Section III.C), whereas a condition that is
 * only conditional, future or being prevented ("return if fever develops", "DVT prophylaxis")
 * is never coded. Outpatient coding (Section IV.H) codes neither, so a consumer that serves
 * both settings needs the difference too.
 *
 * `family` means the experiencer is someone other than the patient: a relative, or a spouse or
 * partner. Only the former can support a family-history Z code (Z80–Z84).
 */
export type AssertionStatus = 'present' | 'negated' | 'historical' | 'family' | 'hypothetical' | 'uncertain';

/** Statuses a trigger can assign. */
export type TriggerFamily = Exclude<AssertionStatus, 'present'>;

/** Where the mention sits relative to a trigger for the trigger to apply. */
export type Direction = 'forward' | 'backward' | 'bidirectional';

/**
 * One row of the rule table.
 *
 * `phrase` syntax, matched case-insensitively on word boundaries:
 * - words separated by one space match any run of white space or a hyphen ("gram negative"
 *   also matches "Gram-negative");
 * - `(a|b)` is a required choice and `[a|b]` an optional one; `_` inside a choice is a space;
 * - `<relative>` is any word of RELATIVES, optionally preceded by "maternal" or "paternal";
 * - `#` is a number; `…` is a gap of up to GAP_WORDS words that may hold the mention
 *   ("should … develop" covers "should fever develop").
 */
export interface AssertionRule {
  phrase: string;
  /** A trigger's status, or a `pseudo`-trigger (blocks the triggers it overlaps), or a `termination` term (ends scopes). */
  family: TriggerFamily | 'pseudo' | 'termination';
  /** Triggers only. */
  direction?: Direction;
  /** Triggers only: a tighter scope window, in words, than MAX_SCOPE_WORDS. */
  window?: number;
  /** Termination terms only: the families whose scope it ends; all when absent. */
  ends?: readonly TriggerFamily[];
}

export interface Assertion {
  status: AssertionStatus;
  /** The trigger that decided the status, with offsets into the passage; absent when present. */
  trigger?: { text: string; start: number; end: number };
}

export interface AssertionOptions {
  /** Scope window in words (default MAX_SCOPE_WORDS). */
  maxScopeWords?: number;
}

/**
 * A trigger reaches at most this many words past itself (NegEx used 5 terms, ConText the
 * whole sentence). Eight keeps "no fever on admission and was treated … for pneumonia" from
 * negating the pneumonia while still covering "no evidence of deep vein thrombosis or …".
 * Coordinated lists are exempt (see LIST_ITEM_WORDS): review-of-systems lines run longer.
 */
export const MAX_SCOPE_WORDS = 8;

/** A forward scope runs past the window through a list whose items have at most this many words. */
export const LIST_ITEM_WORDS = 4;

/** Words a `…` gap may span. */
export const GAP_WORDS = 4;

/**
 * When several triggers reach a mention, the first status here wins. The order goes from
 * "supports no code for this patient" to "supports a code": a card must never quote a passage
 * as stronger evidence than it is. So "No family history of X" and "Mother denies X" are
 * negated (the relative does not have it either: not even a family-history code), "Father with
 * history of MI" is family (history of a relative is still the relative's), and "History of
 * possible seizure" is historical (the possible seizure is in the past).
 */
export const STATUS_PRECEDENCE: readonly TriggerFamily[] = ['negated', 'family', 'hypothetical', 'historical', 'uncertain'];

/** Relatives and partners whose conditions are not the patient's. */
export const RELATIVES: readonly string[] = [
  'mother',
  'father',
  'mom',
  'dad',
  'parent',
  'parents',
  'sister',
  'sisters',
  'brother',
  'brothers',
  'sibling',
  'siblings',
  'son',
  'sons',
  'daughter',
  'daughters',
  'grandmother',
  'grandfather',
  'grandparent',
  'grandparents',
  'grandma',
  'grandpa',
  'aunt',
  'aunts',
  'uncle',
  'uncles',
  'cousin',
  'cousins',
  'niece',
  'nieces',
  'nephew',
  'nephews',
  'relatives',
  'family member',
  'family members',
  'first degree relative',
  'first degree relatives',
  'husband',
  'wife',
  'spouse',
  'partner',
  // Not "relative" ("relative adrenal insufficiency"), "twin" ("twin pregnancy") or "child"
  // (in paediatric notes the child is the patient).
];

const rules = (family: AssertionRule['family'], direction: Direction | undefined, phrases: string[], extra: Partial<AssertionRule> = {}): AssertionRule[] =>
  phrases.map((phrase) => ({ phrase, family, ...(direction ? { direction } : {}), ...extra }));

const NOT_VERBS = "(isn't|wasn't|aren't|weren't|doesn't|didn't|don't|hasn't|haven't|hadn't|won't|cannot_have)";
const POSSESSIVE = "[his|her|the|their|a|patient's|the_patient's|both]";

/** The rule table, as data so that docs can list it. */
export const ASSERTION_RULES: readonly AssertionRule[] = Object.freeze([
  // Negation.
  ...rules('negated', 'forward', [
    'no',
    'not',
    'never',
    'neither',
    'nor',
    'without',
    'w/o',
    'denies',
    'deny',
    'denying',
    'negative for',
    'neg for',
    'no evidence of',
    'no sign of',
    'no signs of',
    'free of',
    'absence of',
    'rules out',
    'no longer',
    'none of',
    'nothing to suggest',
    '(fails|failed) to (reveal|show|demonstrate)',
    'doubt',
    NOT_VERBS,
  ]),
  ...rules('negated', 'bidirectional', [
    'denied',
    'ruled out',
    '(discarded|excluded)',
    'unlikely',
    'less likely',
    'doubtful',
    // Machine-translated notes put the negated verb after the finding as often as before it.
    'not (present|seen|found|observed|detected|identified|noted|appreciated|reported|referred|demonstrated|visualized|evident)',
  ]),
  ...rules('negated', 'backward', ['negative', 'absent'], { window: 4 }),
  ...rules('negated', 'backward', [': (no|none|negative|denies|denied|absent)']),

  // History.
  ...rules('historical', 'forward', [
    'history of',
    'hx of',
    'h/o',
    'hx',
    'past history of',
    'past medical history',
    'past medical history of',
    'medical history of',
    'history (significant|notable) for',
    'pmh',
    'pmhx',
    'pmh of',
    'pmh significant for',
    'known history of',
    'personal history of',
    'remote history of',
    'remote',
    'previous',
    'previously',
    'prior',
    'former',
    'formerly',
    'status post',
    's/p',
    '[personal] (antecedent|antecedents) of',
  ]),
  ...rules('historical', 'backward', ['in the past', 'years ago', 'as a child', 'in childhood']),

  // Someone else.
  ...rules('family', 'forward', [
    '<relative>',
    'family history of',
    'family history',
    'family hx',
    'fhx',
    'family medical history',
    'familial history of',
    'family (antecedent|antecedents) [of]',
  ]),
  ...rules('family', 'backward', [
    `in ${POSSESSIVE} <relative>`,
    '( <relative>',
    'runs in [the|his|her|their] family',
    'in the family',
    "on [the|his|her] (maternal|paternal|mother's|father's) side",
  ]),

  // Conditional, future or prevented.
  ...rules('hypothetical', 'forward', [
    'if',
    'in case of',
    'in the event (of|that)',
    'should … (develop|develops|occur|occurs|recur|recurs|worsen|worsens|return|returns|persist|persists|appear|appears|arise|arises)',
    '(return|come_back|call|seek) … (if|for|with)',
    'watch for',
    'monitor for',
    'monitoring for',
    'observe for',
    'look out for',
    'warning signs of',
    'at risk (for|of)',
    'risk (of|for)',
    'potential for',
    '[to] prevent',
    'prevention of',
    'prophylaxis (for|against|of)',
    'screening for',
    'screen for',
    'to avoid',
    'as needed for',
    'prn',
  ]),
  ...rules('hypothetical', 'backward', ['prophylaxis', 'ppx', 'precautions', 'prevention', 'screening', 'vaccine', 'vaccination', 'immunization']),
  ...rules('hypothetical', 'backward', ['risk'], { window: 1 }),

  // Entertained but not established.
  ...rules('uncertain', 'forward', [
    'possible',
    'possibly',
    'probable',
    'probably',
    'likely',
    'most likely',
    'more likely',
    'suspected',
    'suspect',
    'suspicion (of|for)',
    'suspicious (for|of)',
    '(concern|concerns|concerning|worrisome|worry) for',
    'question of',
    'questionable',
    'query',
    'rule out',
    'r/o',
    'to rule out',
    'to exclude',
    "(cannot|can't|could_not) (exclude|rule_out)",
    'differential diagnosis',
    'differential includes',
    'ddx',
    'presumed',
    'presumptive',
    'presumably',
    '(consistent|compatible) with',
    'suggestive of',
    'suggests',
    '(may|might|could) (be|have|represent|reflect|indicate)',
    'uncertain',
    'unclear (if|whether)',
    'not (clear|certain|sure) [if|whether]',
    '(evaluate|evaluated|evaluation|eval|workup|work_up|assess|assessed|test|tested|testing|check|checked) for',
    '[to] discard',
  ]),
  ...rules('uncertain', 'backward', [
    '(is|was|are|were|remains|remained) (possible|likely|suspected|questionable|uncertain|probable|unclear|presumed)',
    '(was|were) (considered|entertained)',
    "(cannot|can't|could_not|not) be (excluded|ruled_out)",
    'not (excluded|ruled_out)',
    'equivocal',
  ]),
  ...rules('uncertain', 'bidirectional', ['versus', 'vs', 'vs.'], { window: 3 }),

  // Look like triggers, are not.
  ...rules('pseudo', undefined, [
    'no (increase|change|changes|further|improvement|relief|response|resolution|doubt|interval_change|significant_change)',
    'no. #',
    'no #',
    'not (only|necessarily|hesitate|uncommon|unusual|without|deny|denies|denied|on|want|wish)',
    'not [a] candidate',
    'not able',
    'not been able',
    'not (compliant|adherent|taking|tolerate|tolerated|tolerating)',
    'not (improve|improved|improving|respond|responded|responding|resolve|resolving)',
    'not [well|adequately|optimally|fully] controlled',
    'without [any] (difficulty|delay|incident)',
    'with or without',
    'gram negative',
    'gram neg',
    'negative pressure',
    '(er|pr|her2|her_2|estrogen_receptor|progesterone_receptor|hormone_receptor|receptor|triple|rh|coombs|false) negative',
    'history of present illness',
    'history of the present illness',
    'history and physical',
    'history (obtained|provided|taken|given|limited|unreliable|from)',
    'history (is|was) (obtained|provided|taken|limited)',
    'prior to',
    'risk factor',
    'risk factors',
    'if (any|needed|necessary|possible|tolerated|indicated|so|available|desired|appropriate|applicable)',
    'as if',
    '(as|when|where|whenever) possible',
    'vs (stable|wnl|within)',
    'vs :',
    // A relative who reports, brings or is told is an informant, not the experiencer.
    '<relative> (reports|reported|states|stated|says|said|notes|noted|brought|brings|called|requests|requested|agrees|agreed|consented|visited|provides|provided|gives|gave|at_bedside|is_at_bedside|was_informed|was_updated)',
    `(per|by|with|from|to|called|informed|updated|told|notified|according_to) ${POSSESSIVE} <relative>`,
    '(patient|she|he) and [his|her|the|their] <relative>',
  ]),

  // End a trigger's scope.
  ...rules('termination', undefined, [
    'but',
    'however',
    'although',
    'though',
    'yet',
    'except',
    'except for',
    'aside from',
    'apart from',
    'other than',
    'with the exception of',
    'besides',
    'which',
    'whereas',
    '(presents|presented|presenting) [with]',
    '(complains|complained|complaining) of',
    'c/o',
    'reports',
    'reporting',
    '(endorses|endorsed|endorsing)',
    'admits [to]',
    'refers',
    '(positive|significant|notable|remarkable) for',
  ]),
  // Finding a condition ends a denial, not the relative it is about ("sister was diagnosed with lupus").
  ...rules('termination', undefined, ['diagnosed with', 'found to (have|be)', 'developed'], { ends: ['negated', 'uncertain'] }),
  // "…-year-old with history of A admitted with B": the admission is the present.
  ...rules('termination', undefined, ['(admitted|admit|readmitted|hospitalized) (with|for|to)'], { ends: ['negated', 'historical', 'uncertain'] }),
  // Time moves back to the present.
  ...rules('termination', undefined, ['now', 'currently', 'presently', 'at present', 'today', 'this admission'], { ends: ['historical'] }),
]);

// ---- Compilation ------------------------------------------------------------------------

interface CompiledRule extends AssertionRule {
  pattern: RegExp;
}

const JOIN_WORDS = String.raw`(?:\s*-\s*|\s+)`;
const JOIN_PUNCT = String.raw`\s*`;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Regex source of one phrase token, and whether it is punctuation only. */
function tokenSource(token: string): { source: string; punct: boolean; optional: boolean } {
  const choice = /^([([])(.*\|.*|[^|]+)([)\]])$/.exec(token);
  if (token === '<relative>') {
    const names = [...RELATIVES].sort((a, b) => b.length - a.length).map((r) => r.split(' ').map(escape).join(JOIN_WORDS));
    return { source: `(?:(?:maternal|paternal)${JOIN_WORDS})?(?:${names.join('|')})`, punct: false, optional: false };
  }
  if (token === '#') return { source: String.raw`\d+`, punct: false, optional: false };
  if (choice && choice[2].includes('|')) {
    const options = choice[2].split('|').map((o) => o.split('_').map(escape).join(JOIN_WORDS));
    return { source: `(?:${options.join('|')})`, punct: false, optional: choice[1] === '[' };
  }
  if (choice && choice[1] === '[') return { source: choice[2].split('_').map(escape).join(JOIN_WORDS), punct: false, optional: true };
  return { source: escape(token), punct: !/[\p{L}\p{N}]/u.test(token), optional: false };
}

/** Compiles a phrase of the rule syntax into a global, case-insensitive regex. */
function compile(phrase: string): RegExp {
  const pieces = phrase
    .split(' ')
    .map((token) =>
      token === '…' ? { source: `(?<gap>(?:\\s+\\S+){0,${GAP_WORDS}}?)`, punct: false, optional: false, gap: true } : { ...tokenSource(token), gap: false },
    );
  let source = pieces[0].punct ? '' : '(?<![\\p{L}\\p{N}])';
  pieces.forEach((piece, i) => {
    const previous = pieces[i - 1];
    // A gap brings its own leading space; an optional first word carries the space after it.
    const join = !previous || piece.gap || (i === 1 && previous.optional) ? '' : previous.punct || piece.punct ? JOIN_PUNCT : JOIN_WORDS;
    if (i === 0 && piece.optional) source += `(?:${piece.source}${pieces.length > 1 ? JOIN_WORDS : ''})?`;
    else source += piece.optional ? `(?:${join}${piece.source})?` : `${join}${piece.source}`;
  });
  if (!pieces[pieces.length - 1].punct || /[.\]]$/.test(phrase)) source += '(?![\\p{L}\\p{N}])';
  return new RegExp(source, 'giud');
}

const COMPILED: readonly CompiledRule[] = ASSERTION_RULES.map((rule) => ({ ...rule, pattern: compile(rule.phrase) }));

// ---- Matching ---------------------------------------------------------------------------

interface Hit extends Span {
  rule: CompiledRule;
  /** The `…` part of a gapped phrase. */
  gap?: Span;
}

type TriggerHit = Hit & { rule: CompiledRule & { family: TriggerFamily } };

const isTrigger = (hit: Hit): hit is TriggerHit => hit.rule.family !== 'pseudo' && hit.rule.family !== 'termination';

/**
 * Same-length clean-up so that offsets stay valid: typographic apostrophes and dashes become
 * ASCII ones.
 */
function normalise(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc`´]/gu, "'").replace(/[\u2010-\u2015\u2212]/gu, '-');
}

/**
 * All rule hits in the passage, longest first where they overlap: "no evidence of" beats
 * "no", a pseudo-trigger like "no change" silences the "no" inside it, and "not ruled out"
 * (uncertain) wins over both "not" and "ruled out".
 */
function hitsOf(text: string): Hit[] {
  const known = recentHits.get(text);
  if (known) return known;
  const hits = findHits(text);
  // The same passage is judged once per code it supports and per mention: remember the last
  // few (in memory only; a CPU profile of a 1,400-word note put hitsOf first).
  if (recentHits.size >= RECENT_HITS) recentHits.delete(recentHits.keys().next().value!);
  recentHits.set(text, hits);
  return hits;
}
const RECENT_HITS = 64;
const recentHits = new Map<string, Hit[]>();

function findHits(text: string): Hit[] {
  const all: Hit[] = [];
  for (const rule of COMPILED) {
    // exec on the rule's own RegExp, not matchAll: matchAll clones its RegExp on every call,
    // and a clone finds its machine code through V8's compilation cache, which garbage
    // collection clears; after that, every rule was compiled again within one note
    // (0.2-0.3 s, at random in the benchmark).
    const pattern = rule.pattern;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      // Never reached by the rules (each phrase matches at least one character); without
      // it, an empty match would loop for ever. Step over a whole surrogate pair, as matchAll does.
      if (m[0].length === 0) pattern.lastIndex += text.codePointAt(pattern.lastIndex)! > 0xffff ? 2 : 1;
      const gap = m.indices?.groups?.gap;
      all.push({
        rule,
        start: m.index,
        end: m.index + m[0].length,
        ...(gap && gap[1] > gap[0] ? { gap: { start: gap[0], end: gap[1] } } : {}),
      });
    }
  }
  all.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Hit[] = [];
  for (const hit of all) if (!kept.some((k) => k.start < hit.end && hit.start < k.end)) kept.push(hit);
  return kept.sort((a, b) => a.start - b.start);
}

const WORDS = /[\p{L}\p{N}]+(?:'[\p{L}]+)*/gu;
const wordCount = (s: string) => s.match(WORDS)?.length ?? 0;

/** Two hits are chained when at most one word and no punctuation separate them ("no known history of"). */
const adjacent = (text: string, from: number, to: number) => /^[\s-]*(?:[\p{L}\p{N}']+[\s-]+)?$/u.test(text.slice(from, to));

/** Whether text is a coordinated list of short items ("fever, chills, or night sweats"). */
function isList(text: string): boolean {
  if (!/,|\/|\b(?:or|nor)\b/iu.test(text)) return false;
  return text.split(/,|\/|\b(?:and|or|nor)\b/iu).every((item) => wordCount(item) <= LIST_ITEM_WORDS);
}

const ends = (term: Hit, family: TriggerFamily) => term.rule.family === 'termination' && (!term.rule.ends || term.rule.ends.includes(family));

/**
 * Words between `trigger` and a target after it, or undefined when the target is out of the
 * trigger's forward scope. The scope stops at a termination term, at `;`, `!` or `?`, at
 * another trigger unless chained to this one, and after the window unless the words in
 * between form a list.
 */
function forwardReach(text: string, hits: readonly Hit[], trigger: TriggerHit, target: Span, window: number): number | undefined {
  let edge: Hit = trigger;
  for (const hit of hits) {
    if (hit.start < trigger.end || hit.end > target.start) continue;
    if (ends(hit, trigger.rule.family)) return undefined;
    if (!isTrigger(hit)) continue;
    if (!adjacent(text, edge.end, hit.start)) return undefined;
    edge = hit;
  }
  const between = text.slice(edge.end, target.start);
  if (/[;!?]/u.test(between)) return undefined;
  if (wordCount(between) > window && !isList(between)) return undefined;
  return wordCount(text.slice(trigger.end, target.start));
}

/**
 * As forwardReach for a target before the trigger. A backward scope also stops at a comma,
 * so "Chest pain, MI ruled out" leaves the chest pain present.
 */
function backwardReach(text: string, hits: readonly Hit[], trigger: TriggerHit, target: Span, window: number): number | undefined {
  let edge: Hit = trigger;
  for (const hit of [...hits].reverse()) {
    if (hit.end > trigger.start || hit.start < target.end) continue;
    if (ends(hit, trigger.rule.family)) return undefined;
    if (!isTrigger(hit)) continue;
    if (!adjacent(text, hit.end, edge.start)) return undefined;
    edge = hit;
  }
  const between = text.slice(target.end, edge.start);
  if (/[;!?,]/u.test(between) || wordCount(between) > window) return undefined;
  return wordCount(text.slice(target.end, trigger.start));
}

/** Words between the trigger and the target when the target is in its scope, else undefined. */
function reach(text: string, hits: readonly Hit[], trigger: TriggerHit, target: Span, maxWords: number): number | undefined {
  if (trigger.gap && trigger.gap.start <= target.start && target.end <= trigger.gap.end) return 0;
  if (trigger.start < target.end && target.start < trigger.end) return undefined;
  const { direction = 'forward', window = maxWords } = trigger.rule;
  if (target.start >= trigger.end && direction !== 'backward') return forwardReach(text, hits, trigger, target, Math.min(window, maxWords));
  if (target.end <= trigger.start && direction !== 'forward') return backwardReach(text, hits, trigger, target, Math.min(window, maxWords));
  return undefined;
}

/**
 * The assertion status of a mention in a passage.
 * @param text - the passage (a sentence or list item)
 * @param target - the mention's UTF-16 offsets within `text`
 * @param options - scope window
 * @returns the status and, unless present, the trigger that decided it (offsets into `text`)
 */
export function assertionOf(text: string, target: Span, options: AssertionOptions = {}): Assertion {
  const maxWords = options.maxScopeWords ?? MAX_SCOPE_WORDS;
  const normalised = normalise(text);
  const hits = hitsOf(normalised);
  let best: { hit: TriggerHit; rank: number; distance: number } | undefined;
  for (const hit of hits) {
    if (!isTrigger(hit)) continue;
    const distance = reach(normalised, hits, hit, target, maxWords);
    if (distance === undefined) continue;
    const rank = STATUS_PRECEDENCE.indexOf(hit.rule.family);
    if (!best || rank < best.rank || (rank === best.rank && distance < best.distance)) best = { hit, rank, distance };
  }
  if (!best) return { status: 'present' };
  const { start, end } = best.hit;
  return { status: best.hit.rule.family, trigger: { text: text.slice(start, end), start, end } };
}

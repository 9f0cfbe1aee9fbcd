/**
 * Code assignment through the Alphabetic Index, as a coder does it: from the main term down to
 * the most specific subterm the mention's words support, following "see" and "see also", the
 * Neoplasm Table by site and behaviour and the Table of Drugs by substance and intent.
 *
 * "with" subterms (guideline I.A.15) may be supported by the mention's own words or by another
 * condition documented in the note (its phrase words): the classification presumes the link,
 * and the partner is recorded so the combination can absorb or keep its code. Subterms with no
 * required word ("specified NEC") are never followed; "without" only when the note says so.
 */
import { childrenWith, STOP_WORDS, type TermIndex, type TermIndexes, type TermNode } from '../finder/term-index';
import { wordsOf, type SpellingVariants } from '../finder/words';

/** The words other mentions stand on, by normal form. */
export interface PartnerWords {
  has(word: string): boolean;
  get(word: string): ReadonlySet<number> | undefined;
  /** The words, in a fixed order (the order a walk tries them in). */
  keys(): readonly string[];
  /** A word's place in `keys()`; -1 when it is not a partner word. */
  rankOf(word: string): number;
}

/** No partner words (a walk on the mention's own words). */
export const NO_PARTNERS: PartnerWords = { has: () => false, get: () => undefined, keys: () => [], rankOf: () => -1 };

/** The words a walk may use. */
export interface WalkWords {
  /** Normal form → stream indices, in the mention's window. */
  own: ReadonlyMap<string, readonly number[]>;
  /** Normal form → ids of other present mentions whose phrase holds the word ("with" partners). */
  partners: PartnerWords;
  /** How far a window word is from the main term, in words: nearer subterm words win a tie ("atrial fibrillation with rapid ventricular response"). */
  distance(index: number): number;
  /** The main term's own words: documented too ("without heart failure" does not hold for a heart failure mention). */
  main?: ReadonlySet<string>;
  /** Words a "without" rules out in the note ("without complications"): they support only a subterm that says no ("no loss of consciousness"). */
  ruledOut?: ReadonlySet<string>;
  /** Where a window word stands in the note: the words the lexicon adds beside a note's word ("colon" also reads "large intestine") stand at its place. */
  placeOf?(index: number): number;
}

export interface IndexPath {
  /** What a coder reads: the titles followed, with hops ("see Hypertension, heart", "Table of Neoplasms"). */
  steps: string[];
  /** The code the path ends on, as the Index or table prints it (may end in "-": incomplete). */
  code?: string;
  /** The manifestation code printed in brackets, coded after the etiology. */
  manif?: string;
  score: number;
  /** Window words used (stream indices). */
  used: Set<number>;
  /** Mentions whose words supported a "with" subterm. */
  partners: Set<number>;
  /** The path goes through a "with" subterm (a combination code). */
  viaWith: boolean;
  table?: 'neoplasm' | 'drug';
  /**
   * Set by `walk`: no term on the way had a "with" or "without" subterm, so other mentions'
   * words could not have changed the path (the walk with partners would end the same).
   */
  partnerFree?: boolean;
}

// Neoplasm Table columns (after the site column): Malignant Primary, Malignant Secondary, Ca in
// situ, Benign, Uncertain Behavior, Unspecified Behavior.
const NEOPLASM_COLUMN: readonly [RegExp, number][] = [
  [/secondary|metasta/, 1],
  [/in situ/, 2],
  [/benign/, 3],
  [/uncertain/, 4],
  [/unspecified behavior/, 5],
  [/malignant|primary/, 0],
];
// Table of Drugs columns: Poisoning accidental, intentional self-harm, assault, undetermined,
// Adverse effect, Underdosing.
const DRUG_COLUMN_WORDS: readonly [string[], number][] = [
  [['underdosing'], 5],
  [['underdose'], 5],
  [['prescribed'], 4],
  [['noncompliance'], 5],
  [['adverse'], 4],
  [['side', 'effect'], 4],
  [['intentional'], 1],
  [['suicide'], 1],
  [['overdose', 'intentional'], 1],
  [['assault'], 2],
];

const MAX_HOPS = 8;

export interface IndexWalker {
  /**
   * The best path from a main term for the words given.
   * @param main - the mention's main term
   * @param words - window and partner words
   */
  walk(main: TermNode, words: WalkWords): IndexPath;
  /** Resolves a "see" text ("Hypertension, heart") to a term of the Alphabetic Index. */
  resolve(target: string): TermNode | undefined;
}

/**
 * @param indexes - the trees of the code set
 * @param spelling - British-to-US variants
 */
export function createIndexWalker(indexes: TermIndexes, spelling?: SpellingVariants): IndexWalker {
  // Every text normalized here is the Index's own (titles, references), a finite set: cache it.
  const normalized = new Map<string, string[]>();
  const norm = (text: string): string[] => {
    let words = normalized.get(text);
    if (!words) normalized.set(text, (words = wordsOf(text, spelling).map((w) => w.norm)));
    return words;
  };
  const joined = new Map<string, string>();
  const normJoined = (text: string): string => {
    let j = joined.get(text);
    if (j === undefined) joined.set(text, (j = norm(text).join(' ')));
    return j;
  };

  /** The child of `node` whose title is `segment` (by words), if any. */
  const childTitled = (node: TermNode, segment: string): TermNode | undefined => {
    const want = normJoined(segment);
    return node.children.find((c) => normJoined(c.title) === want || c.alternatives.some((a) => a.join(' ') === want));
  };

  /** The segments of a reference, and the words it asks for after "by type" ("…, by type as diastolic or systolic, chronic"). */
  const segmentsOf = (target: string) =>
    target
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);

  const rootOf = (node: TermNode) => {
    let n = node;
    while (n.parent) n = n.parent;
    return n;
  };

  /** @param from - the term the reference is printed under: its own main term wins a tie ("Fracture, traumatic … see Fracture, femur, neck") */
  // A reference resolves the same way every time from the same main term: walks follow the
  // same "see" texts for every mention of a note, so the answers are kept.
  const resolved = new Map<TermIndex, Map<TermNode | undefined, Map<string, TermNode | undefined>>>();
  const resolveIn = (index: TermIndex, target: string, from?: TermNode): TermNode | undefined => {
    const own = from ? rootOf(from) : undefined;
    let byRoot = resolved.get(index);
    if (!byRoot) resolved.set(index, (byRoot = new Map()));
    let byTarget = byRoot.get(own);
    if (!byTarget) byRoot.set(own, (byTarget = new Map()));
    if (byTarget.has(target)) return byTarget.get(target);
    const node = resolveFresh(index, target, own);
    byTarget.set(target, node);
    return node;
  };
  const resolveFresh = (index: TermIndex, target: string, own: TermNode | undefined): TermNode | undefined => {
    const segments = segmentsOf(target);
    if (segments.length === 0) return undefined;
    // Several main terms may share the first form ("Fracture, burst" … "Fracture, traumatic"):
    // the one holding the next segment.
    const mains = index.byTitle.get(normJoined(segments[0])) ?? [];
    const holding = segments[1] ? mains.filter((m) => childTitled(m, segments[1])) : mains;
    let node = (own && holding.includes(own) ? own : undefined) ?? holding[0] ?? mains.find((m) => m.optional.length === 0) ?? mains[0];
    if (!node) return undefined;
    for (const segment of segments.slice(1)) {
      if (/^by (site|type|drug)/i.test(segment) || /^(specified|as )/i.test(segment)) break;
      // "with hyperglycemia": through the "with" subterm.
      const withPart = /^with\s+(.+)$/i.exec(segment);
      const via = withPart ? node.children.find((c) => c.connector === 'with') : undefined;
      const child = (via && childTitled(via, withPart![1])) ?? childTitled(node, segment);
      if (!child) break;
      node = child;
    }
    return node;
  };

  /** Words a reference asks to apply after its "by type" part ("chronic", "acute and chronic"). */
  const askedWords = (target: string): string[] => {
    const segments = segmentsOf(target);
    const at = segments.findIndex((x) => /^by type/i.test(x));
    return at < 0
      ? []
      : segments
          .slice(at + 1)
          .flatMap((x) => norm(x.replace(/^as\s+/i, '')))
          .filter((w) => !STOP_WORDS.has(w) && w !== 'and');
  };

  /** A word's weight: 1 near the main term, a little less further away (partners count as far). */
  const weightOf = (w: string, words: WalkWords | undefined) => {
    const own = words?.own.get(w);
    if (!own?.length) return 0.8;
    return 1 - 0.02 * Math.min(10, Math.min(...own.map((i) => words!.distance(i))));
  };
  const matchOf = (child: TermNode, available: (w: string) => boolean, words?: WalkWords): number => {
    let best = 0;
    // The main term's own words count too ("Failure, heart → with hypertension → see Hypertension,
    // heart → with heart failure"), but a subterm is never matched by them alone.
    const main = words?.main;
    // "no loss of consciousness" is written "without loss of consciousness" as often.
    const usable = (w: string) => available(w) || (main?.has(w) ?? false) || (w === 'no' && available('without'));
    const ruledOut = words?.ruledOut;
    for (const alt of child.alternatives) {
      if (alt.length === 0 || !alt.every(usable) || (main && alt.every((w) => main.has(w)))) continue;
      if (ruledOut && !alt.includes('no') && !alt.includes('without') && alt.some((w) => ruledOut.has(w))) continue;
      best = Math.max(best, alt.reduce((n, w) => n + weightOf(w, words), 0) + 0.25 * child.optional.filter(available).length);
    }
    return best;
  };

  // Terms whose subterms other mentions' words can choose or rule out ("with", "without").
  let partnerChoices = 0;
  const partnerChoice = new WeakMap<TermNode, boolean>();
  const offersPartnerChoice = (node: TermNode): boolean => {
    let offers = partnerChoice.get(node);
    if (offers === undefined)
      partnerChoice.set(node, (offers = node.children.some((c) => c.prefix === 'with' || c.prefix === 'without' || c.connector === 'with')));
    return offers;
  };
  const empty = (): IndexPath => ({ steps: [], score: 0, used: new Set(), partners: new Set(), viaWith: false });

  /** Marks the words of `child`'s matching alternative as used, from the window or from partners. */
  const claim = (child: TermNode, words: WalkWords, path: IndexPath, withPartners: boolean) => {
    for (const alt of child.alternatives) {
      for (const w of alt) {
        const own = words.own.get(w);
        if (own?.length) own.forEach((i) => path.used.add(i));
        else if (withPartners) words.partners.get(w)?.forEach((p) => path.partners.add(p));
      }
    }
  };

  function walkTable(
    kind: 'neoplasm' | 'drug',
    column: number | undefined,
    siteHint: string[],
    words: WalkWords,
    reference = '',
    leadingWords: ReadonlySet<string> = new Set(),
  ): IndexPath | undefined {
    const table = kind === 'neoplasm' ? indexes.neoplasm : indexes.drug;
    if (!table) return undefined;
    // The words of the Index entry that led here ("Disease, metastatic") name no site.
    const available = (w: string) => (words.own.has(w) && !leadingWords.has(w)) || siteHint.includes(w);
    // Nearer site words win a tie ("colon cancer with liver metastases": the metastases are the liver's).
    const siteWords: WalkWords = { own: words.own, partners: words.partners, distance: words.distance };
    let roots: TermNode[];
    if (kind === 'neoplasm') roots = table.roots.slice(0, 1);
    else {
      // The substance: a table main term all of whose words are in the window.
      const found = new Map<TermNode, number>();
      for (const w of words.own.keys())
        for (const { node, words: needed } of table.byAnchor.get(w) ?? []) if (needed.every(available)) found.set(node, needed.length);
      roots = [...found]
        .sort((a, b) => b[1] - a[1])
        .map(([n]) => n)
        .slice(0, 1);
    }
    const root = roots[0];
    if (!root) return undefined;
    let col = column;
    if (kind === 'drug' && col === undefined) {
      // The intent the reference names ("by drug, adverse effect"), else the note's words, else accidental poisoning.
      const said = (w: string) => words.own.has(w) || (words.main?.has(w) ?? false) || norm(reference).includes(w);
      col = DRUG_COLUMN_WORDS.find(([ws]) => ws.every(said))?.[1] ?? 0;
    }
    const path = empty();
    path.table = kind;
    path.steps.push(kind === 'neoplasm' ? 'Table of Neoplasms' : 'Table of Drugs and Chemicals', root.title);
    if (kind === 'drug') claimRoot(root, words, path);
    const c = col ?? 0;
    // The best path of sites, looking ahead (pancreas → head beats head, face and neck), a
    // reference inside the table ("colon - see also Neoplasm, intestine, large") followed.
    // Rows are compared first by whether they have a cell in this column (a row without one,
    // "metastatic NEC" under Malignant Primary, would fall back to the unspecified site), then
    // by the words that support them, each place of the note counted once along a path: "colon"
    // (which the lexicon also reads "large intestine") is one word, not three, against "liver"
    // in "colon cancer with liver metastases".
    const placesOf = (w: string): string[] => {
      const at = words.own.get(w);
      return at?.length ? at.map((i) => `p${words.placeOf ? words.placeOf(i) : i}`) : [`w${w}`];
    };
    // A reference ("colon - see also Neoplasm, intestine, large") restates its row: the row's
    // words may support the rows it names again, but the two are one match, not two.
    type Best = { steps: TermNode[]; score: number; cell?: string; viaReference?: boolean };
    const best = (node: TermNode, depth: number, seen: Set<TermNode>, used: ReadonlySet<string>, before: ReadonlySet<string>): Best => {
      let top: Best = { steps: [], score: 0, cell: node.fields.cells?.[c] ?? undefined };
      if (depth >= 6) return top;
      const free = (w: string) => available(w) && placesOf(w).some((p) => !used.has(p));
      const better = (b: Best) =>
        (b.cell !== undefined && top.cell === undefined) || ((b.cell !== undefined) === (top.cell !== undefined) && b.score > top.score);
      const consider = (child: TermNode, score: number) => {
        if (seen.has(child)) return;
        seen.add(child);
        const places = new Set(used);
        for (const alt of child.alternatives) if (alt.length > 0 && alt.every(free)) for (const w of alt) placesOf(w).forEach((p) => places.add(p));
        const sub = best(child, depth + 1, seen, places, used);
        const total = sub.viaReference ? Math.max(score, sub.score) : score + sub.score;
        const candidate = { steps: [child, ...sub.steps], score: total, cell: sub.cell ?? child.fields.cells?.[c] ?? undefined };
        if (better(candidate)) top = candidate;
      };
      for (const child of node.children) {
        const score = kind === 'neoplasm' ? matchOf(child, free, siteWords) : matchOf(child, free);
        if (score > 0) consider(child, score);
      }
      const reference = node.fields.seeAlso ?? node.fields.see;
      if (reference && /^neoplasm/i.test(reference)) {
        let target: TermNode | undefined = table.roots[0];
        for (const segment of reference
          .replace(/\([^)]*\)/g, '')
          .split(',')
          .slice(1)
          .map((x) => x.trim())) {
          const want = normJoined(segment);
          const next: TermNode | undefined = target?.children.find((ch) => normJoined(ch.title) === want || ch.alternatives.some((a) => a.join(' ') === want));
          if (!next) break;
          target = next;
        }
        if (target && target !== table.roots[0]) {
          // A row that is only a reference ("gastric - see Neoplasm, stomach") takes the cell of the row it names.
          const sub = best(target, depth + 1, seen, before, before);
          const candidate = { steps: [target, ...sub.steps], score: sub.score, cell: sub.cell ?? target.fields.cells?.[c] ?? undefined, viaReference: true };
          if (better(candidate) || (candidate.cell !== undefined && top.cell === undefined)) top = candidate;
        }
      }
      return top;
    };
    const found = best(root, 0, new Set([root]), new Set(), new Set());
    for (const node of found.steps) {
      claim(node, words, path, false);
      path.steps.push(node.title);
    }
    path.score += found.score;
    const cell = found.cell ?? root.fields.cells?.[c] ?? undefined;
    if (!cell) return undefined;
    path.steps.push(`${table.columns?.[c] ?? ''} ${cell}`.trim());
    path.code = cell;
    return path;
  }

  const claimRoot = (root: TermNode, words: WalkWords, path: IndexPath) => {
    for (const w of root.alternatives[0] ?? []) words.own.get(w)?.forEach((i) => path.used.add(i));
    path.score += root.alternatives[0]?.length ?? 0;
  };

  /** Follows a "see"/"see also" text: a term of the Index, or a table. */
  function follow(target: string, words: WalkWords, hops: number, from?: TermNode): IndexPath | undefined {
    const lower = target.toLowerCase();
    if (lower === 'condition' || hops >= MAX_HOPS) return undefined;
    if (lower.startsWith('neoplasm') || lower.startsWith('table of neoplasms')) {
      // The behaviour the reference names; else the one the mention's words say; else unspecified behavior.
      const said = [...words.own.keys()].join(' ');
      const column = NEOPLASM_COLUMN.find(([re]) => re.test(lower))?.[1] ?? NEOPLASM_COLUMN.find(([re]) => re.test(said))?.[1] ?? 5;
      // Site words the reference names ("Neoplasm, breast, malignant").
      const hint = norm(
        target.replace(/neoplasms?|table of|by site|malignant|benign|secondary|primary|in situ|uncertain behavior|unspecified behavior/gi, ' '),
      );
      const leading = new Set<string>();
      for (let n: TermNode | undefined = from; n; n = n.parent) for (const alt of n.alternatives) for (const w of alt) if (!hint.includes(w)) leading.add(w);
      return walkTable('neoplasm', column, hint, words, '', leading);
    }
    if (lower.startsWith('table of drugs')) return walkTable('drug', undefined, [], words, target);
    const node = resolveIn(indexes.index, target, from);
    if (!node) return undefined;
    // "Hypertensive urgency - see Hypertension": the words of the mention's main term that the
    // reference leaves ("urgency") are documented subterm words at the target.
    const targetWords = new Set(norm(target));
    const carried = [...new Set([...[...(words.main ?? [])].filter((w) => !targetWords.has(w)), ...askedWords(target)])].filter((w) => !words.own.has(w));
    const hopWords: WalkWords =
      carried.length > 0
        ? {
            ...words,
            own: new Map([...words.own, ...carried.map((w) => [w, []] as [string, number[]])]),
            main: new Set([...(words.main ?? [])].filter((w) => !carried.includes(w))),
          }
        : words;
    const path = walkFrom(node, hopWords, hops + 1);
    path.steps[0] = `see ${target}`;
    path.steps.splice(1, 0, ...[]);
    return path;
  }

  function walkFrom(node: TermNode, words: WalkWords, hops: number, withPartners = false): IndexPath {
    if (offersPartnerChoice(node)) partnerChoices++;
    const here = empty();
    here.steps.push(node.title);
    if (node.fields.code) {
      here.code = node.fields.code;
      if (node.fields.manif) here.manif = node.fields.manif;
    } else if (node.fields.see) {
      const seen = follow(node.fields.see, words, hops, node);
      if (seen) {
        seen.steps = [node.title, ...seen.steps];
        return seen;
      }
    }
    let best: IndexPath | undefined = here.code ? here : undefined;
    const consider = (candidate: IndexPath | undefined) => {
      if (!candidate?.code) return;
      if (!best || candidate.score > best.score) best = candidate;
    };

    const available = (w: string) => words.own.has(w) || (withPartners && words.partners.has(w));
    const tried = new Set<TermNode>();
    const visit = (child: TermNode) => {
      if (tried.has(child)) return;
      tried.add(child);
      if (child.connector) {
        if (child.connector === 'without' && !words.own.has('without') && !words.own.has('no')) return;
        const sub = walkFrom(child, words, hops, child.connector === 'with');
        sub.steps = [node.title, ...sub.steps];
        if (child.connector === 'with' && sub.score > 0) sub.viaWith = true;
        consider(sub);
        return;
      }
      if (child.fallback) return;
      if (child.prefix === 'without') {
        // "without heart failure": the path when heart failure is documented nowhere, mention or partner.
        const documented = child.alternatives.some(
          (alt) => alt.length > 0 && alt.every((w) => (words.own.has(w) && !words.ruledOut?.has(w)) || words.partners.has(w) || words.main?.has(w)),
        );
        if (documented) return;
        const sub = walkFrom(child, words, hops, false);
        sub.steps = [node.title, ...sub.steps];
        if (!sub.code && here.code) sub.code = here.code;
        consider(sub);
        return;
      }
      const partnered = withPartners || child.prefix === 'with';
      const score = matchOf(child, partnered ? (w) => words.own.has(w) || words.partners.has(w) : available, words);
      if (score <= 0) return;
      const sub = walkFrom(child, words, hops, false);
      claim(child, words, sub, partnered);
      if (child.prefix === 'with') sub.viaWith = true;
      sub.score += score;
      sub.steps = [node.title, ...sub.steps];
      if (!sub.code && here.code) {
        // A subterm without a code of its own (a heading): the code above still holds.
        sub.code = here.code;
      }
      consider(sub);
    };
    for (const w of words.own.keys()) childrenWith(node, w).forEach(visit);
    // Partner words are the whole note's: when they outnumber the children, the children are
    // scanned instead, and visited in the order the words would have reached them (a tie keeps
    // the first path found).
    const partnerWords = words.partners.keys();
    if (partnerWords.length > node.children.length) {
      const reached: { child: TermNode; rank: number; at: number }[] = [];
      node.children.forEach((child, at) => {
        if (!withPartners && child.prefix !== 'with') return;
        let rank = Infinity;
        for (const alt of child.alternatives) for (const w of alt) if (words.partners.has(w)) rank = Math.min(rank, words.partners.rankOf(w));
        if (rank !== Infinity) reached.push({ child, rank, at });
      });
      reached.sort((a, b) => a.rank - b.rank || a.at - b.at).forEach((r) => visit(r.child));
    } else for (const w of partnerWords) for (const child of childrenWith(node, w)) if (withPartners || child.prefix === 'with') visit(child);
    for (const child of node.children) if (child.prefix === 'without') visit(child);
    for (const child of node.children) if (child.connector) visit(child);
    if (node.fields.seeAlso && (!best || best.score === here.score)) {
      const also = follow(node.fields.seeAlso, words, hops, node);
      if (also && also.score > 0) {
        also.steps = [node.title, `see also ${also.steps[0]?.replace(/^see /, '') ?? ''}`, ...also.steps.slice(1)];
        consider(also);
      }
    }
    return best ?? here;
  }

  return {
    walk: (main, words) => {
      partnerChoices = 0;
      const path = walkFrom(main, words, 0);
      path.partnerFree = partnerChoices === 0;
      return path;
    },
    resolve: (target) => resolveIn(indexes.index, target),
  };
}

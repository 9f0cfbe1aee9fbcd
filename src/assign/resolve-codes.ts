/**
 * The last step of assignment, shared by the Index coder (per note) and the engine (over every
 * source): the guideline combinations (knowledge/combinations.tsv: hypertension with heart
 * failure and CKD → I13.-) replace their parts, and a code less specific than another about
 * the same condition is left out (an ancestor, or its category's unspecified ".9" code:
 * I50.9 beside I50.23; guideline I.A.9, the unspecified code only when nothing more
 * specific is documented).
 */
import type { CodeSet } from '../codeset/code-set';
import type { Combination } from '../knowledge/knowledge';

export interface Resolution<T> {
  codeOf(item: T): string;
  /** A new item for a combination code, from its parts. */
  make(code: string, parts: readonly T[]): T;
  /** Folds `from` into `into`, with a note for the coder. */
  merge(into: T, from: readonly T[], note: string): void;
  /** More specific than `code` by the caller's own evidence (the Index path), besides the code set's. */
  finer?(item: T, than: T): boolean;
}

/** `code` is its category's unspecified ".9" code and `other` a finer code of the category. */
export function unspecifiedOf(code: string, other: string): boolean {
  const category = code.slice(0, 3);
  return code === `${category}.9` && other.startsWith(`${category}.`) && other !== code;
}

/**
 * Applies the combinations, then removes subsumed codes, in place.
 * @param byCode - items by code
 * @param rules - the guideline combinations
 * @param codeSet - the loaded code set
 * @param how - how items are read, made and merged
 */
export function resolveCodes<T>(byCode: Map<string, T>, rules: readonly Combination[], codeSet: CodeSet, how: Resolution<T>): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const rule of rules) {
      if (!rule.when.every((c) => byCode.has(c)) || !codeSet.isBillable(rule.code)) continue;
      const parts = rule.when.map((c) => byCode.get(c)!);
      const target = byCode.get(rule.code) ?? how.make(rule.code, parts);
      for (const c of rule.when) if (c !== rule.code) byCode.delete(c);
      how.merge(
        target,
        parts.filter((p) => p !== target),
        `${rule.when.join(' + ')} → ${rule.code} (${rule.source})`,
      );
      byCode.set(rule.code, target);
      changed = rule.when.some((c) => c !== rule.code);
    }
  }
  const all = [...byCode.values()];
  for (const item of all) {
    const code = how.codeOf(item);
    const finer = all.find((o) => {
      const other = how.codeOf(o);
      return o !== item && byCode.has(other) && (codeSet.isAncestor(code, other) || unspecifiedOf(code, other) || (how.finer?.(o, item) ?? false));
    });
    if (finer) {
      byCode.delete(code);
      how.merge(finer, [item], `${code} left out: ${how.codeOf(finer)} is more specific for the same condition`);
    }
  }
}

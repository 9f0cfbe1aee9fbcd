/**
 * The replay cache: `jti` values already used, per issuer, kept until their token could no
 * longer be accepted anyway. CDS Hooks 2.0 §Trusting CDS Clients: `jti` is "a nonce string
 * value that uniquely identifies this authentication JWT (used to protect against replay
 * attacks)". In memory: a restart forgets it, which is acceptable because the tokens it holds
 * expire within the maximum token age.
 */

/** Why `remember` refused a token. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayCache {
  // Map keeps insertion order; entries are swept by expiry, not by order.
  private readonly expiresAt = new Map<string, number>();
  private insertsSinceSweep = 0;

  /**
   * @param maxEntries - bound on memory; when every entry is still live, new tokens are refused
   *   (fail closed) rather than evicting a live entry, which would re-open its replay window
   * @param now - clock in milliseconds (tests pass their own)
   */
  constructor(
    readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a token id unless it was seen before and is still live.
   * @param iss - the token's issuer (ids are only unique per issuer)
   * @param jti - the token's id
   * @param keepUntilMs - when the entry may be forgotten: the last instant the token is acceptable
   * @returns `fresh` when recorded now, `replayed` when seen before, `full` when the cache is full
   */
  remember(iss: string, jti: string, keepUntilMs: number): ReplayVerdict {
    const key = `${iss}\u0000${jti}`;
    const now = this.now();
    const known = this.expiresAt.get(key);
    if (known !== undefined && known >= now) return 'replayed';
    // Amortised clean-up, and a full one before refusing anything for lack of room.
    if (++this.insertsSinceSweep >= 1000 || this.expiresAt.size >= this.maxEntries) this.sweep(now);
    if (this.expiresAt.size >= this.maxEntries) return 'full';
    this.expiresAt.set(key, keepUntilMs);
    return 'fresh';
  }

  /** Entries currently held (for tests and metrics). */
  get size(): number {
    return this.expiresAt.size;
  }

  private sweep(now: number): void {
    this.insertsSinceSweep = 0;
    for (const [key, until] of this.expiresAt) if (until < now) this.expiresAt.delete(key);
  }
}

/** A forget target: something the assistant must not reveal anything about. */
export interface ForgetTarget {
  /** Stable identifier. Taken from the entry when given, else derived from the name (never written back). */
  readonly id: string;
  readonly name: string;
  readonly aliases: readonly string[];
  /** Free text that helps the agents recognise indirect references ("the Lisbon client", "our 2024 CFO"). */
  readonly description?: string;
  /** Sample questions about the target (optional): they help relevance find questions that never name it. */
  readonly examples?: readonly string[];
  readonly enabled: boolean;
  /**
   * Terms (the name or aliases, as written in the target) that match only with their first letter
   * capitalised, as a proper noun: "Will" then catches "Will" and "W1ll" but not "will". For names that
   * are also ordinary words. Absent or empty: every term matches in any case.
   */
  readonly caseSensitive?: readonly string[];
}

/** Every spelling the guard must catch for a target: its name first, then its aliases. */
export function termsOf(target: ForgetTarget): string[] {
  return [target.name, ...target.aliases];
}

/** The key two spellings of a term share when they are the same term (what the schema deduplicates by). */
export function termKey(term: string): string {
  return term.normalize('NFKC').toLowerCase();
}

/** Whether `term` (one of the target's terms) matches only with its first letter capitalised. */
export function isCaseSensitive(target: ForgetTarget, term: string): boolean {
  if (!target.caseSensitive?.length) return false;
  const key = termKey(term);
  return target.caseSensitive.some((t) => termKey(t) === key);
}

/** Deterministic id for an entry that has none: a slug plus a short hash, so equal names give equal ids. */
export function deriveTargetId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'target'}-${fnv1a(name).toString(36)}`;
}

/** FNV-1a: a small, stable string hash (ids here; the scripted server's digests and embeddings in tests). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

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
}

/** Every spelling the guard must catch for a target: its name first, then its aliases. */
export function termsOf(target: ForgetTarget): string[] {
  return [target.name, ...target.aliases];
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

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

import { isCommonWord } from '../text';
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
  /**
   * Name parts that stay free (see `namePartsOf`): `true` frees every part, a list frees those parts.
   * Absent: every distinctive part of a multi-word name or alias counts as the name.
   */
  readonly freeNameParts?: true | readonly string[];
}

/** Every spelling of a target as written: its name first, then its aliases (name parts: `distinctNameParts`). */
export function termsOf(target: ForgetTarget): string[] {
  return [target.name, ...target.aliases];
}

/**
 * The name parts that bind, per target id: each target's `namePartsOf`, less any part that another
 * enabled target also has as a part, name or alias. A word many names share ("Codename 1", "Codename
 * 2"…) is a template, not a name; it would tie a mention to no one target.
 */
export function distinctNameParts(targets: readonly ForgetTarget[]): Map<string, string[]> {
  const enabled = targets.filter((t) => t.enabled);
  const owners = new Map<string, number>();
  const count = (key: string) => owners.set(key, (owners.get(key) ?? 0) + 1);
  const partsOf = enabled.map((t) => namePartsOf(t));
  enabled.forEach((t, i) => {
    const keys = new Set([...termsOf(t), ...partsOf[i]!].map(termKey));
    for (const k of keys) count(k);
  });
  const out = new Map<string, string[]>();
  enabled.forEach((t, i) => {
    const parts = partsOf[i]!.filter((p) => owners.get(termKey(p)) === 1);
    if (parts.length) out.set(t.id, parts);
  });
  return out;
}

/** Fewest letters a name part needs: shorter ones ("Li", "Ng") are too often initials or other words. */
const NAME_PART_MIN_LETTERS = 3;

/**
 * The distinctive parts of a target's multi-word name and aliases: a word written capitalised in the
 * name ("Lindqvist" of "Ada Lindqvist", "Zorvath" of "Kael Zorvath") that is no English word of the
 * frequency table ("Project", "Falcon", "Smith", "Logistics" are not parts; see `isEnglishWord`). A part binds like the
 * name: the matcher and the guard read "Dr. Lindqvist" as the target, but only capitalised, as a proper
 * noun ("falcon" the bird stays free). Parts the target already spells as a name or alias, and parts
 * listed in `freeNameParts`, are left out. Deterministic and cheap: derived wherever terms are read.
 */
export function namePartsOf(target: ForgetTarget): string[] {
  if (target.freeNameParts === true) return [];
  const spelled = termsOf(target);
  const taken = new Set(spelled.map(termKey));
  for (const free of target.freeNameParts ?? []) taken.add(termKey(free));
  const parts: string[] = [];
  for (const term of spelled) {
    const words = term.normalize('NFC').trim().split(/\s+/);
    if (words.length < 2) continue;
    for (const raw of words) {
      const word = raw.replace(NAME_PART_EDGE, '');
      if (!NAME_PART.test(word)) continue;
      if (countLetters(word) < NAME_PART_MIN_LETTERS || isEnglishWord(word)) continue;
      const key = termKey(word);
      if (taken.has(key)) continue;
      taken.add(key);
      parts.push(word);
    }
  }
  return parts;
}

/**
 * Whether a word is in the English frequency table at all (its 20,000 most frequent words), as written
 * or without a plural "s": "Falcon", "Logistics", "Holdings", "Potter" are words a sentence may start
 * with or a title may capitalise, so only a part outside it ("Lindqvist", "Zorvath") binds on its own.
 */
function isEnglishWord(word: string): boolean {
  const lower = word.toLowerCase();
  return isCommonWord(lower, NAME_PART_MAX_RANK) || (lower.endsWith('s') && isCommonWord(lower.slice(0, -1), NAME_PART_MAX_RANK));
}

/** The whole frequency table: a name part must be in none of it. */
const NAME_PART_MAX_RANK = 20_000;

/** A capitalised word of letters (an inner apostrophe or hyphen allowed: "O'Brien", "Smith-Jones"). */
const NAME_PART = /^\p{Lu}[\p{L}\p{M}]*(?:['’-][\p{L}\p{M}]+)*$/u;
/** Punctuation around a word of a name: "(Ada)", "Lindqvist,", "Jr.". */
const NAME_PART_EDGE = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;

function countLetters(word: string): number {
  return word.match(/\p{L}/gu)?.length ?? 0;
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

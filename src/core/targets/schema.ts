import { z } from 'zod';
import { deriveTargetId, type ForgetTarget } from './target';

/** Longest name or alias we accept; longer strings are almost certainly pasted by mistake. */
export const MAX_TERM_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2000;

const term = z
  .string()
  .trim()
  .min(2, 'must have at least 2 characters (a single character would redact ordinary text)')
  .max(MAX_TERM_LENGTH, `must be at most ${MAX_TERM_LENGTH} characters`)
  .refine((s) => s.isWellFormed(), 'contains an unpaired UTF-16 surrogate');

/** One entry of the `unlearn.targets` setting or of an imported file. Only `name` is required. */
export const targetEntrySchema = z.object({
  id: z.string().trim().min(1).max(100).optional(),
  name: term,
  aliases: z.array(term).max(100, 'at most 100 aliases').optional(),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  enabled: z.boolean().optional(),
});

const KNOWN_KEYS = new Set(Object.keys(targetEntrySchema.shape));

export type TargetEntry = z.input<typeof targetEntrySchema>;

export interface TargetProblem {
  /** Index of the entry in the array, or -1 when the whole value is wrong. */
  readonly index: number;
  /** Where the problem is, e.g. `[3].aliases[1]`. */
  readonly path: string;
  readonly message: string;
  /** `error`: the entry is skipped. `warning`: the entry is used, but something in it is ignored. */
  readonly severity: 'error' | 'warning';
}

export interface ParsedTargets {
  /** Valid entries in their original order (disabled ones included). */
  readonly targets: ForgetTarget[];
  /** Every problem found; the entries they belong to are skipped but left untouched in the source. */
  readonly problems: TargetProblem[];
  /** For each valid target, the index of its entry in the source array (so editors can write back in place). */
  readonly sourceIndex: ReadonlyMap<string, number>;
}

/**
 * Validates untrusted input (settings, imported files). Invalid entries are reported with their path and
 * skipped; they are never dropped from the source nor rewritten, which is the caller's job to honour.
 */
export function parseTargets(raw: unknown): ParsedTargets {
  const problems: TargetProblem[] = [];
  const targets: ForgetTarget[] = [];
  const sourceIndex = new Map<string, number>();
  if (raw === undefined || raw === null) return { targets, problems, sourceIndex };
  if (!Array.isArray(raw)) {
    problems.push({ index: -1, path: '', message: `expected an array of targets, got ${describe(raw)}`, severity: 'error' });
    return { targets, problems, sourceIndex };
  }
  const seenIds = new Map<string, number>();
  const seenNames = new Map<string, number>();
  raw.forEach((entry, index) => {
    const result = targetEntrySchema.safeParse(entry);
    if (!result.success) {
      for (const issue of result.error.issues) {
        problems.push({ index, path: `[${index}]${formatPath(issue.path)}`, message: issue.message, severity: 'error' });
      }
      return;
    }
    const value = result.data;
    // Unknown keys (a typo such as "alias") must not switch a target off: the target stays guarded and
    // the key is reported, so the user can fix it.
    for (const key of Object.keys(entry as object)) {
      if (!KNOWN_KEYS.has(key)) problems.push({ index, path: `[${index}].${key}`, message: `unknown key "${key}" is ignored (known keys: ${[...KNOWN_KEYS].join(', ')})`, severity: 'warning' });
    }
    const id = value.id ?? deriveTargetId(value.name);
    const nameKey = value.name.normalize('NFKC').toLowerCase();
    const firstWithName = seenNames.get(nameKey);
    if (firstWithName !== undefined) {
      problems.push({ index, path: `[${index}].name`, message: `duplicate of entry [${firstWithName}] ("${value.name}")`, severity: 'error' });
      return;
    }
    const firstWithId = seenIds.get(id);
    if (firstWithId !== undefined) {
      problems.push({ index, path: `[${index}].id`, message: `id "${id}" is already used by entry [${firstWithId}]`, severity: 'error' });
      return;
    }
    seenIds.set(id, index);
    seenNames.set(nameKey, index);
    const aliases = dedupe((value.aliases ?? []).filter((a) => a.normalize('NFKC').toLowerCase() !== nameKey));
    targets.push({
      id,
      name: value.name,
      aliases,
      ...(value.description?.trim() ? { description: value.description.trim() } : {}),
      enabled: value.enabled ?? true,
    });
    sourceIndex.set(id, index);
  });
  return { targets, problems, sourceIndex };
}

/** Formats problems for a person: one line each, with the path. */
export function formatProblems(problems: readonly TargetProblem[], source = 'unlearn.targets'): string[] {
  return problems.map((p) => `${source}${p.path}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`);
}

function dedupe(terms: string[]): string[] {
  const seen = new Set<string>();
  return terms.filter((t) => {
    const key = t.normalize('NFKC').toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

import { z } from 'zod';
import { deriveTargetId, termKey, type ForgetTarget } from './target';

/** Longest name or alias we accept; longer strings are almost certainly pasted by mistake. */
const MAX_TERM_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_ALIASES = 100;
export const MAX_EXAMPLES = 20;
export const MAX_EXAMPLE_LENGTH = 500;

/**
 * Why a (trimmed) name or alias cannot be a term, or undefined when it can. One reason at a time, the
 * cheap checks first, so a pasted megabyte costs one length test.
 */
function termProblem(term: string): string | undefined {
  if (term.length < 2) return 'must have at least 2 characters (a single character would redact ordinary text)';
  if (term.length > MAX_TERM_LENGTH) return `must be at most ${MAX_TERM_LENGTH} characters`;
  if (!term.isWellFormed()) return 'contains an unpaired UTF-16 surrogate';
  // The guard matches letters and digits and reads symbols as separators or disguises, so "(a+)+$"
  // would be the term "a" and redact every word "a" in ordinary text.
  if (countLettersAndDigits(term.normalize('NFKC')) < 2) {
    return 'must have at least 2 letters or digits, symbols not counted (the guard matches letters and digits, so a single one would redact ordinary text)';
  }
  return undefined;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/gu;

function countLettersAndDigits(text: string): number {
  LETTER_OR_DIGIT.lastIndex = 0;
  let count = 0;
  while (count < 2 && LETTER_OR_DIGIT.exec(text)) count++;
  return count;
}

const term = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const why = termProblem(s);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

const idSchema = z.string().trim().min(1).max(100);
const descriptionSchema = z.string().max(MAX_DESCRIPTION_LENGTH);
const exampleSchema = z.string().trim().min(1).max(MAX_EXAMPLE_LENGTH);

/** One entry of the `unlearn.targets` setting or of an imported file. Only `name` is required. */
export const targetEntrySchema = z.object({
  id: idSchema.optional(),
  name: term,
  aliases: z.array(term).max(MAX_ALIASES, `at most ${MAX_ALIASES} aliases`).optional(),
  description: descriptionSchema.optional(),
  examples: z.array(exampleSchema).max(MAX_EXAMPLES, `at most ${MAX_EXAMPLES} examples`).optional(),
  enabled: z.boolean().optional(),
  /**
   * `true`: every name and alias matches only capitalised as a proper noun; a list: only those terms.
   * For names that are ordinary words ("Will", "Mark"): without it every "will" in an answer is redacted.
   */
  caseSensitive: z.union([z.boolean(), z.array(term).max(MAX_ALIASES + 1)]).optional(),
  /**
   * Distinctive parts of a multi-word name ("Lindqvist" of "Ada Lindqvist") count as the name, matched
   * capitalised. `true` leaves every part free; a list leaves those parts free (e.g. ["Vega"] for
   * "Vega Lindqvist" in a workspace about stars). Absent or `false`: every part counts.
   */
  freeNameParts: z.union([z.boolean(), z.array(term).max(MAX_ALIASES + 1)]).optional(),
});

const KNOWN_KEYS = new Set(Object.keys(targetEntrySchema.shape));

export type TargetEntry = z.input<typeof targetEntrySchema>;

export interface TargetProblem {
  /** Index of the entry in the array, or -1 when the whole value is wrong. */
  readonly index: number;
  /** Where the problem is, e.g. `[3].aliases[1]`. */
  readonly path: string;
  readonly message: string;
  /**
   * `error`: the entry is skipped (its name is unusable, or it repeats another entry).
   * `warning`: the entry is used and its name guarded; the part at `path` is ignored (a malformed
   * `enabled` counts as enabled).
   */
  readonly severity: 'error' | 'warning';
}

export interface ParsedTargets {
  /** Usable entries in their original order (disabled ones included), salvaged ones too. */
  readonly targets: ForgetTarget[];
  /** Every problem found, with its path; nothing is dropped from or rewritten in the source. */
  readonly problems: TargetProblem[];
  /** For each target, the index of its entry in the source array (so editors can write back in place). */
  readonly sourceIndex: ReadonlyMap<string, number>;
}

interface EntryValue {
  readonly id?: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description?: string;
  readonly examples?: readonly string[];
  readonly enabled: boolean;
  readonly caseSensitive?: boolean | readonly string[];
  readonly freeNameParts?: boolean | readonly string[];
}

/**
 * Validates untrusted input (settings, imported files). Fail-closed: an entry whose name is usable is
 * always guarded; what is malformed around it (an alias, the description, the id, the `enabled` flag)
 * is ignored and reported as a warning at its path, and a malformed `enabled` counts as enabled, so a
 * typo never switches a target off. Entries without a usable name, or repeating another entry, are
 * skipped with an error. The source is never written to; callers must not drop or rewrite it either.
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
    const value = parseEntry(entry, index, problems);
    if (!value) return;
    // Unknown keys (a typo such as "alias") must not switch a target off: the target stays guarded and
    // the key is reported, so the user can fix it.
    for (const key of Object.keys(entry as object)) {
      if (!KNOWN_KEYS.has(key))
        problems.push({
          index,
          path: `[${index}].${key}`,
          message: `unknown key "${key}" is ignored (known keys: ${[...KNOWN_KEYS].join(', ')})`,
          severity: 'warning',
        });
    }
    const id = value.id ?? deriveTargetId(value.name);
    const nameKey = value.name.normalize('NFKC').toLowerCase();
    const firstWithName = seenNames.get(nameKey);
    if (firstWithName !== undefined) {
      problems.push({
        index,
        path: `[${index}].name`,
        message: `duplicate of entry [${firstWithName}] ("${value.name}")`,
        severity: 'error',
      });
      return;
    }
    const firstWithId = seenIds.get(id);
    if (firstWithId !== undefined) {
      problems.push({ index, path: `[${index}].id`, message: `id "${id}" is already used by entry [${firstWithId}]`, severity: 'error' });
      return;
    }
    seenIds.set(id, index);
    seenNames.set(nameKey, index);
    const aliases = dedupe(value.aliases.filter((a) => a.normalize('NFKC').toLowerCase() !== nameKey));
    const caseSensitive = resolveCaseSensitive(value.caseSensitive, [value.name, ...aliases], (k, term) =>
      problems.push({
        index,
        path: `[${index}].caseSensitive[${k}]`,
        message: `"${term}" is not the name or an alias of this entry; ignored`,
        severity: 'warning',
      }),
    );
    targets.push({
      id,
      name: value.name,
      aliases,
      ...(value.description?.trim() ? { description: value.description.trim() } : {}),
      ...(value.examples?.length ? { examples: value.examples } : {}),
      enabled: value.enabled,
      ...(caseSensitive.length ? { caseSensitive } : {}),
      ...freeNamePartsOf(value.freeNameParts),
    });
    sourceIndex.set(id, index);
  });
  return { targets, problems, sourceIndex };
}

/** One entry → its usable value (problems pushed), or undefined when it has no usable name. */
function parseEntry(entry: unknown, index: number, problems: TargetProblem[]): EntryValue | undefined {
  // The common case: everything valid, one schema pass.
  const whole = targetEntrySchema.safeParse(entry);
  if (whole.success) return { ...whole.data, aliases: whole.data.aliases ?? [], enabled: whole.data.enabled ?? true };

  const at = `[${index}]`;
  const error = (path: string, message: string) => problems.push({ index, path: `${at}${path}`, message, severity: 'error' });
  const warn = (path: string, message: string) => problems.push({ index, path: `${at}${path}`, message, severity: 'warning' });
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    error('', `expected an object with a "name", got ${kindOf(entry)}`);
    return undefined;
  }
  const fields = entry as Record<string, unknown>;
  const name = term.safeParse(fields.name);
  if (!name.success) {
    for (const issue of name.error.issues) error(`.name${formatPath(issue.path)}`, issue.message);
    return undefined;
  }

  // The name is usable, so the target is guarded whatever else is wrong with the entry.
  let id: string | undefined;
  if (fields.id !== undefined) {
    const parsed = idSchema.safeParse(fields.id);
    if (parsed.success) id = parsed.data;
    else warn('.id', `${firstMessage(parsed.error)}; ignored, the id is derived from the name`);
  }

  // Only the first MAX_ALIASES are looked at, so a pasted huge array costs bounded work.
  const aliases = stringList(fields.aliases, term, MAX_ALIASES, '.aliases', warn, {
    notList: 'no alias of this entry is guarded',
    one: 'alias',
    many: 'aliases',
  });

  let description: string | undefined;
  if (fields.description !== undefined) {
    const parsed = descriptionSchema.safeParse(fields.description);
    if (parsed.success) description = parsed.data;
    else warn('.description', `${firstMessage(parsed.error)}; the description is ignored`);
  }

  const examples = stringList(fields.examples, exampleSchema, MAX_EXAMPLES, '.examples', warn, {
    notList: 'the examples are ignored',
    one: 'example',
    many: 'examples',
  });

  let enabled = true;
  if (fields.enabled !== undefined) {
    if (typeof fields.enabled === 'boolean') enabled = fields.enabled;
    else
      warn(
        '.enabled',
        `must be true or false, got ${kindOf(fields.enabled)}; the target stays enabled (a malformed flag never switches a target off)`,
      );
  }

  // Malformed, either is ignored: every term then matches in any case, and every name part then binds,
  // which redacts more, never less.
  const caseSensitive = flagOrTerms(fields.caseSensitive, '.caseSensitive', warn, 'every name and alias matches in any case');
  const freeNameParts = flagOrTerms(fields.freeNameParts, '.freeNameParts', warn, 'every name part counts as the name');

  return {
    ...(id !== undefined ? { id } : {}),
    name: name.data,
    aliases,
    ...(description !== undefined ? { description } : {}),
    ...(examples.length ? { examples } : {}),
    enabled,
    ...(caseSensitive !== undefined ? { caseSensitive } : {}),
    ...(freeNameParts !== undefined ? { freeNameParts } : {}),
  };
}

/** The target's `freeNameParts` field from the entry's value: `true`, a non-empty list, or nothing. */
function freeNamePartsOf(value: boolean | readonly string[] | undefined): { freeNameParts?: true | readonly string[] } {
  if (value === true) return { freeNameParts: true };
  if (Array.isArray(value) && value.length) return { freeNameParts: [...(value as readonly string[])] };
  return {};
}

/**
 * The terms (as written in the target) that match only capitalised. A listed string that is none of the
 * target's terms is reported through `unknown` and ignored.
 */
function resolveCaseSensitive(
  value: boolean | readonly string[] | undefined,
  terms: readonly string[],
  unknown: (k: number, term: string) => void,
): string[] {
  if (value === undefined || value === false) return [];
  if (value === true) return [...terms];
  const byKey = new Map(terms.map((t) => [termKey(t), t]));
  const out = new Set<string>();
  value.forEach((listed, k) => {
    const t = byKey.get(termKey(listed));
    if (t === undefined) unknown(k, listed);
    else out.add(t);
  });
  return [...out];
}

/** Formats problems for a person: one line each, with the path. */
export function formatProblems(problems: readonly TargetProblem[], source = 'unlearn.targets'): string[] {
  return problems.map((p) => `${source}${p.path}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`);
}

/** A field that is `true`, `false` or a list of the target's terms (`caseSensitive`, `freeNameParts`); undefined when absent. */
function flagOrTerms(
  value: unknown,
  path: string,
  warn: (path: string, message: string) => void,
  notList: string,
): boolean | string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  return stringList(value, term, MAX_ALIASES + 1, path, warn, { notList, one: 'entry', many: 'entries' });
}

/**
 * An optional list of strings in a target entry: each item checked by `schema`, at most `max` of them
 * looked at. Whatever is wrong is warned about and left out; the entry itself stays.
 */
function stringList(
  value: unknown,
  schema: z.ZodType<string>,
  max: number,
  path: string,
  warn: (path: string, message: string) => void,
  words: { readonly notList: string; readonly one: string; readonly many: string },
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    warn(path, `expected an array of strings, got ${kindOf(value)}; ${words.notList}`);
    return [];
  }
  const items: string[] = [];
  const list = value as unknown[];
  list.slice(0, max).forEach((item, k) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) items.push(parsed.data);
    else warn(`${path}[${k}]`, `${firstMessage(parsed.error)}; this ${words.one} is ignored`);
  });
  if (list.length > max) warn(path, `at most ${max} ${words.many}; the ${list.length - max} after the ${max}th are ignored`);
  return items;
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid';
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

/** The kind of a value, without its content (which may be a target name). */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

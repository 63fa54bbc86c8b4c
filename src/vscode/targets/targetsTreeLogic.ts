/**
 * Edits of the raw `unlearn.targets` array, as pure functions (no `vscode`), so node tests cover them.
 *
 * The raw array is whatever the user's settings.json holds, malformed entries included. Every edit
 * works on a copy of that array and touches only the one entry it is about: other entries, unknown
 * keys inside the edited entry, and entries that fail validation come back exactly as they were. An
 * entry is found by its target id through `parseTargets(...).sourceIndex`, on the array as it is *now*,
 * so a hand edit made since the tree was drawn cannot make us write to the wrong index.
 */
import {
  MAX_EXAMPLE_LENGTH,
  MAX_EXAMPLES,
  parseTargets,
  targetEntrySchema,
  formatProblems,
  type ForgetTarget,
  type TargetProblem,
} from '../../core/targets';

export type TargetEdit =
  | { readonly kind: 'add'; readonly name: string; readonly aliases?: readonly string[]; readonly description?: string }
  | { readonly kind: 'rename'; readonly id: string; readonly name: string }
  | { readonly kind: 'addAlias'; readonly id: string; readonly alias: string }
  | { readonly kind: 'removeAlias'; readonly id: string; readonly alias: string }
  | { readonly kind: 'setDescription'; readonly id: string; readonly description: string }
  | { readonly kind: 'addExample'; readonly id: string; readonly example: string }
  | { readonly kind: 'removeExample'; readonly id: string; readonly example: string }
  | { readonly kind: 'setEnabled'; readonly id: string; readonly enabled: boolean }
  | { readonly kind: 'delete'; readonly id: string };

export type EditResult = { readonly ok: true; readonly value: unknown[] } | { readonly ok: false; readonly message: string };

/** Raw setting value → an array we may edit. A non-array value is never replaced: the caller must refuse. */
function editableArray(raw: unknown): unknown[] | undefined {
  if (raw === undefined || raw === null) return [];
  return Array.isArray(raw) ? [...raw] : undefined;
}

export function applyTargetEdit(raw: unknown, edit: TargetEdit): EditResult {
  const array = editableArray(raw);
  if (!array)
    return { ok: false, message: 'unlearn.targets is not an array in settings.json; fix it by hand first, Unlearn will not overwrite it.' };
  if (edit.kind === 'add') {
    const entry: Record<string, unknown> = { name: edit.name.trim() };
    if (edit.aliases?.length) entry.aliases = [...edit.aliases];
    if (edit.description?.trim()) entry.description = edit.description.trim();
    return checked(array, [...array, entry], array.length);
  }
  const index = parseTargets(array).sourceIndex.get(edit.id);
  if (index === undefined)
    return { ok: false, message: 'That target is no longer in settings.json (it was changed elsewhere). The list has been refreshed.' };
  if (edit.kind === 'delete') {
    array.splice(index, 1);
    return { ok: true, value: array };
  }
  // Only entries with a usable name have an id, so this entry is an object; copy it so the caller's value
  // stays untouched. A salvaged entry may still hold malformed parts (reported as warnings): an edit
  // never overwrites one of those with something else, the user fixes it in settings.json.
  const entry = { ...(array[index] as Record<string, unknown>) };
  const malformed = (field: string) => parseTargets(array).problems.some((p) => p.index === index && p.path === `[${index}].${field}`);
  // A list field as written: a copy to extend, [] when absent, undefined when it is not a list at all.
  const listOf = (field: 'aliases' | 'examples'): unknown[] | undefined =>
    entry[field] === undefined ? [] : Array.isArray(entry[field]) ? [...(entry[field] as unknown[])] : undefined;
  const notAList = (field: 'aliases' | 'examples'): EditResult => ({
    ok: false,
    message: `The ${field} of this target in settings.json are not a list; fix them by hand first, Unlearn will not overwrite them.`,
  });
  switch (edit.kind) {
    case 'rename':
      entry.name = edit.name.trim();
      break;
    case 'addAlias': {
      const aliases = listOf('aliases');
      if (!aliases) return notAList('aliases');
      const alias = edit.alias.trim();
      if (aliases.some((a) => typeof a === 'string' && sameTerm(a, alias)) || sameTerm(String(entry.name), alias)) {
        return { ok: false, message: `"${alias}" is already a name or alias of this target.` };
      }
      entry.aliases = [...aliases, alias];
      break;
    }
    case 'removeAlias': {
      const aliases = listOf('aliases') ?? [];
      const kept = aliases.filter((a) => !(typeof a === 'string' && a.trim() === edit.alias.trim()));
      if (kept.length === aliases.length) return { ok: false, message: `"${edit.alias}" is not an alias of this target any more.` };
      if (kept.length) entry.aliases = kept;
      else delete entry.aliases;
      break;
    }
    case 'setDescription':
      if (malformed('description'))
        return {
          ok: false,
          message: 'The description of this target in settings.json is malformed; fix it by hand first, Unlearn will not overwrite it.',
        };
      if (edit.description.trim()) entry.description = edit.description.trim();
      else delete entry.description;
      break;
    case 'addExample': {
      const examples = listOf('examples');
      if (!examples) return notAList('examples');
      const example = edit.example.trim().replace(/\s+/g, ' ');
      const problem = validateExample(example);
      if (problem) return { ok: false, message: problem };
      if (examples.some((e) => typeof e === 'string' && sameTerm(e, example)))
        return { ok: false, message: 'This target already has that example.' };
      if (examples.length >= MAX_EXAMPLES)
        return { ok: false, message: `A target holds at most ${MAX_EXAMPLES} examples; remove one first.` };
      entry.examples = [...examples, example];
      break;
    }
    case 'removeExample': {
      const examples = listOf('examples') ?? [];
      // Only an exact match (after trimming) goes: a malformed neighbour stays as the user wrote it.
      const at = examples.findIndex((e) => typeof e === 'string' && e.trim() === edit.example.trim());
      if (at < 0) return { ok: false, message: 'That example is not in this target any more.' };
      const kept = examples.filter((_, i) => i !== at);
      if (kept.length) entry.examples = kept;
      else delete entry.examples;
      break;
    }
    case 'setEnabled':
      entry.enabled = edit.enabled;
      break;
  }
  const before = [...array];
  array[index] = entry;
  return checked(before, array, index);
}

/**
 * Refuses an edit that would turn the edited entry invalid (a 1-letter name), add a malformed part to
 * it (a 1-letter alias, which the parser would only ignore) or knock out another one (renaming A to
 * B's name would make B the duplicate, silently unguarding it). Problems the entry already had, such
 * as a malformed flag written by hand, do not block an edit of another field.
 */
function checked(before: unknown[], after: unknown[], index: number): EditResult {
  const parsed = parseTargets(after);
  const problems = parsed.problems.filter((p) => p.severity === 'error');
  const own = problems.filter((p) => p.index === index);
  if (own.length) return { ok: false, message: own.map((p) => p.message).join('; ') };
  const previous = parseTargets(before);
  const added = newProblems(previous.problems, parsed.problems, index);
  if (added.length) return { ok: false, message: added.map((p) => p.message.replace(/; this alias is ignored$/, '')).join('; ') };
  const validAfter = new Set(parsed.sourceIndex.values());
  const lost = [...previous.sourceIndex.values()].find((i) => i !== index && !validAfter.has(i));
  if (lost !== undefined) {
    const why = problems.find((p) => p.index === lost);
    return { ok: false, message: `that would knock out entry [${lost}]${why ? ` (${why.message})` : ''}` };
  }
  return { ok: true, value: after };
}

/** Problems of entry `index` in `after` that it did not have in `before` (alias and example positions ignored, as removing one shifts the rest). */
function newProblems(before: readonly TargetProblem[], after: readonly TargetProblem[], index: number): TargetProblem[] {
  const keyOf = (p: TargetProblem) => `${p.path.slice(`[${index}]`.length).replace(/^\.(aliases|examples)\[\d+\]/, '.$1[]')} ${p.message}`;
  const had = new Map<string, number>();
  for (const p of before) if (p.index === index) had.set(keyOf(p), (had.get(keyOf(p)) ?? 0) + 1);
  return after.filter((p) => {
    if (p.index !== index) return false;
    const left = had.get(keyOf(p)) ?? 0;
    had.set(keyOf(p), left - 1);
    return left <= 0;
  });
}

function sameTerm(a: string, b: string): boolean {
  return a.trim().normalize('NFKC').toLowerCase() === b.trim().normalize('NFKC').toLowerCase();
}

/** Checks one name or alias typed in an input box; undefined when fine (VS Code's validateInput convention). */
export function validateTerm(value: string): string | undefined {
  const result = targetEntrySchema.shape.name.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}

/**
 * Checks a sample question typed in an input box; undefined when fine. Examples are what a user would
 * ask about the target without naming it ("Who runs that wizard school?"), used for relevance only.
 */
export function validateExample(value: string): string | undefined {
  const text = value.trim();
  if (!text) return 'Type a question someone might ask about this target.';
  if (text.length > MAX_EXAMPLE_LENGTH) return `At most ${MAX_EXAMPLE_LENGTH} characters (this one has ${text.length}).`;
  return undefined;
}

// --- import and export ------------------------------------------------------------------------------

export interface ImportPlan {
  /** Entries to append, as they were in the file (unknown keys kept). */
  readonly entries: unknown[];
  /** Names already present in the setting, skipped. */
  readonly duplicates: string[];
  /** Entries of the file that failed validation, one line each with its path; not imported, the file keeps them. */
  readonly problems: string[];
  /** The same problems as paths only (`names.txt[1].name`): a reason can quote a target's name. */
  readonly problemPaths: string[];
}

/**
 * What "Show Problems" after an import writes to the log: paths and a count always, the reasons (which
 * can quote a target's name, as in `duplicate of entry [0] ("project falcon")`) only through trace.
 */
export function importProblemsLog(plan: Pick<ImportPlan, 'problems' | 'problemPaths'>): { readonly warn: string; readonly trace: string } {
  const n = plan.problemPaths.length;
  return {
    warn: `import problems: ${n} ${n === 1 ? 'entry' : 'entries'} not imported, at ${plan.problemPaths.join(', ')} (the reasons are logged only with unlearn.trace on)`,
    trace: `import problems:\n${plan.problems.join('\n')}`,
  };
}

/**
 * Reads an import file: a JSON array of entries (or of plain names), `{ "targets": [...] }`, the
 * `unlearn.targets` key of a settings.json, or plain text with one name per line (`#` starts a comment).
 */
export function parseImport(text: string, fileName: string): unknown[] | { readonly error: string } {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return { error: `${fileName} looks like JSON but does not parse: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!Array.isArray(value) && value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      value = o['unlearn.targets'] ?? o.targets;
    }
    if (!Array.isArray(value))
      return { error: `${fileName} holds no array of targets (expected [...], {"targets": [...]} or {"unlearn.targets": [...]}).` };
    return value.map((e) => (typeof e === 'string' ? { name: e } : e));
  }
  return trimmed
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((name) => ({ name }));
}

/** What importing `incoming` into `existing` adds: valid, new entries only. */
export function planImport(existing: unknown, incoming: readonly unknown[], fileName: string): ImportPlan {
  const present = new Set(parseTargets(editableArray(existing) ?? []).targets.map((t) => key(t.name)));
  const parsed = parseTargets(incoming);
  const errorIndexes = new Set(parsed.problems.filter((p) => p.severity === 'error').map((p) => p.index));
  const entries: unknown[] = [];
  const duplicates: string[] = [];
  incoming.forEach((entry, index) => {
    if (errorIndexes.has(index)) return;
    const name = String((entry as { name: string }).name).trim();
    if (present.has(key(name))) {
      duplicates.push(name);
      return;
    }
    present.add(key(name));
    entries.push(entry);
  });
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  return { entries, duplicates, problems: formatProblems(errors, fileName), problemPaths: errors.map((p) => `${fileName}${p.path}`) };
}

function key(name: string): string {
  return name.trim().normalize('NFKC').toLowerCase();
}

/** Export keeps every entry as written, malformed ones too: an export is a backup, not a cleanup. */
export function exportTargets(raw: unknown): string {
  return `${JSON.stringify(editableArray(raw) ?? raw, null, 2)}\n`;
}

// --- what the tree shows ----------------------------------------------------------------------------

export interface StoreView {
  readonly targets: readonly ForgetTarget[];
  /** Problems by entry; `index` -1 for a value that is not an array at all. */
  readonly problems: readonly TargetProblem[];
  /** For a problem entry: a short, safe label (its name when it has one). */
  readonly problemLabels: ReadonlyMap<number, string>;
}

export function viewOf(raw: unknown): StoreView {
  const parsed = parseTargets(raw);
  const problemLabels = new Map<number, string>();
  if (Array.isArray(raw)) {
    for (const p of parsed.problems) {
      const entry = raw[p.index] as { name?: unknown } | undefined;
      const name =
        entry && typeof entry === 'object' && typeof entry.name === 'string' && entry.name.trim()
          ? entry.name.trim().slice(0, 60)
          : undefined;
      problemLabels.set(p.index, name ? `Entry [${p.index}] "${name}"` : `Entry [${p.index}]`);
    }
  }
  return { targets: parsed.targets, problems: parsed.problems, problemLabels };
}

/**
 * The Forget Targets view's row for a target's distinctive name parts (`namePartsOf`): one row, so a
 * person sees which words of the name bind on their own, e.g. "name parts: Lindqvist".
 */
export function namePartsLabel(parts: readonly string[]): string {
  return `name parts: ${parts.join(', ')}`;
}

import { ANONYMOUS_MARKER, type GuardMatch, type TargetIndex } from '../guard';
import type { JsonSchema, ToolCall } from '../llm';
import { stripControls } from '../text';

/**
 * What leaves through a tool call in Agent mode. A tool call is not shown to a reader, it acts: a file
 * edit writes its text to disk, a terminal command runs, a search query leaves the machine. So every
 * string in its arguments passes the leak guard before VS Code sees the call:
 *
 * - nothing found: the call goes out exactly as the model wrote it;
 * - names found in string values: each is replaced by `[redacted]` (no name in it, unlike the chat's
 *   marker, which would write the name into the file it protects), and the call goes out masked if its
 *   arguments are still the same JSON shape and still satisfy what the tool's schema pins down (an enum,
 *   a constant, a pattern);
 * - otherwise (a name in a key, in an encoded value whose bytes a mask would corrupt, across two values,
 *   in numbers such as character codes, in a JSON-in-a-string that masking breaks, or a masked value the
 *   schema rejects): the call is
 *   blocked, and the caller says so in the answer, naming the target. Never a silent drop.
 */

/** Masked into argument strings: carries no name, unlike the chat's marker. */
export const ARGUMENT_MASK = ANONYMOUS_MARKER;

export type GuardedToolCall =
  | { readonly kind: 'pass'; readonly call: ToolCall }
  | { readonly kind: 'masked'; readonly call: ToolCall; readonly masked: number; readonly targets: readonly string[] }
  | { readonly kind: 'blocked'; readonly name: string; readonly targets: readonly string[]; readonly why: string };

/** `schema` is the tool's input schema, when the caller knows it; without it only the JSON shape is kept. */
export function guardToolCall(call: ToolCall, index: TargetIndex, schema?: JsonSchema): GuardedToolCall {
  if (index.targets.length === 0) return { kind: 'pass', call };
  const walk = new ArgumentWalk(index);
  const args = walk.value(call.arguments, schema, '');
  const blocked = (why: string, ids: Iterable<string> = walk.found): GuardedToolCall => ({
    kind: 'blocked',
    name: call.name,
    targets: namesOf(index, ids),
    why,
  });
  if (walk.blockedBy) return blocked(walk.blockedBy);
  // A name split over two values ("Project" in one, "Falcon" in the next) is in no single string;
  // read together, in order, as a tool might join them.
  const joined = index.find(walk.strings.join('\n'));
  if (joined.length) return blocked('the name is spread over several arguments', idsOf(joined));
  // Numbers and structure carry text too (an array of character codes written to a file): the arguments
  // as serialized, after masking, must spell nothing either.
  const whole = index.find(JSON.stringify(args) ?? '');
  if (whole.length) return blocked('the arguments as a whole spell it (in numbers or structure)', idsOf(whole));
  if (walk.masked === 0) return { kind: 'pass', call };
  return {
    kind: 'masked',
    call: { ...call, arguments: args as Record<string, unknown> },
    masked: walk.masked,
    targets: namesOf(index, walk.found),
  };
}

class ArgumentWalk {
  /** Every string value after masking, in document order, for the cross-value check. */
  readonly strings: string[] = [];
  readonly found = new Set<string>();
  masked = 0;
  blockedBy: string | undefined;

  constructor(private readonly index: TargetIndex) {}

  value(v: unknown, schema: JsonSchema | undefined, path: string): unknown {
    if (this.blockedBy) return v;
    if (typeof v === 'string') return this.string(v, schema, path);
    if (Array.isArray(v)) return v.map((item, i) => this.value(item, itemSchema(schema, i), `${path}[${i}]`));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(v)) {
        const inKey = this.index.find(stripControls(key));
        if (inKey.length) {
          for (const id of idsOf(inKey)) this.found.add(id);
          // A key cannot be masked: the tool would get an argument it does not know.
          this.blockedBy = `a target is named in the name of an argument${path ? ` inside "${path}"` : ''}`;
          return v;
        }
        // defineProperty: a key named "__proto__" (valid JSON) must stay a key, not become a prototype.
        Object.defineProperty(out, key, {
          value: this.value(inner, propertySchema(schema, key), path ? `${path}.${key}` : key),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return v;
  }

  private string(raw: string, schema: JsonSchema | undefined, path: string): string {
    // Controls are taken out only to look: a name split by an escape sequence still prints as the name.
    const clean = stripControls(raw);
    const matches = this.index.find(clean);
    if (matches.length === 0) {
      this.strings.push(clean);
      return raw;
    }
    for (const id of idsOf(matches)) this.found.add(id);
    const where = quotePath(path, 'the arguments');
    if (matches.some((m) => m.kind === 'encoded')) {
      this.blockedBy = `${where} carries a target in an encoding (${encodings(matches)}) that masking would corrupt`;
      return raw;
    }
    const masked = maskMatches(clean, matches);
    const nested = parsesAsContainer(clean);
    if (nested !== undefined) {
      // JSON inside a string (a settings file, a notebook cell): the mask must leave it the same JSON.
      const after = parsesAsContainer(masked);
      if (after === undefined || shapeOf(after) !== shapeOf(nested)) {
        this.blockedBy = `masking ${where} would break the JSON it holds`;
        return raw;
      }
    }
    const rejected = schemaRejects(schema, masked);
    if (rejected) {
      this.blockedBy = `the masked ${where} would not be valid for the tool (${rejected})`;
      return raw;
    }
    this.masked += matches.length;
    this.strings.push(masked);
    return masked;
  }
}

function maskMatches(text: string, matches: readonly GuardMatch[]): string {
  let out = '';
  let cursor = 0;
  for (const m of matches) {
    if (m.start < cursor) continue;
    out += text.slice(cursor, m.start) + ARGUMENT_MASK;
    cursor = m.end;
  }
  return out + text.slice(cursor);
}

/** The value of a string that holds a JSON object or array, or undefined. */
function parsesAsContainer(text: string): unknown {
  const t = text.trim();
  if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Keys, nesting and value types, not the values: what a mask may not change. */
function shapeOf(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shapeOf).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${shapeOf((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return v === null ? 'null' : typeof v;
}

function propertySchema(schema: JsonSchema | undefined, key: string): JsonSchema | undefined {
  const props = schema?.properties;
  if (typeof props === 'object' && props !== null) {
    const p = (props as Record<string, unknown>)[key];
    if (typeof p === 'object' && p !== null) return p as JsonSchema;
  }
  const extra = schema?.additionalProperties;
  return typeof extra === 'object' && extra !== null ? (extra as JsonSchema) : undefined;
}

function itemSchema(schema: JsonSchema | undefined, i: number): JsonSchema | undefined {
  const items = schema?.items ?? schema?.prefixItems;
  if (Array.isArray(items)) return typeof items[i] === 'object' ? (items[i] as JsonSchema) : undefined;
  return typeof items === 'object' && items !== null ? (items as JsonSchema) : undefined;
}

/** What the schema pins down that a masked string may break; undefined when it may stand. */
function schemaRejects(schema: JsonSchema | undefined, value: string): string | undefined {
  if (!schema) return undefined;
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return 'one of a fixed list of values';
  if ('const' in schema && schema.const !== value) return 'a fixed value';
  if (typeof schema.pattern === 'string') {
    const pattern = compilePattern(schema.pattern);
    if (pattern && !pattern.test(value)) return 'a pattern';
  }
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) return 'a length limit';
  return undefined;
}

/** JSON Schema patterns are ECMA-262 regular expressions; one JavaScript cannot read is not ours to enforce. */
function compilePattern(source: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(source, flags);
    } catch {
      // try the next reading (without `u`, escapes such as \- are allowed)
    }
  }
  return undefined;
}

function idsOf(matches: readonly GuardMatch[]): Set<string> {
  return new Set(matches.map((m) => m.targetId));
}

function namesOf(index: TargetIndex, ids: Iterable<string>): string[] {
  return [...new Set([...ids].map((id) => index.byId(id)?.name ?? id))];
}

function encodings(matches: readonly GuardMatch[]): string {
  return [...new Set(matches.flatMap((m) => (m.kind === 'encoded' ? [m.encoding ?? 'encoded'] : [])))].join(', ');
}

function quotePath(path: string, whole: string): string {
  return path ? `argument "${path}"` : whole;
}

import { DatasetFormatError } from './datasetFile';

/**
 * Every JSON value in a text, in order: one document, JSON Lines, or several documents one after
 * another (`[...][...]`, `{...}\n{...}` spread over many lines), which is how some benchmark exports
 * are concatenated. Values are cut at their closing bracket by a scanner that knows strings and
 * escapes, then each is parsed by `JSON.parse`, so the error for a broken one names its line.
 */
export function parseJsonValues(text: string, source: string): unknown[] {
  const body = text.replace(/^\uFEFF/, '');
  const values: unknown[] = [];
  let i = skipSpace(body, 0);
  while (i < body.length) {
    const end = valueEnd(body, i);
    const slice = body.slice(i, end);
    try {
      values.push(JSON.parse(slice));
    } catch (error) {
      throw new DatasetFormatError(`${source} line ${lineOf(body, i)} is not valid JSON: ${(error as Error).message}`);
    }
    i = skipSpace(body, end);
    // A comma between top-level values ("{...},\n{...}") is a common hand-written slip; read past it.
    if (body[i] === ',') i = skipSpace(body, i + 1);
  }
  return values;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** Index just past the value that starts at `start`. Scalars end at the next whitespace or bracket. */
function valueEnd(text: string, start: number): number {
  const first = text[start]!;
  if (first === '"') return stringEnd(text, start);
  if (first !== '{' && first !== '[') {
    let i = start;
    while (i < text.length && !/[\s{}[\],]/.test(text[i]!)) i++;
    return Math.max(i, start + 1);
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      i = stringEnd(text, i) - 1;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  // Unclosed: hand JSON.parse the rest, whose error then says what is missing.
  return text.length;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

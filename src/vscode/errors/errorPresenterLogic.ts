/**
 * Errors a person can act on: what went wrong in words for this front end (the settings to change, the
 * commands that fix it), as plain text and chat markdown, with buttons. Pure (no `vscode`); the VS Code
 * side that shows them is errorPresenter.ts.
 */
import { stripControls } from '../../core/text';
import { shortModelName } from '../../core/guardedModels';
import { escapeMarkdown } from '../chat/markdownSanitizer';
import type { Provider } from '../../core/llm';

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
const OPEN_BASE_URL: FixButton = { title: 'Open unlearn.baseUrl', command: 'unlearn.openSetting', arguments: ['unlearn.baseUrl'] };
const SHOW_LOG: FixButton = { title: 'Show Log', command: 'unlearn.showLog' };
const SELECT_MODEL: FixButton = { title: 'Select Model', command: 'unlearn.selectModel' };

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
export function describeChatError(error: unknown, host: string, model: string, provider: Provider = 'ollama'): ActionableError {
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  const text = error instanceof Error ? error.message : String(error);
  if (provider === 'openai') return describeOpenAIError(error, host, model);
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
      return refusedHost(code, host, text, OLLAMA_HOST);
    case 'timeout':
      return {
        code,
        ...texts`The model took too long to answer (${text}). A first request loads the model into memory; try again, or pick a smaller model.`,
        buttons: [{ title: 'Select Model', command: 'unlearn.selectModel' }],
      };
    default:
      return unanswered(code, text, hostSuspect, OLLAMA_HOST);
  }
}

/** The same, for an OpenAI-compatible server: its settings are `unlearn.baseUrl` and the API key, and nothing is pulled. */
function describeOpenAIError(error: unknown, host: string, model: string): ActionableError {
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  const text = error instanceof Error ? error.message : String(error);
  if (name === 'InvalidHostError') return { code: 'invalid-host', ...texts`${text}`, buttons: [OPEN_BASE_URL] };
  const hostSuspect = (error as { details?: { suspect?: unknown } })?.details?.suspect === 'host';
  const setKey: FixButton = { title: 'Set API Key…', command: 'unlearn.setApiKey' };
  const open = (setting: string): FixButton => ({
    title: `Open unlearn.${setting}`,
    command: 'unlearn.openSetting',
    arguments: [`unlearn.${setting}`],
  });
  switch (code) {
    case 'unreachable':
      return {
        code,
        ...texts`Cannot reach the OpenAI-compatible server at ${asCode(host || '(no base URL)')}. Start it, or point \`unlearn.baseUrl\` at the server that runs it.`,
        buttons: [OPEN_BASE_URL, SHOW_LOG],
      };
    case 'auth':
      return {
        code,
        ...texts`${text} Set the server's key with "Unlearn: Set API Key…" (it is kept in VS Code's secret storage).`,
        buttons: [setKey],
      };
    case 'model-missing':
      return {
        code,
        ...texts`The model ${asCode(model)} is not served at ${asCode(host)}. Pick one the server lists, or start the server with it.`,
        buttons: [SELECT_MODEL],
      };
    case 'overloaded':
      return {
        code,
        ...texts`${text} Set \`unlearn.parallelCalls\` to what the server handles at once, or try again later.`,
        buttons: [open('parallelCalls')],
      };
    case 'context-length':
      return {
        code,
        ...texts`${text} Set \`unlearn.contextLength\` to the server's context length (vLLM's --max-model-len) so older turns are left out first.`,
        buttons: [open('contextLength')],
      };
    case 'unsupported':
      return { code, ...texts`${text}`, buttons: [SELECT_MODEL] };
    case 'remote-host':
      return refusedHost(code, host, text, BASE_URL);
    case 'timeout':
      return { code, ...texts`The model took too long to answer (${text}). The server may be busy; try again.`, buttons: [SELECT_MODEL] };
    default:
      return unanswered(code, text, hostSuspect, BASE_URL);
  }
}

/** What differs between the two providers' host fixes: the setting that names the server, and its button. */
interface HostSetting {
  readonly name: string;
  readonly button: FixButton;
}
const OLLAMA_HOST: HostSetting = { name: 'unlearn.ollamaHost', button: OPEN_HOST };
const BASE_URL: HostSetting = { name: 'unlearn.baseUrl', button: OPEN_BASE_URL };

/** The message with "Check the `setting` setting." after it: our own text, so the same in both forms, not escaped. */
function checkSetting(described: { message: string; markdown: string }, setting: HostSetting): { message: string; markdown: string } {
  const tail = ` Check the \`${setting.name}\` setting.`;
  return { message: described.message + tail, markdown: described.markdown + tail };
}

/** The request was refused before it was sent: the host is not one Unlearn sends to. */
function refusedHost(code: string, host: string, text: string, setting: HostSetting): ActionableError {
  return {
    code,
    ...checkSetting(texts`Unlearn refused to send this request to ${asCode(host)}: ${text}`, setting),
    buttons: [setting.button],
  };
}

/** Any other failure: its own text, with the host setting to check when the host is the suspect. */
function unanswered(code: unknown, text: string, hostSuspect: boolean, setting: HostSetting): ActionableError {
  const described = texts`Unlearn could not answer: ${text}`;
  return {
    code: typeof code === 'string' ? code : 'unknown',
    ...(hostSuspect ? checkSetting(described, setting) : described),
    buttons: hostSuspect ? [setting.button, SHOW_LOG] : [SHOW_LOG],
  };
}

/**
 * The guarded models could not be listed: the same fix as for a failed request, said as a listing
 * failure (the picker has no place for it; the log and, when someone asked, a notification get it).
 */
export function describeListingError(error: unknown, host: string, provider: Provider = 'ollama'): ActionableError {
  const described = describeChatError(error, host, '', provider);
  const lead = (text: string) => `Unlearn cannot list guarded models: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
  return { ...described, message: lead(described.message), markdown: lead(described.markdown) };
}

/**
 * What a newcomer's set-up lacks and what to say about it: the pure half of the first-run notice, the
 * status bar advice and the walkthrough's Pull step (no `vscode` here, so node's runner tests it).
 */

/** The context keys first-run progress is kept in; the walkthrough's `onContext:` completion events name them. */
export const SETUP_KEYS = [
  'unlearn.ollamaReachable',
  'unlearn.chatModelInstalled',
  'unlearn.embeddingModelInstalled',
  'unlearn.hasTargets',
  'unlearn.answered',
  'unlearn.previewOpened',
] as const;
export type SetupKey = (typeof SETUP_KEYS)[number];

/** The Ollama server as the last check saw it. */
export type OllamaState = 'unknown' | 'up' | 'down' | 'invalid';

export interface SetupFacts {
  readonly ollama: OllamaState;
  readonly host: string;
  /** Whether the host is this machine: "start Ollama" is only something we can offer there. */
  readonly loopback: boolean;
  /** The configured chat model (`unlearn.model`). */
  readonly model: string;
  /** Models installed in Ollama that can chat and run locally; undefined until listed. */
  readonly chatModels?: readonly string[];
  /** Chat models other extensions offer (GitHub Copilot…): with one, the chat itself still works. */
  readonly otherVendorModels: number;
}

/** Why the chat cannot answer through Unlearn. An invalid host has its own warning (Open Setting). */
export type SetupProblem = 'ollama-down' | 'no-chat-model';

export function setupProblem(facts: SetupFacts): SetupProblem | undefined {
  if (facts.ollama === 'down') return 'ollama-down';
  if (facts.ollama === 'up' && facts.chatModels !== undefined && facts.chatModels.length === 0) return 'no-chat-model';
  return undefined;
}

export interface NoticeAction {
  readonly title: string;
  readonly command: string;
  readonly arguments?: readonly unknown[];
}

export interface Notice {
  readonly message: string;
  readonly actions: readonly NoticeAction[];
}

const OPEN_WALKTHROUGH: NoticeAction = { title: 'Open Walkthrough', command: 'unlearn.openWalkthrough' };

/** The notification for a problem: what is wrong, where, and the buttons that fix it. */
export function noticeFor(problem: SetupProblem, facts: SetupFacts): Notice {
  const noChat = facts.otherVendorModels === 0 ? 'The chat has no usable language model: ' : '';
  if (problem === 'ollama-down') {
    const start: NoticeAction = facts.loopback
      ? { title: 'Start Ollama', command: 'unlearn.startOllama' }
      : { title: 'Open Setting', command: 'unlearn.openSetting', arguments: ['unlearn.ollamaHost'] };
    return {
      message: `Unlearn: ${noChat}Ollama is not answering at ${facts.host}, so @unlearn and the guarded models cannot answer. ${
        facts.loopback
          ? 'Start it with "ollama serve" (install it from ollama.com first if needed).'
          : 'Start it on that machine, or change unlearn.ollamaHost.'
      }`,
      actions: [start, OPEN_WALKTHROUGH],
    };
  }
  return {
    message: `Unlearn: ${noChat}Ollama at ${facts.host} has no chat model installed yet. Pull one (the configured model is ${facts.model}).`,
    actions: [{ title: 'Pull Model…', command: 'unlearn.walkthrough.pullModels' }, OPEN_WALKTHROUGH],
  };
}

/** The status bar tooltip's extra paragraph (markdown with command links), or undefined when all is well. */
export function tooltipAdvice(problem: SetupProblem | undefined, facts: SetupFacts): string | undefined {
  if (!problem) return undefined;
  const noChat = facts.otherVendorModels === 0 ? 'The chat has no usable model: ' : '';
  const links = noticeFor(problem, facts)
    .actions.filter((a) => !a.arguments)
    .map((a) => `[${a.title}](command:${a.command})`)
    .join(' · ');
  const what = problem === 'ollama-down' ? 'Ollama is not running.' : 'no chat model is installed in Ollama.';
  return `$(warning) ${noChat}${what} ${links}`;
}

/** Commands the advice links to, for the tooltip's `isTrusted.enabledCommands`. */
export const ADVICE_COMMANDS = ['unlearn.startOllama', 'unlearn.walkthrough.pullModels', 'unlearn.openWalkthrough'] as const;

/**
 * Not nagging: each kind of problem is announced at most once per session, and only when it is new
 * (a server that flaps between down and up does not bring the notification back).
 */
export class NoticeGate {
  private readonly shown = new Set<SetupProblem>();
  private last: SetupProblem | undefined;

  /** The problem to announce now, if any. */
  next(problem: SetupProblem | undefined): SetupProblem | undefined {
    const changed = problem !== this.last;
    this.last = problem;
    if (!problem || !changed || this.shown.has(problem)) return undefined;
    this.shown.add(problem);
    return problem;
  }
}

/** Ollama names `llama3.2` and `llama3.2:latest` the same model. */
export function sameModel(a: string, b: string): boolean {
  const norm = (s: string) => {
    const t = s.trim().toLowerCase();
    return t.includes(':') ? t : `${t}:latest`;
  };
  return norm(a) === norm(b);
}

export function isInstalled(installed: readonly string[] | undefined, name: string): boolean {
  return !!installed?.some((m) => sameModel(m, name));
}

export interface PullChoice {
  readonly name: string;
  /** What it is for, with the setting that names it. */
  readonly role: string;
  readonly installed: boolean;
}

/**
 * The models the Pull step offers: the chat model `unlearn.model` names and, when that setting exists
 * and is set, the embedding model `unlearn.embeddingModel` names. Names come from settings, never from
 * this code, so a changed default or a new setting needs no change here.
 */
export function pullChoices(
  settings: { readonly model: string; readonly embeddingModel?: string },
  installed: readonly string[] | undefined,
): PullChoice[] {
  const choices: PullChoice[] = [
    { name: settings.model, role: 'chat model (unlearn.model)', installed: isInstalled(installed, settings.model) },
  ];
  const embedding = settings.embeddingModel?.trim();
  if (embedding && !sameModel(embedding, settings.model))
    choices.push({
      name: embedding,
      role: 'embedding model for semantic relevance (unlearn.embeddingModel)',
      installed: isInstalled(installed, embedding),
    });
  return choices;
}

import { ControlStripper, stripControls } from '../core/text';

/** What a CLI command may touch, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3, modelMissing: 4, interrupted: 130 } as const;

/**
 * Untrusted text (model output, a server's error message) on its way to a terminal: escape sequences,
 * control characters (but tab and newline) and bidi controls are removed, so an answer cannot move the
 * cursor, clear the screen, set the window title or visually reorder itself. Piped or redirected output
 * (not a TTY) is written as given (pipeline answers are already stripped at the source). Streaming: `end()` flushes what a sequence
 * split across chunks held back.
 */
export function terminalText(isTTY: boolean | undefined): { push(text: string): string; end(): string } {
  if (!isTTY) return { push: (text) => text, end: () => '' };
  return new ControlStripper();
}

/** One whole untrusted text for a terminal (see terminalText). */
export function forTerminal(text: string, isTTY: boolean | undefined): string {
  return isTTY ? stripControls(text) : text;
}

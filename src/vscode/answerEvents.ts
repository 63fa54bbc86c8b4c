import type { Redaction } from '../core/guard/types';

/**
 * "An answer was given": the chat participant and the guarded models report each finished answer
 * here, so first-run guidance (the walkthrough's "ask" step, "preview the last answer") can follow
 * without either of them knowing about it. Plain listeners, no `vscode`: the unit tests load the
 * callers with a stand-in.
 */
export interface AnswerNote {
  /** The guarded answer as shown (markers included; never the removed text). */
  readonly answer: string;
  readonly redactions: readonly Redaction[];
  /** Key of the pre-unlearning answer kept in memory (showOriginal only), for the preview's diff. */
  readonly previewId?: string;
  readonly via: 'participant' | 'guarded-model';
}

type Listener = (note: AnswerNote) => void;
const listeners = new Set<Listener>();

export function noteAnswer(note: AnswerNote): void {
  for (const listener of [...listeners]) {
    try {
      listener(note);
    } catch {
      // A listener's failure must not turn a delivered answer into an error for the person asking.
    }
  }
}

export function onDidAnswer(listener: Listener): { dispose(): void } {
  listeners.add(listener);
  return { dispose: () => void listeners.delete(listener) };
}

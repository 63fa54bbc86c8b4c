import type { Redaction } from '../../core/guard';

/**
 * "An answer was given": the chat participant and the guarded models report each finished answer
 * here, so first-run guidance (the walkthrough's "ask" step, "preview the last answer") can follow
 * without either of them knowing about it. `activate()` makes the one instance and hands its `note`
 * to the answering features and the instance to the listeners; no `vscode` here, so unit tests load
 * the callers with a stand-in.
 */
export interface DeliveredAnswer {
  /** The guarded answer as shown (markers included; never the removed text). */
  readonly answer: string;
  readonly redactions: readonly Redaction[];
  /** Key of the pre-unlearning answer kept in memory (showOriginal only), for the preview's diff. */
  readonly previewId?: string;
  readonly via: 'participant' | 'guarded-model';
}

type Listener = (note: DeliveredAnswer) => void;

export class AnswerEvents {
  private readonly listeners = new Set<Listener>();

  /** Tells every listener; a listener's failure never turns a delivered answer into an error. */
  readonly note = (note: DeliveredAnswer): void => {
    for (const listener of [...this.listeners]) {
      try {
        listener(note);
      } catch {
        // The answer is already on the screen: guidance that failed to update must not undo that.
      }
    }
  };

  onDidAnswer(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  dispose(): void {
    this.listeners.clear();
  }
}

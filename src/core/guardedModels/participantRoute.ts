import { GUARDED_VENDOR, shortModelName } from './catalog';

/** The model the user picked in the chat view, as `vscode.LanguageModelChat` describes it. */
export interface SelectedModel {
  readonly vendor: string;
  readonly id: string;
  readonly name: string;
}

/**
 * Where an `@unlearn` request's model calls go.
 * - `ollama`: the local server, with this model (one of ours was picked, or a remote one and the user did
 *   not allow sending workspace content to it).
 * - `selected`: the model the user picked; only when `unlearn.allowSelectedModel` is on.
 */
export type ParticipantRoute =
  | { readonly kind: 'ollama'; readonly model: string; readonly why: 'guarded-model' | 'configured-model'; readonly note?: string }
  | { readonly kind: 'selected'; readonly model: SelectedModel };

/**
 * Decides the route for `@unlearn`. A guarded model carries its Ollama name as its id, so the same
 * pipeline runs on that model. Any other vendor (Copilot, a cloud provider) is not sent the question,
 * the history or the targets unless the user opted in; the configured Ollama model answers instead.
 */
export function routeParticipantRequest(
  selected: SelectedModel | undefined,
  settings: { readonly model: string; readonly allowSelectedModel: boolean },
): ParticipantRoute {
  if (selected?.vendor === GUARDED_VENDOR) return { kind: 'ollama', model: selected.id, why: 'guarded-model' };
  if (selected && settings.allowSelectedModel) return { kind: 'selected', model: selected };
  const note = selected
    ? `Answered by the local model ${shortModelName(settings.model)}, not ${selected.name}: @unlearn does not send this workspace's content to another model unless "unlearn.allowSelectedModel" is on.`
    : undefined;
  return { kind: 'ollama', model: settings.model, why: 'configured-model', ...(note ? { note } : {}) };
}

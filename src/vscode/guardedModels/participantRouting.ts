import type * as vscode from 'vscode';
import { routeParticipantRequest, type SelectedModel } from '../../core/guardedModels';
import type { LlmPort } from '../../core/llm';
import { selectedModelPort } from './selectedModelPort';
import type { GuardedSettings } from '../settings/settings';

/** What `@unlearn` should run the pipeline with for this request. */
export interface ParticipantModel {
  readonly llm: LlmPort;
  /** The model name the pipeline passes on each call (an Ollama name, or the selected model's id). */
  readonly model: string;
  /** A line to show the user when their pick was not used (a remote model, not allowed). */
  readonly note?: string;
}

/** For the `@unlearn` handler: which LLM answers the model the user picked. Call it with `request.model`. */
export type ParticipantRoute = (selected: vscode.LanguageModelChat | undefined) => ParticipantModel;

/**
 * A guarded model → that Ollama model. Any other (Copilot, a cloud model) → the configured Ollama model,
 * with a note, unless `unlearn.allowSelectedModel` is on; then the selected model itself, through
 * `vscode.lm`. `portFor` is the guarded models' port per host, so both share connections.
 */
export function createParticipantRoute(settings: () => GuardedSettings, portFor: (host: string) => LlmPort): ParticipantRoute {
  return (selected) => {
    const current = settings();
    const route = routeParticipantRequest(selected ? toSelected(selected) : undefined, current);
    if (route.kind === 'selected') return { llm: selectedModelPort(selected!), model: selected!.id };
    return { llm: portFor(current.host), model: route.model, ...(route.note ? { note: route.note } : {}) };
  };
}

function toSelected(model: vscode.LanguageModelChat): SelectedModel {
  return { vendor: model.vendor, id: model.id, name: model.name };
}

/**
 * The extension's entry point. src/vscode has one folder per feature (chat, guardedModels, targets, preview,
 * relevance, setup, settings, errors, evaluate); only this file and shared plumbing (log, cancellation) sit on
 * top. In a folder, a file that imports `vscode` is glue; the logic it needs without VS Code sits beside it as
 * `<glue>Logic.ts` (lint keeps those free of `vscode`), so node's test runner covers it. Pure modules that
 * several features share are named for what they hold (chatTexts, markdownSanitizer, guardedAnswer).
 */
import type * as vscode from 'vscode';
import { registerEvaluate } from './evaluate/evaluate';
import { registerGuardedModels } from './guardedModels/guardedModelsProvider';
import { createLog } from './log';
import { defaultParticipantDeps, registerChatParticipant } from './chat/participant';
import { registerPreview } from './preview/preview';
import { registerModelCommands } from './setup/modelCommands';
import { registerOllamaStatus } from './setup/ollamaStatus';
import { AnswerEvents } from './chat/answerEvents';
import { registerNoModelNotice } from './setup/noModelNotice';
import { registerSetupState, type SetupState } from './setup/setupState';
import { registerCalibrateRelevance } from './relevance/calibrateRelevance';
import { registerSemanticIndex, type SemanticIndex } from './relevance/semanticIndex';
import { enabledTargets } from './settings/settings';
import { registerTargetsTree, type TargetsTreeProvider } from './targets/targetsTree';
import { registerWalkthrough } from './setup/walkthrough';
import { registerServerParallelism } from './settings/serverParallelism';

/** What `activate()` returns: the extension-host tests drive the registered chat handler through it. */
export interface UnlearnApi {
  readonly chatHandler: vscode.ChatRequestHandler;
  /** The Forget Targets view's data, so tests can find the nodes the view's commands take. */
  readonly targetsTree: TargetsTreeProvider;
  /** First-run progress (the walkthrough's context keys), so tests can see what each step waits for. */
  readonly setup: SetupState;
  /** The target embeddings' state, so tests can wait for a build. */
  readonly semantic: SemanticIndex;
}

// activate() reads like a table of contents: one register…(context) per feature, each pushing its
// disposables onto context.subscriptions.
export function activate(context: vscode.ExtensionContext): UnlearnApi {
  const log = createLog(context);
  // Finished answers, told to the first-run guidance without either side knowing the other.
  const answers = new AnswerEvents();
  context.subscriptions.push(answers);
  // Before anything that sends requests: `parallelCalls: auto` asks it on every request.
  registerServerParallelism(context, log);
  const targetsTree = registerTargetsTree(context, log);
  // The target embeddings build in the background once settings settle, through the Ollama below.
  // (`ollama` is read only once a build starts, after activate() has returned.)
  const semantic = registerSemanticIndex(context, log, { ollama: () => ollama.port(), targets: enabledTargets });
  // Both talk to Ollama through the status feature's ports, so what any request sees moves the status bar.
  const guardedModels = registerGuardedModels(context, log, {
    onAnswer: answers.note,
    semantic: () => semantic,
    connect: (host) => ollama.portFor(host),
  });
  const ollama = registerOllamaStatus(context, log, { activeTargets: () => enabledTargets().length, embedding: semantic });
  registerModelCommands(context, log, {
    ollama,
    onModelsChanged: (reason) => {
      guardedModels.refresh(reason);
      void semantic.rebuild();
    },
  });
  registerPreview(context, log, ollama.port, semantic);
  const chatHandler = registerChatParticipant(
    context,
    defaultParticipantDeps({
      log,
      route: guardedModels.route,
      ollama: ollama.port,
      targets: enabledTargets,
      semantic,
      onAnswer: answers.note,
    }),
  );
  registerEvaluate(context, ollama.port);
  registerCalibrateRelevance(context, log, { semantic, ollama: () => ollama.port(), targets: enabledTargets });
  const setup = registerSetupState(context, ollama, log, answers);
  registerNoModelNotice(context, ollama, setup, log);
  registerWalkthrough(context, ollama, setup, log);
  return { chatHandler, targetsTree, setup, semantic };
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions
}

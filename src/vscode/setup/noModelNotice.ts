import * as vscode from 'vscode';
import type { UnlearnLog } from '../log';
import type { OllamaStatus } from './ollamaStatus';
import { ADVICE_COMMANDS, noticeFor, NoticeGate, setupProblem, tooltipAdvice } from './setupStateLogic';
import type { SetupState } from './setupState';

/**
 * When the chat has nothing that can answer through Unlearn (Ollama down, or no chat model pulled),
 * say so where people look: one notification per kind of problem and session, with the buttons that
 * fix it, and a paragraph in the status bar tooltip for as long as it lasts. Without this, VS Code's
 * "Language model unavailable" would be the only message.
 */
export function registerNoModelNotice(context: vscode.ExtensionContext, server: OllamaStatus, setup: SetupState, log: UnlearnLog): void {
  const gate = new NoticeGate();
  const update = () => {
    const facts = setup.facts();
    const problem = setupProblem(facts);
    server.setAdvice(tooltipAdvice(problem, facts), ADVICE_COMMANDS);
    const announce = gate.next(problem);
    if (!announce) return;
    const notice = noticeFor(announce, facts);
    log.info(`setup: ${announce}; notified`);
    void vscode.window.showWarningMessage(notice.message, ...notice.actions.map((a) => a.title)).then(async (choice) => {
      const action = notice.actions.find((a) => a.title === choice);
      if (action) await vscode.commands.executeCommand(action.command, ...(action.arguments ?? []));
    });
  };
  context.subscriptions.push(setup.onDidChange(update), { dispose: () => server.setAdvice(undefined) });
  update();
}

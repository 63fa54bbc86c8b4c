/**
 * Select Model and Pull Model (src/vscode/setup/modelCommands.ts, through the status bar's port) against
 * the scripted Ollama server, with a small stand-in for the `vscode` members they touch: every QuickPick
 * is disposed on every path, with one hide listener, and the cancellation listener of a pull is removed
 * when the pull ends.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fault, startScriptedOllama, type ScriptedOllama } from '../../../support/scriptedOllama';
import { CountingToken, EventEmitter, provideVscode } from '../../../support/vscodeStandIn';

class FakeQuickPick {
  items: { label: string; name?: string }[] = [];
  selectedItems: { label: string; name?: string }[] = [];
  title = '';
  placeholder = '';
  busy = false;
  visible = false;
  disposed = false;
  readonly hide$ = new EventEmitter<void>();
  readonly accept$ = new EventEmitter<void>();
  readonly onDidHide = this.hide$.event;
  readonly onDidAccept = this.accept$.event;
  hideListenersEverAdded = 0;
  constructor() {
    const add = this.hide$.event;
    (this as { onDidHide: typeof add }).onDidHide = (l) => {
      this.hideListenersEverAdded++;
      return add(l);
    };
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    if (!this.visible) return;
    this.visible = false;
    this.hide$.fire();
  }
  dispose(): void {
    this.hide();
    this.disposed = true;
  }
}

const settings: Record<string, unknown> = {};
const commands = new Map<string, (...args: unknown[]) => unknown>();
const picks: FakeQuickPick[] = [];
const warnings: string[] = [];
let progressToken = new CountingToken();
/** What the next warning answers (a button title, or undefined for dismissed). */
let warningAnswer: string | undefined;

const vscodeStub = {
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  MarkdownString: class {
    value = '';
    isTrusted: unknown;
    appendMarkdown(s: string) {
      this.value += s;
      return this;
    }
    appendText(s: string) {
      this.value += s;
      return this;
    }
  },
  EventEmitter,
  window: {
    createStatusBarItem: () => ({ show() {}, dispose() {} }),
    createQuickPick: () => {
      const pick = new FakeQuickPick();
      picks.push(pick);
      return pick;
    },
    showWarningMessage: async (message: string) => {
      warnings.push(message);
      return warningAnswer;
    },
    showInformationMessage: async () => undefined,
    showInputBox: async () => undefined,
    withProgress: async (_options: unknown, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<unknown>) =>
      task({ report() {} }, progressToken.token),
  },
  workspace: {
    getConfiguration: (section: string) => ({
      get: (key: string) => settings[`${section}.${key}`],
      inspect: (key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] }),
      update: async (key: string, value: unknown) => {
        settings[`${section}.${key}`] = value;
      },
    }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
  },
  commands: {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      commands.set(id, fn);
      return { dispose: () => commands.delete(id) };
    },
    executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)?.(...args),
  },
};

const restoreVscode = provideVscode(vscodeStub);

let ollama: ScriptedOllama;
const disposables: { dispose(): unknown }[] = [];
const log = { info() {}, warn() {}, error() {}, trace() {}, show() {} };

const lastPick = () => picks.at(-1)!;
async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

before(async () => {
  ollama = await startScriptedOllama({ models: ['llama3.2', 'qwen2.5:7b', 'gpt-oss:120b-cloud'] });
  settings['unlearn.ollamaHost'] = ollama.host;
  const load = createRequire(__filename);
  const status = load('../../../../src/vscode/setup/ollamaStatus') as typeof import('../../../../src/vscode/setup/ollamaStatus');
  const models = load('../../../../src/vscode/setup/modelCommands') as typeof import('../../../../src/vscode/setup/modelCommands');
  const context = { subscriptions: disposables } as never;
  const statusBar = status.registerOllamaStatus(context, log, { activeTargets: () => 0 });
  models.registerModelCommands(context, log, { ollama: statusBar, onModelsChanged: () => undefined });
});

after(async () => {
  for (const d of disposables.splice(0)) d.dispose();
  restoreVscode();
  await ollama.close();
});

beforeEach(() => {
  ollama.reset();
  ollama.setFault('tags', undefined);
  ollama.setFault('pull', undefined);
  settings['unlearn.ollamaHost'] = ollama.host;
  warnings.length = 0;
  warningAnswer = undefined;
});

describe('Select Model and Pull Model (scripted Ollama)', () => {
  test('choosing a model sets it; the pick is disposed and had one hide listener', async () => {
    const done = commands.get('unlearn.selectModel')!();
    await until('the models to load', () => lastPick().items.length > 0);
    const pick = lastPick();
    pick.selectedItems = [pick.items.find((i) => i.name === 'qwen2.5:7b')!];
    pick.accept$.fire();
    await done;
    assert.equal(settings['unlearn.model'], 'qwen2.5:7b');
    assert.ok(pick.disposed, 'disposed');
    assert.equal(pick.hideListenersEverAdded, 1);
  });

  test('Ollama down: the pick is disposed and the warning names the setting', async () => {
    const down = await startScriptedOllama();
    await down.close();
    settings['unlearn.ollamaHost'] = down.host;
    await commands.get('unlearn.selectModel')!();
    const pick = lastPick();
    assert.ok(pick.disposed, 'disposed after the error');
    assert.equal(pick.visible, false);
    assert.match(warnings[0] ?? '', /Unlearn:/);
  });

  test('closing the pick while the list loads aborts the request and disposes the pick', async () => {
    ollama.setFault('tags', fault.hang());
    const done = commands.get('unlearn.selectModel')!();
    await until('the request to start', () => ollama.activeRequests > 0);
    const pick = lastPick();
    pick.hide();
    await done;
    assert.ok(pick.disposed, 'disposed after the abort');
    await ollama.waitForIdle(1000);
    assert.equal(ollama.clientAborts, 1);
    assert.equal(warnings.length, 0, 'a closed pick is not an error');
  });

  test('closing the pick after the list loaded chooses nothing', async () => {
    settings['unlearn.model'] = 'llama3.2';
    const done = commands.get('unlearn.selectModel')!();
    await until('the models to load', () => lastPick().items.length > 0);
    lastPick().hide();
    await done;
    assert.equal(settings['unlearn.model'], 'llama3.2');
    assert.ok(lastPick().disposed);
  });

  test('a cloud model is marked in the pick and is only chosen after a warning is confirmed', async () => {
    settings['unlearn.model'] = 'llama3.2';
    const choose = async () => {
      const done = commands.get('unlearn.selectModel')!();
      await until('the models to load', () => lastPick().items.length > 0);
      const pick = lastPick();
      const cloud = pick.items.find((i) => i.name === 'gpt-oss:120b-cloud')!;
      assert.match((cloud as { detail?: string }).detail ?? '', /cloud model: runs on a remote service/);
      assert.doesNotMatch((pick.items.find((i) => i.name === 'qwen2.5:7b') as { detail?: string }).detail ?? '', /cloud/);
      pick.selectedItems = [cloud];
      pick.accept$.fire();
      await done;
    };
    await choose();
    assert.match(warnings.at(-1) ?? '', /gpt-oss:120b-cloud is an Ollama cloud model/);
    assert.equal(settings['unlearn.model'], 'llama3.2', 'dismissed: nothing changes');
    warningAnswer = 'Use It Anyway';
    await choose();
    assert.equal(settings['unlearn.model'], 'gpt-oss:120b-cloud');
    settings['unlearn.model'] = 'llama3.2';
  });

  test('pulling a cloud model says it is not guarded instead of offering to use it', async () => {
    assert.equal(await commands.get('unlearn.pullModel')!('gpt-oss:120b-cloud'), true);
    assert.match(warnings.at(-1) ?? '', /cloud model: .*does not list it as a guarded model/);
  });

  test('a pull, finished or cancelled, leaves no cancellation listener behind', async () => {
    progressToken = new CountingToken();
    assert.equal(await commands.get('unlearn.pullModel')!('llama3.2'), true);
    assert.equal(progressToken.live, 0, 'after a finished pull');
    progressToken = new CountingToken();
    ollama.setFault('pull', fault.hang());
    const pending = commands.get('unlearn.pullModel')!('llama3.2');
    await until('the pull to start', () => ollama.activeRequests > 0);
    progressToken.cancel();
    assert.equal(await pending, false);
    assert.equal(progressToken.live, 0, 'after a cancelled pull');
  });
});

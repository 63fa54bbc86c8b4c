/**
 * The redaction preview's documents (src/vscode/preview/preview.ts) with a small stand-in for the `vscode`
 * members it touches: a preview's text goes when its document closes, the model's own answer goes from
 * every preview document when unlearn.preview.showOriginal is turned off (open tabs are told to re-read),
 * a "Compare with Original" pressed after that opens nothing, and the rewrite's cancellation listener
 * is removed when it ends. The same flow runs in the real extension host in
 * test/extension/suite/previewOriginals.test.ts.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CountingToken, EventEmitter, provideVscode, type Listener } from '../../../support/vscodeStandIn';
import { FakeLlm } from '../../../support/fakeLlm';

class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static from(parts: { scheme: string; path: string }): Uri {
    return new Uri(parts.scheme, parts.path);
  }
  static parse(text: string): Uri {
    const colon = text.indexOf(':');
    return new Uri(text.slice(0, colon), decodeURIComponent(text.slice(colon + 1)));
  }
  toString(): string {
    return `${this.scheme}:${encodeURIComponent(this.path).replace(/%2F/g, '/')}`;
  }
}

const settings: Record<string, unknown> = {};
const configChanged = new EventEmitter<{ affectsConfiguration(key: string): boolean }>();
const closed = new EventEmitter<{ uri: Uri }>();
const commands = new Map<string, (...args: unknown[]) => unknown>();
const diffs: [Uri, Uri][] = [];
let provider: { onDidChange: (l: Listener<Uri>) => unknown; provideTextDocumentContent(uri: Uri): string };
/** What the next information message answers; a deferred answer lets a test act in between. */
let nextChoice: (message: string) => Promise<string | undefined> = async () => undefined;
let progressToken = new CountingToken();
let activeTextEditor: unknown;

const fakeEditor = (uri: Uri, text = '') => ({
  document: { uri, version: 1, getText: () => text, positionAt: (n: number) => n, offsetAt: (n: number) => n },
  selection: { isEmpty: text === '', start: 0, end: text.length },
  setDecorations() {},
});

const vscodeStub = {
  EventEmitter,
  Uri,
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  Range: class {
    constructor(
      readonly start: unknown,
      readonly end: unknown,
    ) {}
  },
  MarkdownString: class {
    appendText() {
      return this;
    }
  },
  ViewColumn: { Beside: -2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ProgressLocation: { Notification: 15 },
  window: {
    createTextEditorDecorationType: () => ({ dispose() {} }),
    onDidChangeVisibleTextEditors: () => ({ dispose() {} }),
    showTextDocument: async (uri: Uri) => fakeEditor(uri),
    showInformationMessage: (message: string) => nextChoice(message),
    showWarningMessage: async () => undefined,
    showErrorMessage: async () => undefined,
    withProgress: async (_o: unknown, task: (p: { report(): void }, token: unknown) => Promise<unknown>) =>
      task({ report() {} }, progressToken.token),
    get activeTextEditor() {
      return activeTextEditor;
    },
  },
  workspace: {
    textDocuments: [] as { uri: Uri }[],
    workspaceFolders: undefined,
    getConfiguration: (section: string) => ({
      get: (key: string) => settings[`${section}.${key}`],
      inspect: (key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] }),
    }),
    registerTextDocumentContentProvider: (_scheme: string, p: typeof provider) => {
      provider = p;
      return { dispose() {} };
    },
    onDidCloseTextDocument: closed.event,
    onDidChangeConfiguration: configChanged.event,
    onDidChangeTextDocument: () => ({ dispose() {} }),
  },
  commands: {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      commands.set(id, fn);
      return { dispose: () => commands.delete(id) };
    },
    executeCommand: async (id: string, ...args: unknown[]) => {
      if (id === 'vscode.diff') diffs.push([args[0] as Uri, args[1] as Uri]);
      return commands.get(id)?.(...args);
    },
  },
};

const restoreVscode = provideVscode(vscodeStub);

const load = createRequire(__filename);
let originals: typeof import('../../../../src/vscode/preview/originals');
const disposables: { dispose(): unknown }[] = [];
const log = { info() {}, warn() {}, error() {}, trace() {}, show() {} };
let llm = new FakeLlm({ vanilla: 'Fine.' });
const VANILLA = 'Project Falcon builds long-range drones in Lisbon.';

const answerCommand = (arg: object) => commands.get('unlearn.preview.answer')!(arg) as Promise<Uri>;
const content = (uri: Uri) => provider.provideTextDocumentContent(uri);
const originalUri = (answer: Uri) => Uri.from({ scheme: answer.scheme, path: answer.path.replace('/Redacted answer', '/Original answer') });
function turnShowOriginal(on: boolean): void {
  settings['unlearn.preview.showOriginal'] = on;
  configChanged.fire({
    affectsConfiguration: (key) => key === 'unlearn.preview.showOriginal' || key === 'unlearn' || key === 'unlearn.preview',
  });
}

before(() => {
  const preview = load('../../../../src/vscode/preview/preview') as typeof import('../../../../src/vscode/preview/preview');
  originals = load('../../../../src/vscode/preview/originals') as typeof import('../../../../src/vscode/preview/originals');
  preview.registerPreview({ subscriptions: disposables } as never, log as never, () => llm);
});

after(() => {
  for (const d of disposables.splice(0)) d.dispose();
  restoreVscode();
});

beforeEach(() => {
  diffs.length = 0;
  vscodeStub.workspace.textDocuments = [];
  nextChoice = async () => undefined;
  settings['unlearn.preview.showOriginal'] = true;
});

describe('redaction preview documents', () => {
  test('a preview keeps its text while open; closing its document drops it', async () => {
    const uri = await answerCommand({ answer: 'I cannot share that.', redactions: [] });
    assert.equal(content(uri), 'I cannot share that.');
    closed.fire({ uri: Uri.parse('file:/elsewhere.md') });
    assert.equal(content(uri), 'I cannot share that.');
    closed.fire({ uri });
    assert.match(content(uri), /no longer available/);
  });

  test('turning showOriginal off removes the original from the diff and tells its open tab to re-read', async () => {
    const previewId = originals.rememberOriginal(VANILLA);
    const uri = await answerCommand({ answer: 'I cannot share that.', redactions: [], previewId, compare: true });
    const left = originalUri(uri);
    assert.deepEqual(
      diffs.map(([l, r]) => [l.toString(), r.toString()]),
      [[left.toString(), uri.toString()]],
    );
    assert.equal(content(left), VANILLA);
    vscodeStub.workspace.textDocuments = [{ uri: left }, { uri }];
    const reread: string[] = [];
    const sub = provider.onDidChange((u) => reread.push(u.toString())) as { dispose(): void };
    turnShowOriginal(false);
    sub.dispose();
    assert.deepEqual(reread, [left.toString()]);
    assert.doesNotMatch(content(left), /drones|Lisbon/);
    assert.equal(content(uri), 'I cannot share that.', 'the unlearned answer stays');
    assert.equal(originals.originalOf(previewId), undefined);
  });

  test('"Compare with Original" pressed after showOriginal was turned off opens nothing', async () => {
    const previewId = originals.rememberOriginal(VANILLA);
    let press: (choice: string | undefined) => void = () => undefined;
    nextChoice = (message) =>
      message.includes('before unlearning is available') ? new Promise((resolve) => (press = resolve)) : Promise.resolve(undefined);
    const uri = await answerCommand({ answer: 'I cannot share that.', redactions: [], previewId });
    turnShowOriginal(false);
    press('Compare with Original');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(diffs, []);
    assert.doesNotMatch(content(originalUri(uri)), /drones|Lisbon/);
  });

  test('"Compare with Original" pressed after the answer tab closed still shows both sides', async () => {
    const previewId = originals.rememberOriginal(VANILLA);
    let press: (choice: string | undefined) => void = () => undefined;
    nextChoice = (message) =>
      message.includes('before unlearning is available') ? new Promise((resolve) => (press = resolve)) : Promise.resolve(undefined);
    const uri = await answerCommand({ answer: 'I cannot share that.', redactions: [], previewId });
    closed.fire({ uri });
    press('Compare with Original');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(diffs.length, 1);
    assert.equal(content(uri), 'I cannot share that.');
    assert.equal(content(originalUri(uri)), VANILLA);
  });

  test('the selection rewrite removes its cancellation listener when it ends', async () => {
    progressToken = new CountingToken();
    llm = new FakeLlm({ vanilla: 'Nothing to hide here.' });
    activeTextEditor = fakeEditor(Uri.parse('file:/a.txt'), 'Nothing to hide here.');
    await commands.get('unlearn.preview.selectionWithAgents')!();
    assert.equal(llm.calls.length, 1, 'the pipeline ran');
    assert.equal(progressToken.live, 0);
  });
});

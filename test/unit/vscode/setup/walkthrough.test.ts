/**
 * The Get Started walkthrough: the manifest's steps against what the extension provides (media on disk,
 * buttons that are registered commands, completion events on keys the extension sets), and the commands
 * behind the buttons with a stand-in for the `vscode` members they touch.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EventEmitter, provideVscode } from '../../../support/vscodeStandIn';
import { SETUP_KEYS, type SetupFacts } from '../../../../src/vscode/setup/setupStateLogic';

const root = join(__dirname, '..', '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  publisher: string;
  name: string;
  contributes: {
    commands: { command: string }[];
    walkthroughs: {
      id: string;
      title: string;
      steps: { id: string; title: string; description: string; media: Record<string, string>; completionEvents: string[] }[];
    }[];
  };
};
const contributed = new Set(pkg.contributes.commands.map((c) => c.command));

const settings: Record<string, unknown> = {};
const registered = new Map<string, (...args: unknown[]) => unknown>();
const executed: { id: string; args: unknown[] }[] = [];
const infos: string[] = [];
/** Openings of the walkthrough wrapped in SetupState.reassertKeys. */
const reasserted: string[] = [];
let guardedModels: { vendor: string; id: string }[] = [];
/** Commands the test answers itself (VS Code's own, and other features'), by id. */
const builtins = new Map<string, (...args: unknown[]) => unknown>();
let quickPickAnswer: (items: { label: string; name?: string; picked?: boolean }[]) => unknown = () => undefined;
let lastQuickPickItems: { label: string; name?: string; picked?: boolean; description?: string }[] = [];

const vscodeStub = {
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  EventEmitter,
  window: {
    showInformationMessage: async (message: string) => {
      infos.push(message);
      return undefined;
    },
    showWarningMessage: async () => undefined,
    showQuickPick: async (items: { label: string; name?: string; picked?: boolean }[]) => {
      lastQuickPickItems = items;
      return quickPickAnswer(items);
    },
    terminals: [],
  },
  workspace: {
    getConfiguration: (section: string) => ({
      get: (key: string) => settings[`${section}.${key}`],
      inspect: (key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] }),
    }),
  },
  lm: { selectChatModels: async () => guardedModels },
  commands: {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      registered.set(id, fn);
      return { dispose: () => registered.delete(id) };
    },
    executeCommand: async (id: string, ...args: unknown[]) => {
      executed.push({ id, args });
      const own = registered.get(id) ?? builtins.get(id);
      return own?.(...args);
    },
  },
};

const restoreVscode = provideVscode(vscodeStub);
const walkthrough = createRequire(__filename)(
  '../../../../src/vscode/setup/walkthrough',
) as typeof import('../../../../src/vscode/setup/walkthrough');
after(() => restoreVscode());

const log = { info() {}, warn() {}, error() {}, trace() {}, show() {} };

function fakeSetup(initial: Partial<SetupFacts> = {}) {
  const changed = new EventEmitter<void>();
  let facts: SetupFacts = {
    ollama: 'unknown',
    host: 'http://127.0.0.1:11434',
    loopback: true,
    model: 'llama3.2',
    otherVendorModels: 0,
    ...initial,
  };
  let last: { answer: string; redactions: never[]; via: 'participant' } | undefined;
  return {
    set(f: Partial<SetupFacts>) {
      facts = { ...facts, ...f };
      changed.fire();
    },
    answer(text: string) {
      last = { answer: text, redactions: [], via: 'participant' };
    },
    state: {
      facts: () => facts,
      keys: () => Object.fromEntries(SETUP_KEYS.map((k) => [k, false])) as never,
      installedModels: () => facts.chatModels,
      lastAnswer: () => last,
      onDidChange: changed.event,
      reassertKeys: async (open: () => Thenable<unknown>) => {
        reasserted.push('start');
        await open();
        reasserted.push('end');
      },
    },
  };
}

const server = { port: () => undefined as never, check: async () => {}, onDidCheck: new EventEmitter<never>().event, setAdvice() {} };

function activate(setup = fakeSetup(), shown = true) {
  const state = new Map<string, unknown>(shown ? [[walkthrough.SHOWN_KEY, true]] : []);
  const disposables: { dispose(): unknown }[] = [];
  const context = {
    subscriptions: disposables,
    extension: { id: `${pkg.publisher}.${pkg.name}` },
    globalState: { get: (k: string) => state.get(k), update: async (k: string, v: unknown) => void state.set(k, v) },
  };
  walkthrough.registerWalkthrough(context as never, server as never, setup.state as never, log as never);
  return { state, dispose: () => disposables.splice(0).forEach((d) => d.dispose()) };
}

beforeEach(() => {
  for (const k of Object.keys(settings)) delete settings[k];
  registered.clear();
  builtins.clear();
  executed.length = 0;
  infos.length = 0;
  reasserted.length = 0;
  guardedModels = [];
  quickPickAnswer = () => undefined;
});

describe('the walkthrough in package.json', () => {
  const wt = pkg.contributes.walkthroughs.find((w) => w.id === walkthrough.WALKTHROUGH_ID);

  test('"Get started with Unlearn" has at least five steps, each with text, a media page on disk and a button', () => {
    assert.ok(wt, `no walkthrough with id ${walkthrough.WALKTHROUGH_ID}`);
    assert.equal(wt.title, 'Get started with Unlearn');
    assert.ok(wt.steps.length >= 5, `${wt.steps.length} steps`);
    for (const step of wt.steps) {
      assert.ok(step.title && step.description, step.id);
      const media = step.media.markdown ?? step.media.image ?? step.media.svg;
      assert.ok(media && existsSync(join(root, media)), `${step.id}: media ${media} is not in the repository`);
      assert.match(step.description, /\n\[[^\]]+\]\(command:[\w.]+\)/, `${step.id}: a button on a line of its own`);
      assert.ok(step.completionEvents.length, `${step.id}: completes by itself`);
    }
  });

  test('the steps cover Ollama, the models (embedding setting included), a target, asking and the preview, in order', () => {
    const ids = wt!.steps.map((s) => s.id);
    assert.deepEqual(ids.slice(0, 5), ['connect', 'pullModels', 'addTarget', 'ask', 'preview']);
    const pull = wt!.steps[1]!;
    assert.match(pull.description, /unlearn\.model\b/);
    assert.match(pull.description, /embedding model for semantic relevance \(the unlearn\.embeddingModel setting\)/);
  });

  test('every completion event waits for a key the extension sets or a command it contributes', () => {
    for (const step of wt!.steps)
      for (const event of step.completionEvents) {
        const [kind, what] = [event.slice(0, event.indexOf(':')), event.slice(event.indexOf(':') + 1)];
        if (kind === 'onContext') assert.ok((SETUP_KEYS as readonly string[]).includes(what), `${step.id}: ${what} is never set`);
        else if (kind === 'onCommand') assert.ok(contributed.has(what), `${step.id}: ${what} is not contributed`);
        else assert.fail(`${step.id}: unexpected completion event ${event}`);
      }
  });

  test('every button runs a contributed command, and the walkthrough commands are registered at activation', () => {
    const { dispose } = activate();
    try {
      for (const step of wt!.steps)
        for (const [, id] of step.description.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(contributed.has(id!), `${step.id}: ${id}`);
      for (const id of registered.keys()) assert.ok(contributed.has(id), `${id} is registered but not in package.json`);
      for (const id of [
        'unlearn.openWalkthrough',
        'unlearn.walkthrough.checkOllama',
        'unlearn.startOllama',
        'unlearn.walkthrough.pullModels',
        'unlearn.walkthrough.addTarget',
        'unlearn.openChat',
        'unlearn.walkthrough.previewLastAnswer',
      ])
        assert.ok(registered.has(id), `${id} is not registered`);
    } finally {
      dispose();
    }
  });
});

describe('first activation', () => {
  const until = async (what: string, probe: () => boolean) => {
    const deadline = Date.now() + 3000;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  test('opens the walkthrough once, then the chat in Ask mode with the guarded model when Ollama is ready', async () => {
    guardedModels = [{ vendor: 'unlearn', id: 'llama3.2:latest' }];
    const setup = fakeSetup();
    const first = activate(setup, false);
    await until('the walkthrough to open', () => executed.some((e) => e.id === 'workbench.action.openWalkthrough'));
    assert.deepEqual(executed.find((e) => e.id === 'workbench.action.openWalkthrough')!.args, ['unlearn-dev.unlearn#getStarted', false]);
    assert.equal(first.state.get(walkthrough.SHOWN_KEY), true);
    assert.deepEqual(reasserted, ['start', 'end'], 'opened with the completion keys re-asserted around it');
    assert.ok(!executed.some((e) => e.id === 'workbench.action.chat.open'), 'the chat waits for the first check');
    setup.set({ ollama: 'up', chatModels: ['llama3.2:latest'] });
    await until('the chat to open', () => executed.some((e) => e.id === 'workbench.action.chat.open'));
    assert.deepEqual(executed.find((e) => e.id === 'workbench.action.chat.open')!.args[0], {
      mode: 'ask',
      modelSelector: { vendor: 'unlearn', id: 'llama3.2:latest' },
    });
    first.dispose();

    executed.length = 0;
    const again = activate(fakeSetup({ ollama: 'up', chatModels: ['llama3.2:latest'] }), true);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(executed, [], 'a later activation opens nothing');
    again.dispose();
  });

  test('Ollama down: the walkthrough opens, the chat does not', async () => {
    const setup = fakeSetup();
    const a = activate(setup, false);
    setup.set({ ollama: 'down' });
    await until('the walkthrough to open', () => executed.some((e) => e.id === 'workbench.action.openWalkthrough'));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(!executed.some((e) => e.id === 'workbench.action.chat.open'));
    a.dispose();
  });
});

describe('the buttons', () => {
  test('Open Walkthrough opens it with the completion keys re-asserted around the opening', async () => {
    const a = activate();
    await vscodeStub.commands.executeCommand('unlearn.openWalkthrough');
    assert.deepEqual(reasserted, ['start', 'end']);
    assert.deepEqual(executed.at(-1), { id: 'workbench.action.openWalkthrough', args: ['unlearn-dev.unlearn#getStarted', false] });
    a.dispose();
  });

  test('Ask @unlearn: Ask mode, "@unlearn " typed but not sent, the guarded model of unlearn.model picked', async () => {
    settings['unlearn.model'] = 'llama3.2';
    guardedModels = [
      { vendor: 'unlearn', id: 'qwen2.5:7b' },
      { vendor: 'unlearn', id: 'llama3.2:latest' },
    ];
    const a = activate();
    await vscodeStub.commands.executeCommand('unlearn.openChat');
    const open = executed.filter((e) => e.id === 'workbench.action.chat.open');
    assert.deepEqual(open.at(-1)!.args[0], {
      mode: 'ask',
      query: '@unlearn ',
      isPartialQuery: true,
      modelSelector: { vendor: 'unlearn', id: 'llama3.2:latest' },
    });
    a.dispose();
  });

  test('Ask @unlearn with no guarded model, or a VS Code that refuses the model selector, still opens the chat', async () => {
    const a = activate();
    await vscodeStub.commands.executeCommand('unlearn.openChat');
    assert.deepEqual(executed.at(-1)!.args[0], { mode: 'ask', query: '@unlearn ', isPartialQuery: true });

    guardedModels = [{ vendor: 'unlearn', id: 'llama3.2:latest' }];
    let calls = 0;
    builtins.set('workbench.action.chat.open', (arg) => {
      calls++;
      if ((arg as { modelSelector?: unknown }).modelSelector) throw new Error('No language models found matching selector');
    });
    executed.length = 0;
    await vscodeStub.commands.executeCommand('unlearn.openChat');
    assert.equal(calls, 2);
    assert.deepEqual(executed.at(-1)!.args[0], { mode: 'ask', query: '@unlearn ', isPartialQuery: true });
    a.dispose();
  });

  test('Add Forget Target shows the view, then its Add input', async () => {
    const a = activate();
    await vscodeStub.commands.executeCommand('unlearn.walkthrough.addTarget');
    assert.deepEqual(
      executed.slice(1).map((e) => e.id),
      ['unlearn.targets.focus', 'unlearn.targets.add'],
    );
    a.dispose();
  });

  test('Pull Models offers the models the settings name, ticks the missing ones, and pulls what was picked', async () => {
    settings['unlearn.model'] = 'llama3.2';
    settings['unlearn.embeddingModel'] = 'nomic-embed-text';
    const pulled: string[] = [];
    builtins.set('unlearn.pullModel', (name) => (pulled.push(name as string), true));
    quickPickAnswer = (items) => items.filter((i) => i.picked);
    const a = activate(fakeSetup({ ollama: 'up', chatModels: ['llama3.2:latest'] }));
    const result = await vscodeStub.commands.executeCommand('unlearn.walkthrough.pullModels');
    assert.deepEqual(
      lastQuickPickItems.map((i) => [i.label, !!i.picked]),
      [
        ['llama3.2', false],
        ['nomic-embed-text', true],
        ['$(edit) Another model…', false],
      ],
    );
    assert.match(lastQuickPickItems[1]!.description!, /embedding model for semantic relevance/);
    assert.deepEqual(pulled, ['nomic-embed-text']);
    assert.deepEqual(result, ['nomic-embed-text']);
    a.dispose();
  });

  test('Pull Models without the embedding setting offers the chat model only; given names skip the pick', async () => {
    settings['unlearn.model'] = 'qwen2.5:7b';
    const pulled: string[] = [];
    builtins.set('unlearn.pullModel', (name) => (pulled.push(name as string), name !== 'broken'));
    const a = activate(fakeSetup({ ollama: 'up', chatModels: [] }));
    await vscodeStub.commands.executeCommand('unlearn.walkthrough.pullModels');
    assert.deepEqual(
      lastQuickPickItems.map((i) => i.label),
      ['qwen2.5:7b', '$(edit) Another model…'],
    );
    assert.deepEqual(pulled, [], 'dismissing the pick pulls nothing');
    const result = await vscodeStub.commands.executeCommand('unlearn.walkthrough.pullModels', ['all-minilm', 'broken']);
    assert.deepEqual(pulled, ['all-minilm', 'broken']);
    assert.deepEqual(result, ['all-minilm'], 'only what was really pulled');
    a.dispose();
  });

  test('Preview Last Answer opens the preview of the last answer, or says to ask first', async () => {
    const setup = fakeSetup();
    const a = activate(setup);
    await vscodeStub.commands.executeCommand('unlearn.walkthrough.previewLastAnswer');
    assert.match(infos.at(-1)!, /no answer yet/);
    assert.ok(!executed.some((e) => e.id === 'unlearn.preview.answer'));
    setup.answer('I cannot share details about [redacted: Project Falcon].');
    await vscodeStub.commands.executeCommand('unlearn.walkthrough.previewLastAnswer');
    const preview = executed.find((e) => e.id === 'unlearn.preview.answer');
    assert.deepEqual(preview!.args[0], { answer: 'I cannot share details about [redacted: Project Falcon].', redactions: [] });
    a.dispose();
  });
});

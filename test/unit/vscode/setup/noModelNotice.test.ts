/**
 * The no-usable-model notice (src/vscode/setup/noModelNotice.ts) with a stand-in for the `vscode` members it
 * touches: what the status bar tooltip is given, which notifications show, and what their buttons run.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { EventEmitter, provideVscode } from '../../../support/vscodeStandIn';
import type { SetupFacts } from '../../../../src/vscode/setup/setupStateLogic';

const warnings: { message: string; buttons: string[] }[] = [];
const executed: { id: string; args: unknown[] }[] = [];
let answer: string | undefined;

const restoreVscode = provideVscode({
  EventEmitter,
  window: {
    showWarningMessage: async (message: string, ...buttons: string[]) => {
      warnings.push({ message, buttons });
      return answer;
    },
  },
  commands: {
    executeCommand: async (id: string, ...args: unknown[]) => void executed.push({ id, args }),
  },
});
const { registerNoModelNotice } = createRequire(__filename)(
  '../../../../src/vscode/setup/noModelNotice',
) as typeof import('../../../../src/vscode/setup/noModelNotice');
after(() => restoreVscode());

const log = { info() {}, warn() {}, error() {}, trace() {}, show() {} };

function setUp() {
  const changed = new EventEmitter<void>();
  let facts: SetupFacts = { ollama: 'unknown', host: 'http://127.0.0.1:11434', loopback: true, model: 'llama3.2', otherVendorModels: 0 };
  const advice: (string | undefined)[] = [];
  const server = { setAdvice: (md: string | undefined) => void advice.push(md) };
  const disposables: { dispose(): unknown }[] = [];
  registerNoModelNotice(
    { subscriptions: disposables } as never,
    server as never,
    { facts: () => facts, onDidChange: changed.event } as never,
    log as never,
  );
  return {
    advice,
    set(f: Partial<SetupFacts>) {
      facts = { ...facts, ...f };
      changed.fire();
    },
    dispose: () => disposables.splice(0).forEach((d) => d.dispose()),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

beforeEach(() => {
  warnings.length = 0;
  executed.length = 0;
  answer = undefined;
});

describe('no usable model: notification and status bar', () => {
  test('says nothing while the first check runs; Ollama down: one notification with Start Ollama, and tooltip advice', async () => {
    const s = setUp();
    assert.ok(!warnings.length, 'nothing before the first check');
    assert.equal(s.advice.at(-1), undefined);
    s.set({ ollama: 'down' });
    assert.ok(warnings.length === 1, `${warnings.length} notifications`);
    assert.match(warnings[0]!.message, /Ollama is not answering at http:\/\/127\.0\.0\.1:11434/);
    assert.deepEqual(warnings[0]!.buttons, ['Start Ollama', 'Open Walkthrough']);
    assert.match(s.advice.at(-1)!, /Ollama is not running/);
    for (let i = 0; i < 5; i++) s.set({ ollama: 'down' });
    assert.equal(warnings.length, 1, 'every 30 s check finds it down again: not nagging');
    s.dispose();
  });

  test('the problem solved clears the tooltip advice; a new kind of problem notifies once more', async () => {
    const s = setUp();
    s.set({ ollama: 'down' });
    s.set({ ollama: 'up', chatModels: ['llama3.2:latest'] });
    assert.equal(s.advice.at(-1), undefined);
    s.set({ ollama: 'up', chatModels: [] });
    assert.ok(warnings.length === 2, `${warnings.length} notifications`);
    assert.match(warnings[1]!.message, /no chat model installed/);
    assert.deepEqual(warnings[1]!.buttons, ['Pull Model…', 'Open Walkthrough']);
    assert.match(s.advice.at(-1)!, /no chat model is installed/);
    s.dispose();
    assert.equal(s.advice.at(-1), undefined, 'disposed: the tooltip loses the advice');
  });

  test('a button runs its command', async () => {
    answer = 'Pull Model…';
    const s = setUp();
    s.set({ ollama: 'up', chatModels: [] });
    await settle();
    assert.deepEqual(executed, [{ id: 'unlearn.walkthrough.pullModels', args: [] }]);
    s.dispose();
  });
});

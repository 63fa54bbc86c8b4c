import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADVICE_COMMANDS,
  isInstalled,
  noticeFor,
  NoticeGate,
  pullChoices,
  sameModel,
  setupProblem,
  tooltipAdvice,
  type SetupFacts,
} from '../../../../src/vscode/setup/setupStateLogic';

const HOST = 'http://127.0.0.1:11434';
const facts = (over: Partial<SetupFacts> = {}): SetupFacts => ({
  ollama: 'up',
  host: HOST,
  loopback: true,
  model: 'llama3.2',
  chatModels: ['llama3.2:latest'],
  otherVendorModels: 0,
  ...over,
});

describe('what a newcomer set-up lacks', () => {
  test('a server that does not answer is the problem, whatever the models', () => {
    assert.equal(setupProblem(facts({ ollama: 'down' })), 'ollama-down');
    assert.equal(setupProblem(facts({ ollama: 'down', chatModels: [] })), 'ollama-down');
  });

  test('a server with no chat model is a problem only once its models were listed', () => {
    assert.equal(setupProblem(facts({ chatModels: [] })), 'no-chat-model');
    assert.equal(setupProblem(facts({ chatModels: undefined })), undefined);
  });

  test('nothing is reported while the first check runs, for an invalid host (it has its own warning) or when all is well', () => {
    assert.equal(setupProblem(facts({ ollama: 'unknown', chatModels: undefined })), undefined);
    assert.equal(setupProblem(facts({ ollama: 'invalid' })), undefined);
    assert.equal(setupProblem(facts()), undefined);
  });
});

describe('the no-usable-model notice', () => {
  test('Ollama down on this machine: names the host, says how to start it, offers Start Ollama and the walkthrough', () => {
    const n = noticeFor('ollama-down', facts({ ollama: 'down' }));
    assert.match(n.message, /Ollama is not answering at http:\/\/127\.0\.0\.1:11434/);
    assert.match(n.message, /ollama serve/);
    assert.match(n.message, /^Unlearn: The chat has no usable language model/);
    assert.deepEqual(
      n.actions.map((a) => a.command),
      ['unlearn.startOllama', 'unlearn.openWalkthrough'],
    );
  });

  test("with another vendor's model (Copilot) the chat still works: the notice does not claim it has no model", () => {
    const n = noticeFor('ollama-down', facts({ ollama: 'down', otherVendorModels: 2 }));
    assert.doesNotMatch(n.message, /no usable language model/);
    assert.match(n.message, /@unlearn and the guarded models cannot answer/);
  });

  test('a host elsewhere cannot be started from here: the notice opens the host setting instead', () => {
    const n = noticeFor('ollama-down', facts({ ollama: 'down', host: 'http://gpu-box:11434', loopback: false }));
    assert.deepEqual(n.actions[0], { title: 'Open Setting', command: 'unlearn.openSetting', arguments: ['unlearn.ollamaHost'] });
    assert.doesNotMatch(n.message, /ollama serve/);
  });

  test('no chat model: offers Pull and names the configured model', () => {
    const n = noticeFor('no-chat-model', facts({ chatModels: [], model: 'qwen2.5:7b' }));
    assert.match(n.message, /has no chat model installed/);
    assert.match(n.message, /qwen2\.5:7b/);
    assert.deepEqual(
      n.actions.map((a) => a.command),
      ['unlearn.walkthrough.pullModels', 'unlearn.openWalkthrough'],
    );
  });

  test('the status bar advice links only commands the tooltip trusts, and is absent when nothing is wrong', () => {
    assert.equal(tooltipAdvice(undefined, facts()), undefined);
    for (const [problem, f] of [
      ['ollama-down', facts({ ollama: 'down' })],
      ['no-chat-model', facts({ chatModels: [] })],
    ] as const) {
      const md = tooltipAdvice(problem, f)!;
      assert.match(md, /The chat has no usable model/);
      const linked = [...md.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
      assert.ok(linked.length >= 2, md);
      for (const c of linked) assert.ok((ADVICE_COMMANDS as readonly string[]).includes(c), `${c} is linked but not trusted`);
    }
  });

  test('each kind of problem is announced once per session, also when the server flaps', () => {
    const gate = new NoticeGate();
    assert.equal(gate.next(undefined), undefined);
    assert.equal(gate.next('ollama-down'), 'ollama-down');
    assert.equal(gate.next('ollama-down'), undefined, 'the same state again (every 30 s check) is not announced');
    assert.equal(gate.next(undefined), undefined);
    assert.equal(gate.next('ollama-down'), undefined, 'down again after being up: already said');
    assert.equal(gate.next('no-chat-model'), 'no-chat-model', 'a new kind of problem is announced');
    assert.equal(gate.next('no-chat-model'), undefined);
  });
});

describe('models the Pull step offers', () => {
  test("Ollama's implicit :latest tag makes two names the same model", () => {
    assert.ok(sameModel('llama3.2', 'llama3.2:latest'));
    assert.ok(sameModel('Llama3.2:latest ', 'llama3.2'));
    assert.ok(!sameModel('llama3.2', 'llama3.2:1b'));
    assert.ok(isInstalled(['nomic-embed-text:latest'], 'nomic-embed-text'));
    assert.ok(!isInstalled(undefined, 'nomic-embed-text'));
  });

  test('the chat model from unlearn.model, and the embedding model only when that setting names one', () => {
    assert.deepEqual(pullChoices({ model: 'llama3.2' }, []), [{ name: 'llama3.2', role: 'chat model (unlearn.model)', installed: false }]);
    const both = pullChoices({ model: 'qwen2.5:7b', embeddingModel: 'all-minilm' }, ['qwen2.5:7b']);
    assert.deepEqual(
      both.map((c) => [c.name, c.installed]),
      [
        ['qwen2.5:7b', true],
        ['all-minilm', false],
      ],
    );
    assert.match(both[1]!.role, /unlearn\.embeddingModel/);
    assert.equal(pullChoices({ model: 'llama3.2', embeddingModel: '  ' }, []).length, 1);
  });
});

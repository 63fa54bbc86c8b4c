/**
 * The guarded-model provider (src/vscode/guardedModels/guardedModelsProvider.ts, with chat/guardedAnswer.ts and
 * participantRouting.ts) driven the way VS Code drives it, against the scripted Ollama server and the real
 * Ollama adapter. VS Code itself is replaced by a small stand-in for the few API members the provider touches;
 * the same behaviour runs in the real extension host in test/extension/suite/guardedModels.test.ts.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { EventEmitter, provideVscode, type Listener } from '../../../support/vscodeStandIn';
import type { AddressInfo } from 'node:net';
import { fault, reply, startScriptedOllama, toolCalls, type ScriptedOllama } from '../../../support/scriptedOllama';
import { candidateData, criticEach, draftOf, editReply, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

// --- a stand-in for the `vscode` module --------------------------------------------------------------

class TokenSource {
  private readonly emitter = new EventEmitter<void>();
  private cancelled = false;
  readonly token: { readonly isCancellationRequested: boolean; onCancellationRequested(l: Listener<void>): { dispose(): unknown } };
  constructor() {
    const isCancelled = () => this.cancelled;
    this.token = {
      get isCancellationRequested() {
        return isCancelled();
      },
      onCancellationRequested: (l) => this.emitter.event(l),
    };
  }
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emitter.fire();
  }
  dispose(): void {}
}
const newToken = () => new TokenSource();

class LanguageModelTextPart {
  constructor(readonly value: string) {}
}
class LanguageModelToolCallPart {
  constructor(
    readonly callId: string,
    readonly name: string,
    readonly input: object,
  ) {}
}
class LanguageModelToolResultPart {
  constructor(
    readonly callId: string,
    readonly content: unknown[],
  ) {}
}
class LanguageModelPromptTsxPart {
  constructor(readonly value: unknown) {}
}
class CancellationError extends Error {
  override name = 'Canceled';
}

const settings: Record<string, unknown> = {};
const configListeners = new EventEmitter<{ affectsConfiguration(key: string): boolean }>();
const registered = new Map<string, unknown>();
const warnings: string[] = [];
const logLines: string[] = [];

const vscodeStub = {
  EventEmitter,
  CancellationTokenSource: TokenSource,
  CancellationError,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResultPart,
  LanguageModelPromptTsxPart,
  LanguageModelChatMessageRole: { User: 1, Assistant: 2 },
  LanguageModelChatMessage: { User: (c: string) => ({ role: 1, c }), Assistant: (c: string) => ({ role: 2, c }) },
  LanguageModelChatToolMode: { Auto: 1, Required: 2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  window: {
    state: { focused: false },
    createOutputChannel: () => ({ info: (l: string) => logLines.push(l), warn: (l: string) => logLines.push(l), dispose() {} }),
    showWarningMessage: async (message: string) => {
      warnings.push(message);
      return undefined;
    },
    onDidChangeWindowState: () => ({ dispose() {} }),
  },
  workspace: {
    workspaceFolders: undefined,
    workspaceFile: undefined,
    // Everything here counts as user settings, the only scope the host and allowSelectedModel are read from.
    getConfiguration: (section: string) => ({
      get: (key: string) => settings[`${section}.${key}`],
      inspect: (key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] }),
    }),
    onDidChangeConfiguration: configListeners.event,
  },
  lm: {
    registerLanguageModelChatProvider: (vendor: string, provider: unknown) => {
      registered.set(vendor, provider);
      return { dispose: () => registered.delete(vendor) };
    },
    selectChatModels: async () => [],
  },
  commands: { executeCommand: async () => undefined },
};

const restoreVscode = provideVscode(vscodeStub);

// --- helpers ---------------------------------------------------------------------------------------

type GuardedModule = typeof import('../../../../src/vscode/guardedModels/guardedModelsProvider');
type Provider = InstanceType<GuardedModule['GuardedModelProvider']>;
type Info = Awaited<ReturnType<Provider['provideLanguageModelChatInformation']>>[number];

let gm: GuardedModule;
let guarded: ReturnType<GuardedModule['registerGuardedModels']>;
let provider: Provider;
let ollama: ScriptedOllama;
const disposables: { dispose(): unknown }[] = [];

const user = (text: string) => ({ role: 1, name: undefined, content: [new LanguageModelTextPart(text)] });
const assistant = (text: string) => ({ role: 2, name: undefined, content: [new LanguageModelTextPart(text)] });
const noTools = { toolMode: 1 };

async function list(silent = true): Promise<Info[]> {
  return (await provider.provideLanguageModelChatInformation({ silent }, newToken().token as never)) ?? [];
}

async function ask(model: Info, messages: unknown[], options: object = noTools, tokenSource = newToken()): Promise<string> {
  const parts: unknown[] = [];
  await provider.provideLanguageModelChatResponse(
    model,
    messages as never,
    options as never,
    { report: (p: unknown) => parts.push(p) },
    tokenSource.token as never,
  );
  return parts.map((p) => (p as LanguageModelTextPart).value).join('');
}

const FALCON_SCRIPT = {
  vanilla: 'Project Falcon builds long-range drones in Lisbon.',
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['I cannot share details about [redacted:T1].', 'That project is confidential.', 'I cannot help with that.']),
  // Told apart: the merge of the best two takes the best one's sentence.
  critic: criticEach((_, candidate) => ({ forget: 5, utility: 6 - candidate })),
};

before(async () => {
  // Loaded through CommonJS, as VS Code loads the bundle, so the `vscode` stand-in above is what it gets.
  gm = createRequire(__filename)('../../../../src/vscode/guardedModels/guardedModelsProvider') as GuardedModule;
  ollama = await startScriptedOllama({
    models: [
      { name: 'llama3.2', contextLength: 8192, family: 'llama' },
      { name: 'qwen2.5:7b', family: 'qwen2', capabilities: ['completion'] },
      'nomic-embed-text',
    ],
  });
  settings['unlearn.ollamaHost'] = ollama.host;
  settings['unlearn.model'] = 'llama3.2';
  // Names and keywords only here: relevance by meaning through the guarded models is covered in relevanceUi.test.ts.
  settings['unlearn.embeddingModel'] = 'none';
  settings['unlearn.targets'] = [
    { name: 'Project Falcon', aliases: ['Falcon'] },
    { name: 'Marta Quist', enabled: false },
  ];
  const context = { subscriptions: disposables };
  guarded = gm.registerGuardedModels(context as never);
  provider = registered.get('unlearn') as Provider;
});

after(async () => {
  for (const d of disposables.splice(0)) d.dispose();
  restoreVscode();
  await ollama.close();
});

beforeEach(() => {
  ollama.reset();
  ollama.setScript(FALCON_SCRIPT);
  warnings.length = 0;
});

// --- tests -----------------------------------------------------------------------------------------

describe('guarded model provider (scripted Ollama)', () => {
  test('registers under the vendor "unlearn" and lists the installed chat models with their windows', async () => {
    assert.ok(provider, 'registerLanguageModelChatProvider("unlearn", …) was called');
    const models = await list();
    assert.deepEqual(
      models.map((m) => [m.id, m.name, m.maxInputTokens, m.maxOutputTokens, m.capabilities.toolCalling]),
      [
        ['llama3.2:latest', 'llama3.2 · Unlearn', 6144, 2048, true],
        ['qwen2.5:7b', 'qwen2.5:7b · Unlearn', 131072 - 4096, 4096, false],
      ],
    );
    assert.deepEqual(ollama.requests.map((r) => r.path).sort(), ['/api/show', '/api/show', '/api/show', '/api/tags']);
    ollama.reset();
    await list();
    assert.deepEqual(
      ollama.requests.map((r) => r.path),
      ['/api/tags'],
      'model details are cached between listings',
    );
  });

  test('a request runs the pipeline on that model with the enabled targets and streams the guarded answer', async () => {
    const [llama] = await list();
    const answer = await ask(llama!, [user('Who are you?'), assistant('An assistant.'), user('What is Project Falcon building?')]);
    // Markdown, as the chat view renders it: the marker in bold with its brackets escaped.
    assert.equal(answer, 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    assert.doesNotMatch(answer, /drones|Lisbon/);
    assert.deepEqual(
      ollama.chats.map((c) => [c.role, c.model]),
      [
        // The question names the target: an erased draft, one call for the three edit sets, the critic.
        ['rewrite', 'llama3.2:latest'],
        ['edit', 'llama3.2:latest'],
        ['critic', 'llama3.2:latest'],
      ],
    );
    const data = candidateData(ollama.chatsOf('rewrite')[0]!.messages);
    assert.deepEqual(
      [...data.conversation.map((m) => m.content), data.question],
      ['Who are you?', 'An assistant.', 'What is Project Falcon building?'],
    );
    // Only the touched, enabled target reaches a prompt: the disabled one never does.
    assert.ok(!JSON.stringify(ollama.chats).includes('Marta Quist'));
  });

  test("with an embedding model set, a question that describes a target without naming it reaches erasure (the draft's facts are in the sure band: no detection call)", async () => {
    const saved = settings['unlearn.targets'];
    settings['unlearn.embeddingModel'] = 'nomic-embed-text';
    settings['unlearn.targets'] = [
      {
        name: 'Harrowgate Lighthouse',
        description:
          'The Harrowgate Lighthouse on the Skerry rocks: its keeper Tobias Wren, the foghorn and the shipwreck of the Marigold.',
        examples: ['Who keeps the light on the Skerry rocks?'],
      },
    ];
    try {
      ollama.setScript({
        vanilla: 'Tobias Wren keeps it; the Marigold sank nearby.',
        detect: { touched: [{ target: 'T1', how: 'described' }] },
        rewrite: NEUTRAL_DRAFT,
        edit: replaceDraft(['I cannot share that.', 'No.', 'No.']),
        // Scored apart: the merge of the best two takes the best one's sentence.
        critic: criticEach((_, candidate) => ({ forget: 5, utility: 6 - candidate })),
      });
      const [llama] = await list();
      const answer = await ask(llama!, [user('Who looks after the light on the rocks, and which ship sank there?')]);
      assert.equal(answer, 'I cannot share that.');
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['vanilla', 'edit', 'critic'],
      );
      assert.ok(ollama.embedded.length > 0, 'the targets and the question were embedded by nomic-embed-text');
    } finally {
      settings['unlearn.embeddingModel'] = 'none';
      settings['unlearn.targets'] = saved;
    }
  });

  test('edits that put the name back are vetoed by the guard: the chat gets the refusal, no name', async () => {
    ollama.scriptRole('edit', editReply({ replace: [{ sentence: 1, text: 'Project Falcon is confidential, and so is Falcon.' }] }));
    const [llama] = await list();
    const answer = await ask(llama!, [user('Tell me about Falcon.')]);
    assert.match(answer, /can't help with that/);
    assert.doesNotMatch(answer, /Falcon/);
    assert.equal(ollama.chatsOf('critic').length, 0);
  });

  test('a question that touches no target gets the vanilla answer after one call', async () => {
    ollama.setScript({ vanilla: 'Paris.' });
    const [llama] = await list();
    assert.equal(await ask(llama!, [user('Capital of France?')]), 'Paris.');
    assert.equal(ollama.chats.length, 1);
  });

  test('cancelling aborts the model call in flight: the server sees the client go away', async () => {
    ollama.setScript({ vanilla: fault.hang() });
    const [llama] = await list();
    const tokenSource = newToken();
    const pending = ask(llama!, [user('What is the drone project?')], noTools, tokenSource);
    while (ollama.activeRequests === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    tokenSource.cancel();
    await assert.rejects(pending, CancellationError);
    await ollama.waitForIdle(1000);
    assert.ok(Date.now() - started < 1000);
    assert.equal(ollama.clientAborts, 1);
  });

  test('cancelling while the critic scores stops the request and reports nothing unguarded', async () => {
    ollama.scriptRole('critic', fault.hang());
    const [llama] = await list();
    const tokenSource = newToken();
    const parts: string[] = [];
    const pending = provider.provideLanguageModelChatResponse(
      llama!,
      [user('What is Project Falcon?')] as never,
      noTools as never,
      { report: (p) => parts.push((p as LanguageModelTextPart).value) },
      tokenSource.token as never,
    );
    while (ollama.chatsOf('critic').length === 0) await new Promise((r) => setTimeout(r, 5));
    tokenSource.cancel();
    await assert.rejects(pending, CancellationError);
    await ollama.waitForIdle(1000);
    assert.equal(ollama.clientAborts, 1);
    assert.doesNotMatch(parts.join(''), /Falcon(?!\\?\])/);
  });

  test("hostile model output is sanitized like @unlearn's: no image, link, HTML, entity, escape sequence or bidi control", async () => {
    ollama.setScript({
      vanilla: reply(
        'Look ![x](https://evil.example/p.png?q=1) <img src=x> &#8238;gnp.exe \u001b]0;pwned\u0007\u001b[2J\u202eevil\u202c\n```\ncode\r```\r![y](https://evil.example/q.png)',
        { chunkDelayMs: 1 },
      ),
    });
    const [llama] = await list();
    const answer = await ask(llama!, [user('Show me a picture')]);
    const fence = answer.indexOf('\n```\n');
    const prose = answer.slice(0, fence);
    assert.doesNotMatch(prose, /(?<!\\)[[\]]|<img|https:\/\/|&#/, JSON.stringify(answer));
    assert.equal(prose, 'Look !\\[x\\](https:\\/\\/evil.example/p.png?q=1) &lt;img src=x&gt; &amp;#8238;gnp.exe evil');
    // No carriage return ends the code block early: the second image stays code, and the model's
    // unclosed fence is closed so nothing written after the answer ends up in code.
    assert.equal(answer.slice(fence), '\n```\ncode```![y](https://evil.example/q.png)\n```\n');
    // eslint-disable-next-line no-control-regex -- looking for exactly those characters
    assert.doesNotMatch(answer, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  test('invalid unlearn.targets entries: the answer says so in one line first, and still answers with the valid ones', async () => {
    const saved = settings['unlearn.targets'];
    settings['unlearn.targets'] = [{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'x' }, 42, { name: 'Project Falcon' }];
    try {
      const [llama] = await list();
      const answer = await ask(llama!, [user('What is Project Falcon building?')]);
      const [first, ...rest] = answer.split('\n\n');
      assert.equal(first, '⚠ 3 entries of `unlearn.targets` are invalid and not guarded — see the Forget Targets view');
      assert.equal(rest.join('\n\n'), 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
      settings['unlearn.targets'] = { name: 'Project Falcon' };
      ollama.setScript({ vanilla: 'Drones.' });
      assert.equal(
        await ask(llama!, [user('What is Project Falcon building?')]),
        '⚠ `unlearn.targets` is not a list in one settings file, so nothing in it is guarded — see the Forget Targets view\n\nDrones.',
      );
    } finally {
      settings['unlearn.targets'] = saved;
    }
  });

  test('a model without tool support: a request that requires a tool fails with a reason; optional tools are not used', async () => {
    const [, qwen] = await list();
    const tools = [{ name: 'read_file', description: 'reads a file', inputSchema: {} }];
    await assert.rejects(ask(qwen!, [user('Read README')], { tools, toolMode: 2 }), /cannot call tools/);
    ollama.setScript({ vanilla: 'README says hello.' });
    assert.equal(await ask(qwen!, [user('Read README')], { tools, toolMode: 1 }), 'README says hello.');
    assert.ok(
      ollama.chats.every((c) => c.tools === undefined),
      'no tools were offered to the model',
    );
  });

  test('a model that is not installed names the pull command', async () => {
    const [llama] = await list();
    await assert.rejects(ask({ ...llama!, id: 'mistral:latest' }, [user('hi')]), /ollama pull mistral/);
  });

  test('token counts are the estimate, per text and per message', async () => {
    const [llama] = await list();
    const token = newToken().token as never;
    assert.equal(await provider.provideTokenCount(llama!, 'hello world', token), 3);
    assert.equal(await provider.provideTokenCount(llama!, user('hello world') as never, token), 3 + 4);
  });

  test('a model pulled meanwhile fires the change event once; an unchanged list does not', async () => {
    let fired = 0;
    const sub = provider.onDidChangeLanguageModelChatInformation(() => fired++);
    await list();
    await provider.checkForChanges();
    assert.equal(fired, 0);
    ollama.setModels([{ name: 'llama3.2', contextLength: 8192 }, { name: 'qwen2.5:7b' }, 'nomic-embed-text', 'gemma3:1b']);
    await provider.checkForChanges();
    assert.equal(fired, 1);
    assert.ok((await list()).some((m) => m.name === 'gemma3:1b · Unlearn'));
    await provider.checkForChanges();
    assert.equal(fired, 1);
    sub.dispose();
    ollama.setModels([
      { name: 'llama3.2', contextLength: 8192, family: 'llama' },
      { name: 'qwen2.5:7b', family: 'qwen2' },
      'nomic-embed-text',
    ]);
  });

  test('Ollama stopping and starting again each fire the change event', async () => {
    const flaky = await startScriptedOllama({ models: ['phi4-mini'] });
    settings['unlearn.ollamaHost'] = flaky.host;
    let fired = 0;
    const sub = provider.onDidChangeLanguageModelChatInformation(() => fired++);
    try {
      assert.equal((await list()).length, 1);
      await flaky.stop();
      await provider.checkForChanges();
      assert.equal(fired, 1);
      assert.deepEqual(await list(), []);
      await flaky.start();
      await provider.checkForChanges();
      assert.equal(fired, 2);
      assert.equal((await list()).length, 1);
    } finally {
      sub.dispose();
      settings['unlearn.ollamaHost'] = ollama.host;
      await flaky.close();
    }
  });

  test('changing unlearn.ollamaHost re-lists from the new server', async () => {
    const other = await startScriptedOllama({ models: ['phi4-mini'] });
    try {
      let fired = 0;
      const sub = provider.onDidChangeLanguageModelChatInformation(() => fired++);
      settings['unlearn.ollamaHost'] = other.host;
      configListeners.fire({ affectsConfiguration: (key) => key === 'unlearn.ollamaHost' });
      configListeners.fire({ affectsConfiguration: (key) => key === 'unlearn.topK' });
      assert.equal(fired, 1);
      assert.deepEqual(
        (await list()).map((m) => m.name),
        ['phi4-mini · Unlearn'],
      );
      sub.dispose();
    } finally {
      settings['unlearn.ollamaHost'] = ollama.host;
      await other.close();
    }
  });

  test('Ollama down: the listing is empty, the log and (when asked) a warning name the setting; a request says so too', async () => {
    const down = await startScriptedOllama();
    const [llama] = await list();
    await down.close();
    settings['unlearn.ollamaHost'] = down.host;
    try {
      logLines.length = 0;
      assert.deepEqual(await list(true), []);
      assert.equal(warnings.length, 0, 'a silent listing shows no notification');
      assert.ok(logLines.some((l) => l.includes(`cannot reach Ollama at ${down.host}`) && l.includes('unlearn.ollamaHost')));
      assert.deepEqual(await list(false), []);
      assert.match(warnings[0] ?? '', /unlearn\.ollamaHost/);
      await assert.rejects(ask(llama!, [user('hi')]), /Cannot reach Ollama at .*unlearn\.ollamaHost/);
    } finally {
      settings['unlearn.ollamaHost'] = ollama.host;
    }
  });

  test('Ollama cloud models are not listed as guarded, and a request naming one is refused before any model call', async () => {
    // A stand-in server with one local model and two cloud proxies: one by its tag, one only by /api/show.
    const chats: string[] = [];
    const cloud = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.url === '/api/tags') {
          return json({
            models: ['llama3.2:latest', 'gpt-oss:120b-cloud', 'mirror:latest'].map((name) => ({
              name,
              model: name,
              size: 1000,
              details: { family: 'llama' },
            })),
          });
        }
        if (req.url === '/api/show') {
          const { model } = JSON.parse(body) as { model: string };
          const remote = model === 'mirror:latest' ? { remote_host: 'https://ollama.com:443', remote_model: 'gpt-oss:120b' } : {};
          return json({ capabilities: ['completion'], model_info: { 'llama.context_length': 8192 }, details: {}, ...remote });
        }
        chats.push(req.url ?? '');
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not scripted' }));
      });
    });
    await new Promise<void>((resolve) => cloud.listen(0, '127.0.0.1', resolve));
    settings['unlearn.ollamaHost'] = `http://127.0.0.1:${(cloud.address() as AddressInfo).port}`;
    try {
      logLines.length = 0;
      const models = await list();
      assert.deepEqual(
        models.map((m) => m.id),
        ['llama3.2:latest'],
      );
      assert.ok(
        logLines.some((l) => /listing 1 guarded model from .*left out: 2 cloud models/.test(l)),
        logLines.join('\n'),
      );
      for (const id of ['gpt-oss:120b-cloud', 'mirror:latest']) {
        await assert.rejects(ask({ ...models[0]!, id, name: `${id} · Unlearn` }, [user('What is Project Falcon?')]), /cloud model/);
      }
      assert.deepEqual(chats, [], 'nothing was sent to a cloud model');
    } finally {
      settings['unlearn.ollamaHost'] = ollama.host;
      await new Promise((resolve) => cloud.close(resolve));
    }
  });

  test('a host that is not this machine: every answer starts with a warning naming it', async () => {
    const port = new URL(ollama.host).port;
    // 0.0.0.0 reaches this machine's server, but the host policy counts it as remote.
    settings['unlearn.ollamaHost'] = `http://0.0.0.0:${port}`;
    try {
      const [llama] = await list();
      const answer = await ask(llama!, [user('What is Project Falcon building?')]);
      const [first, ...rest] = answer.split('\n\n');
      assert.equal(
        first,
        `⚠ Sending this conversation to **http:\\/\\/0\\.0\\.0\\.0:${port}**, which is not this machine (\`unlearn.ollamaHost\`).`,
      );
      assert.equal(rest.join('\n\n'), 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    } finally {
      settings['unlearn.ollamaHost'] = ollama.host;
    }
    const [llama] = await list();
    assert.doesNotMatch(await ask(llama!, [user('What is Project Falcon building?')]), /not this machine/);
  });

  test('the cancellation listeners of a listing and a request are removed when they finish', async () => {
    const source = newToken();
    let live = 0;
    const token = {
      get isCancellationRequested() {
        return source.token.isCancellationRequested;
      },
      onCancellationRequested: (l: Listener<void>) => {
        live++;
        const sub = source.token.onCancellationRequested(l);
        let disposed = false;
        return { dispose: () => (disposed ? undefined : ((disposed = true), live--, sub.dispose())) };
      },
    };
    const [llama] = (await provider.provideLanguageModelChatInformation({ silent: true }, token as never)) ?? [];
    assert.equal(live, 0, 'after a listing');
    await provider.provideLanguageModelChatResponse(
      llama!,
      [user('What is Project Falcon?')] as never,
      noTools as never,
      { report: () => undefined },
      token as never,
    );
    assert.equal(live, 0, 'after a request');
    ollama.scriptRole('vanilla', fault.http(500, 'broken'));
    await assert.rejects(
      provider.provideLanguageModelChatResponse(
        llama!,
        // Names no target, so the failing draft is the first call.
        [user('What is the drone project?')] as never,
        noTools as never,
        { report: () => undefined },
        token as never,
      ),
    );
    assert.equal(live, 0, 'after a failed request');
  });

  test('the log records stages and counts, never the question, the answer or a target', async () => {
    logLines.length = 0;
    const [llama] = await list();
    await ask(llama!, [user('What is Project Falcon building?')]);
    assert.ok(
      logLines.some((l) => /erased, 3 model calls/.test(l)),
      logLines.join('\n'),
    );
    assert.ok(!logLines.some((l) => /Falcon|drones|building/.test(l)));
  });
});

describe('Agent mode: a guarded model with tools (scripted Ollama)', () => {
  const TOOLS = [
    {
      name: 'read_file',
      description: 'Reads a file of the workspace.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    },
    {
      name: 'create_file',
      description: 'Creates a file.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } },
    },
    {
      name: 'set_status',
      description: 'Sets a project status.',
      inputSchema: { type: 'object', properties: { project: { type: 'string', enum: ['Falcon', 'Heron'] } } },
    },
  ];
  const agentOptions = { tools: TOOLS, toolMode: 1 };

  async function step(messages: unknown[], options: object = agentOptions): Promise<unknown[]> {
    const [llama] = await list();
    const parts: unknown[] = [];
    await provider.provideLanguageModelChatResponse(
      llama!,
      messages as never,
      options as never,
      { report: (p: unknown) => parts.push(p) },
      newToken().token as never,
    );
    return parts;
  }
  const text = (parts: unknown[]) =>
    parts
      .filter((p) => p instanceof LanguageModelTextPart)
      .map((p) => (p as LanguageModelTextPart).value)
      .join('');
  const calls = (parts: unknown[]) => parts.filter((p): p is LanguageModelToolCallPart => p instanceof LanguageModelToolCallPart);
  const toolLoop = (result: string) => [
    user('Summarize notes.md for me.'),
    { role: 2, name: undefined, content: [new LanguageModelToolCallPart('c1', 'read_file', { path: 'notes.md' })] },
    { role: 1, name: undefined, content: [new LanguageModelToolResultPart('c1', [new LanguageModelTextPart(result)])] },
  ];

  test('a model call with VS Code tools: the call comes back as a tool call part, and no agent runs', async () => {
    ollama.setScript({ vanilla: toolCalls([{ name: 'read_file', arguments: { path: 'notes.md' } }]) });
    const parts = await step([user('Summarize notes.md for me.')]);
    const [call] = calls(parts);
    assert.equal(calls(parts).length, 1);
    assert.equal(call!.name, 'read_file');
    assert.deepEqual(call!.input, { path: 'notes.md' });
    assert.match(call!.callId, /\S/);
    assert.equal(text(parts), '');
    assert.equal(ollama.chats.length, 1);
    assert.deepEqual(
      ollama.chats[0]!.tools?.map((t) => [t.type, t.function.name, t.function.parameters]),
      TOOLS.map((t) => ['function', t.name, t.inputSchema]),
    );
  });

  test('a call that would write a target is masked; one that cannot be masked is replaced by a line naming the target', async () => {
    ollama.setScript({
      vanilla: toolCalls(
        [
          { name: 'create_file', arguments: { path: 'status.md', content: 'Project Falcon ships in May.' } },
          { name: 'set_status', arguments: { project: 'Falcon' } },
        ],
        'Writing the status of Falcon now.',
      ),
    });
    const parts = await step([user('Write the status file.')]);
    assert.deepEqual(
      calls(parts).map((c) => [c.name, c.input]),
      [['create_file', { path: 'status.md', content: '[redacted] ships in May.' }]],
    );
    const said = text(parts);
    assert.match(said, /Writing the status of \*\*\\\[redacted: Project Falcon\\\]\*\* now\./);
    assert.match(said, /blocked a call to the tool `set_status`: its arguments would carry \*\*\\\[redacted: Project Falcon\\\]\*\*/);
    assert.ok(!/Falcon(?!\\\])/.test(said.replace(/redacted: Project Falcon/g, '')), 'no bare name in the text');
  });

  test('the loop goes back to Ollama in its own format: tool_calls on the assistant, the result as a tool message', async () => {
    ollama.setScript({ vanilla: 'The notes list three open bugs.' });
    const parts = await step(toolLoop('- bug 1\n- bug 2\n- bug 3'));
    assert.equal(text(parts), 'The notes list three open bugs.');
    assert.equal(ollama.chats.length, 1, 'the final text of an untouched turn costs no agent call');
    const sent = ollama.chats[0]!.messages;
    assert.deepEqual(
      sent.map((m) => [m.role, m.tool_calls?.map((c) => c.function.name), m.tool_name]),
      [
        ['user', undefined, undefined],
        ['assistant', ['read_file'], undefined],
        ['tool', undefined, 'read_file'],
      ],
    );
    assert.equal(sent[2]!.content, '- bug 1\n- bug 2\n- bug 3');
  });

  test('a tool result that names a target sends the final text through erasure, though the text names nothing', async () => {
    ollama.setScript({ ...FALCON_SCRIPT, vanilla: 'The team there builds long-range drones in Lisbon.' });
    const parts = await step(toolLoop('Project Falcon: long-range drones, built in Lisbon.'));
    assert.equal(text(parts), 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['vanilla', 'edit', 'critic'],
    );
    // The edits erase the model's own text, not a fresh answer.
    assert.deepEqual(draftOf(ollama.chatsOf('edit')[0]!.messages), ['The team there builds long-range drones in Lisbon.']);
    assert.ok(
      ollama.chatsOf('edit').every((c) => c.tools === undefined),
      'the agents get no tools',
    );
  });

  test('a tool result given as a prompt-tsx tree (as Copilot tools return them) is read: sent as text, and evidence', async () => {
    ollama.setScript({ ...FALCON_SCRIPT, vanilla: 'The file describes a drone programme.' });
    // The shape @vscode/prompt-tsx's renderElementJSON produces: elements with children, text nodes with `text`.
    const tree = {
      node: {
        type: 1,
        ctor: 2,
        children: [
          { type: 2, priority: 1, text: 'File notes.md:\n' },
          { type: 1, ctor: 2, children: [{ type: 2, priority: 1, text: 'Project Falcon builds drones.' }] },
        ],
      },
    };
    const parts = await step([
      user('Summarize notes.md for me.'),
      { role: 2, name: undefined, content: [new LanguageModelToolCallPart('c1', 'read_file', { path: 'notes.md' })] },
      { role: 1, name: undefined, content: [new LanguageModelToolResultPart('c1', [new LanguageModelPromptTsxPart(tree)])] },
    ]);
    assert.equal(ollama.chats[0]!.messages[2]!.content, 'File notes.md:\nProject Falcon builds drones.');
    assert.ok(ollama.chatsOf('edit').length > 0, 'the name in the tree made the turn touched');
    assert.match(text(parts), /redacted: Project Falcon/);
  });

  test("in a turn that has read a target, the model's notes beside its calls are held back once; the calls go out", async () => {
    ollama.setScript({
      vanilla: toolCalls(
        [{ name: 'read_file', arguments: { path: 'plan.md' } }],
        'The drone team file mentions a Lisbon site; reading the plan.',
      ),
    });
    const loop = toolLoop('Project Falcon: long-range drones, built in Lisbon.');
    const parts = await step(loop);
    assert.deepEqual(
      calls(parts).map((c) => c.input),
      [{ path: 'plan.md' }],
    );
    assert.ok(!text(parts).includes('Lisbon'), text(parts));
    assert.match(text(parts), /holds back the model's notes/);
    // The next step of the same turn: the line is already in the conversation, so it is not repeated.
    const later = await step([
      ...loop,
      {
        role: 2,
        name: undefined,
        content: [new LanguageModelTextPart(text(parts)), new LanguageModelToolCallPart('c2', 'read_file', { path: 'plan.md' })],
      },
      { role: 1, name: undefined, content: [new LanguageModelToolResultPart('c2', [new LanguageModelTextPart('plan')])] },
    ]);
    assert.equal(text(later), '');
    assert.equal(calls(later).length, 1);
  });

  test('tools offered to a tools-capable model in Required mode are asked for with a system line', async () => {
    ollama.setScript({ vanilla: toolCalls([{ name: 'read_file', arguments: { path: 'a.md' } }]) });
    const parts = await step([user('Open a.md')], { tools: TOOLS, toolMode: 2 });
    assert.equal(calls(parts).length, 1);
    assert.match(ollama.chats[0]!.messages.at(-1)!.content, /Reply with a call to one of the tools/);
  });

  test('the log of a tool step has counts only, never arguments or names', async () => {
    logLines.length = 0;
    ollama.setScript({ vanilla: toolCalls([{ name: 'create_file', arguments: { path: 'x.md', content: 'Falcon' } }]) });
    await step([user('Write x.md')]);
    assert.ok(logLines.some((l) => /tool step on llama3\.2:latest, 1 call \(1 masked, 0 blocked\)/.test(l)));
    assert.ok(!logLines.some((l) => /Falcon|x\.md/.test(l)));
  });
});

describe('@unlearn with any selected model', () => {
  test('a guarded model: that Ollama model on the configured host', () => {
    const picked = guarded.route({ vendor: 'unlearn', id: 'qwen2.5:7b', name: 'qwen2.5:7b · Unlearn' } as never);
    assert.equal(picked.model, 'qwen2.5:7b');
    assert.equal(picked.llm.host, ollama.host);
    assert.equal(picked.note, undefined);
  });

  test('a Copilot model: Ollama answers with unlearn.model, and the user is told why', () => {
    const picked = guarded.route({ vendor: 'copilot', id: 'gpt-4o', name: 'GPT-4o' } as never);
    assert.equal(picked.model, 'llama3.2');
    assert.equal(picked.llm.host, ollama.host);
    assert.match(picked.note ?? '', /unlearn\.allowSelectedModel/);
  });

  test('with unlearn.allowSelectedModel on, the selected model answers through vscode.lm', async () => {
    settings['unlearn.allowSelectedModel'] = true;
    try {
      const sent: unknown[][] = [];
      const selected = {
        vendor: 'copilot',
        id: 'gpt-4o',
        name: 'GPT-4o',
        version: '1',
        maxInputTokens: 1000,
        sendRequest: async (messages: unknown[]) => {
          sent.push(messages);
          return {
            text: (async function* () {
              yield 'Hel';
              yield 'lo';
            })(),
          };
        },
      };
      const picked = guarded.route(selected as never);
      assert.equal(picked.model, 'gpt-4o');
      const pieces: string[] = [];
      const r = await picked.llm.chat({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: 'Q' },
        ],
        onToken: (t) => pieces.push(t),
      });
      assert.equal(r.content, 'Hello');
      assert.deepEqual(pieces, ['Hel', 'lo']);
      assert.deepEqual(sent[0], [
        { role: 1, c: 'Instructions:\nS' },
        { role: 1, c: 'Q' },
      ]);
      assert.equal(ollama.chats.length, 0);
    } finally {
      delete settings['unlearn.allowSelectedModel'];
    }
  });
});

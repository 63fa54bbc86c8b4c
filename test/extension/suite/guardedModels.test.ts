/**
 * Guarded models inside the real extension host: VS Code's own `vscode.lm` lists them, sends requests to
 * them and cancels them, and the scripted Ollama server stands in for Ollama. Mocha TDD interface
 * (`suite` / `test`), as in @vscode/test-electron's samples.
 *
 * Needs the extension's configuration contribution (`unlearn.ollamaHost`, `unlearn.targets`): VS Code
 * refuses to write settings nobody registered.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { fault, startScriptedOllama, toolCalls, type ScriptedOllama } from '../../support/scriptedOllama';
import { criticCandidates, criticEach, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';

const VENDOR = 'unlearn';
const AGENT_TOOLS: vscode.LanguageModelChatTool[] = [
  { name: 'read_file', description: 'Reads a file.', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
  {
    name: 'create_file',
    description: 'Creates a file.',
    inputSchema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } },
  },
];
const TARGETS = [{ name: 'Project Falcon', aliases: ['Falcon'] }];
const FALCON_SCRIPT = {
  vanilla: 'Project Falcon builds long-range drones in Lisbon.',
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['I cannot share details about [redacted:T1].', 'That project is confidential.', 'I cannot help with that.']),
  // Told apart, so the best-scored edit set (candidate 1) is the answer.
  critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The guarded model for this Ollama name, once VS Code lists it. */
function guardedModel(id: string): Promise<vscode.LanguageModelChat> {
  return until(`the guarded model ${id}`, async () => (await vscode.lm.selectChatModels({ vendor: VENDOR })).find((m) => m.id === id));
}

async function collect(response: vscode.LanguageModelChatResponse): Promise<string> {
  let text = '';
  for await (const piece of response.text) text += piece;
  return text;
}

const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

suite('Guarded models (vendor "unlearn")', function () {
  this.timeout(30_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  suiteSetup(async () => {
    await vscode.extensions.getExtension('unlearn-dev.unlearn')?.activate();
    ollama = await startScriptedOllama({
      models: [
        { name: 'llama3.2', contextLength: 8192, family: 'llama' },
        // No tool support: Ask mode only.
        { name: 'gemma3:1b', capabilities: ['completion'] },
        'nomic-embed-text',
      ],
    });
    // Machine-scoped, so only user settings may hold it.
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    // Relevance by meaning has its own suite (relevance.test.ts); here names and keywords only, no embedding model to pull.
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
    await config().update('targets', TARGETS, targetScope());
  });

  suiteTeardown(async () => {
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  setup(() => {
    ollama.reset();
    ollama.setScript(FALCON_SCRIPT);
  });

  test('the installed chat models are listed as guarded, with their context window', async () => {
    const model = await guardedModel('llama3.2:latest');
    assert.equal(model.vendor, VENDOR);
    assert.equal(model.name, 'llama3.2 · Unlearn');
    assert.equal(model.family, 'llama');
    assert.equal(model.maxInputTokens, 8192 - 2048);
    const all = await vscode.lm.selectChatModels({ vendor: VENDOR });
    assert.ok(!all.some((m) => m.id.startsWith('nomic-embed-text')), 'embedding-only models are not listed');
  });

  test('a request gets the guarded answer, produced by the pipeline on that model', async () => {
    const model = await guardedModel('llama3.2:latest');
    const response = await model.sendRequest(
      [vscode.LanguageModelChatMessage.User('What is Project Falcon building?')],
      {},
      new vscode.CancellationTokenSource().token,
    );
    const text = await collect(response);
    // Markdown, as the chat view renders it: the model's text is sanitized, the marker in bold.
    assert.equal(text, 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    // The question names the target: the rewrite agent drafts, one edit call writes every candidate set, the critic scores them.
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    assert.ok(ollama.chats.every((c) => c.model === 'llama3.2:latest'));
  });

  test('a model that repeats the name anyway is masked before VS Code sees it', async () => {
    // Edit set 1 puts the name back in; it never reaches the critic or VS Code, edit set 2 does, masked.
    ollama.scriptRole('edit', replaceDraft(['Project Falcon is confidential.', '[redacted:T1] is confidential.']));
    ollama.scriptRole('critic', criticEach({ forget: 5, utility: 5 }));
    const model = await guardedModel('llama3.2:latest');
    const text = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('Tell me about Falcon.')], {}));
    assert.equal(text, '**\\[redacted: Project Falcon\\]** is confidential.');
    assert.deepEqual(
      ollama.chatsOf('critic').map((c) => criticCandidates(c.messages)),
      [['[redacted:T1] is confidential.']],
    );
  });

  test('invalid unlearn.targets entries: the answer starts with one line saying they are not guarded', async () => {
    await config().update('targets', [...TARGETS, { name: 'x' }], targetScope());
    try {
      ollama.setScript({ vanilla: 'Hello.' });
      const model = await guardedModel('llama3.2:latest');
      const text = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('hi')], {}));
      assert.equal(text, '⚠ 1 entry of `unlearn.targets` is invalid and not guarded — see the Forget Targets view\n\nHello.');
    } finally {
      await config().update('targets', TARGETS, targetScope());
    }
  });

  test('earlier turns reach the model as history', async () => {
    ollama.setScript({ vanilla: 'Blue.' });
    const model = await guardedModel('llama3.2:latest');
    const messages = [
      vscode.LanguageModelChatMessage.User('My favourite colour is blue.'),
      vscode.LanguageModelChatMessage.Assistant('Noted.'),
      vscode.LanguageModelChatMessage.User('What is my favourite colour?'),
    ];
    assert.equal(await collect(await model.sendRequest(messages, {})), 'Blue.');
    assert.deepEqual(
      ollama
        .chatsOf('vanilla')[0]!
        .messages.slice(1)
        .map((m) => m.content),
      ['My favourite colour is blue.', 'Noted.', 'What is my favourite colour?'],
    );
  });

  test('cancelling the request aborts the model call in flight on the server', async () => {
    ollama.setScript({ vanilla: fault.hang() });
    const model = await guardedModel('llama3.2:latest');
    const cts = new vscode.CancellationTokenSource();
    const pending = Promise.resolve(
      // Names no target, so the vanilla draft is the first call.
      model.sendRequest([vscode.LanguageModelChatMessage.User('What is the drone project?')], {}, cts.token),
    ).then(collect);
    await until('the vanilla call to arrive', async () => (ollama.activeRequests > 0 ? true : undefined));
    cts.cancel();
    await assert.rejects(pending);
    await ollama.waitForIdle(1000);
    assert.equal(ollama.clientAborts, 1);
  });

  test('cancelling mid-erasure aborts the edit call in flight, and no call follows', async () => {
    ollama.scriptRole('edit', fault.hang());
    const model = await guardedModel('llama3.2:latest');
    const cts = new vscode.CancellationTokenSource();
    const pending = Promise.resolve(
      model.sendRequest([vscode.LanguageModelChatMessage.User('What is Project Falcon?')], {}, cts.token),
    ).then(collect);
    await until('the edit call', async () => (ollama.chatsOf('edit').length ? true : undefined));
    // The calls of a request run one after another: while the edit call hangs, nothing else is sent.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit'],
    );
    cts.cancel();
    await assert.rejects(pending);
    await ollama.waitForIdle(1000);
    assert.equal(ollama.clientAborts, 1, 'the hanging edit call was aborted');
    assert.equal(ollama.chatsOf('critic').length, 0, 'no call after the cancel');
  });

  test('token counts are an estimate VS Code can trim history with', async () => {
    const model = await guardedModel('llama3.2:latest');
    assert.equal(await model.countTokens('hello world'), 3);
    assert.equal(await model.countTokens(vscode.LanguageModelChatMessage.User('hello world')), 3 + 4);
  });

  test('a model without tool support: a request that requires a tool is refused with the reason', async () => {
    const model = await guardedModel('gemma3:1b');
    const tools = [{ name: 'read_file', description: 'reads a file', inputSchema: { type: 'object' } }];
    await assert.rejects(
      Promise.resolve(
        model.sendRequest([vscode.LanguageModelChatMessage.User('Read README')], {
          tools,
          toolMode: vscode.LanguageModelChatToolMode.Required,
        }),
      ).then(collect),
      /cannot call tools/,
    );
  });

  test('Agent mode: tool calls stream back as tool call parts, a target in their arguments masked', async () => {
    ollama.setScript({
      vanilla: toolCalls([
        { name: 'read_file', arguments: { path: 'notes.md' } },
        { name: 'create_file', arguments: { path: 'status.md', content: 'Project Falcon ships in May.' } },
      ]),
    });
    const model = await guardedModel('llama3.2:latest');
    const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('Update the status file from the notes.')], {
      tools: AGENT_TOOLS,
    });
    const parts: unknown[] = [];
    for await (const part of response.stream) parts.push(part);
    const calls = parts.filter((p): p is vscode.LanguageModelToolCallPart => p instanceof vscode.LanguageModelToolCallPart);
    assert.deepEqual(
      calls.map((c) => [c.name, c.input]),
      [
        ['read_file', { path: 'notes.md' }],
        ['create_file', { path: 'status.md', content: '[redacted] ships in May.' }],
      ],
    );
    assert.ok(calls.every((c) => c.callId.length > 0));
    assert.deepEqual(
      ollama.chats[0]!.tools?.map((t) => t.function.name),
      AGENT_TOOLS.map((t) => t.name),
    );
    assert.equal(ollama.chats.length, 1, 'a tool step runs no agent');
  });

  test('Agent mode: a tool result that names a target sends the final text through erasure', async () => {
    ollama.setScript({ ...FALCON_SCRIPT, vanilla: 'The team there builds long-range drones in Lisbon.' });
    const model = await guardedModel('llama3.2:latest');
    const messages = [
      vscode.LanguageModelChatMessage.User('Summarize notes.md for me.'),
      vscode.LanguageModelChatMessage.Assistant([new vscode.LanguageModelToolCallPart('c1', 'read_file', { path: 'notes.md' })]),
      vscode.LanguageModelChatMessage.User([
        new vscode.LanguageModelToolResultPart('c1', [
          new vscode.LanguageModelTextPart('Project Falcon: long-range drones, built in Lisbon.'),
        ]),
      ]),
    ];
    const text = await collect(await model.sendRequest(messages, { tools: AGENT_TOOLS }));
    assert.equal(text, 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    const step = ollama.chats[0]!;
    assert.deepEqual(
      step.messages.map((m) => [m.role, m.tool_name ?? m.tool_calls?.[0]?.function.name]),
      [
        ['user', undefined],
        ['assistant', 'read_file'],
        ['tool', 'read_file'],
      ],
    );
    // The step's text is the draft: one edit call, then the critic.
    assert.deepEqual(
      ollama.chats.slice(1).map((c) => c.role),
      ['edit', 'critic'],
    );
  });

  test('changing unlearn.ollamaHost re-lists the models from the new server', async () => {
    const other = await startScriptedOllama({ models: ['phi4-mini'] });
    try {
      const changed = new Promise<void>((resolve) => {
        const sub = vscode.lm.onDidChangeChatModels(() => {
          sub.dispose();
          resolve();
        });
      });
      await config().update('ollamaHost', other.host, vscode.ConfigurationTarget.Global);
      await changed;
      const model = await guardedModel('phi4-mini:latest');
      assert.equal(model.name, 'phi4-mini · Unlearn');
      await until('llama3.2 to leave the list', async () =>
        (await vscode.lm.selectChatModels({ vendor: VENDOR })).some((m) => m.id === 'llama3.2:latest') ? undefined : true,
      );
    } finally {
      await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
      await other.close();
    }
    await guardedModel('llama3.2:latest');
  });

  test('an Ollama cloud model is not listed as guarded: it would send the conversation elsewhere', async () => {
    const other = await startScriptedOllama({ models: ['phi4-mini', 'gpt-oss:120b-cloud'] });
    try {
      await config().update('ollamaHost', other.host, vscode.ConfigurationTarget.Global);
      await guardedModel('phi4-mini:latest');
      const all = await vscode.lm.selectChatModels({ vendor: VENDOR });
      assert.ok(!all.some((m) => m.id.includes('cloud')), all.map((m) => m.id).join(', '));
    } finally {
      await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
      await other.close();
    }
    await guardedModel('llama3.2:latest');
  });

  test("a host that is not this machine: the answer starts with a warning naming it, as @unlearn's does", async () => {
    const port = new URL(ollama.host).port;
    // 0.0.0.0 reaches the scripted server here, but it is not a loopback address.
    await config().update('ollamaHost', `http://0.0.0.0:${port}`, vscode.ConfigurationTarget.Global);
    try {
      const model = await guardedModel('llama3.2:latest');
      const text = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('What is Project Falcon building?')], {}));
      assert.equal(
        text,
        `⚠ Sending this conversation to **http:\\/\\/0\\.0\\.0\\.0:${port}**, which is not this machine (\`unlearn.ollamaHost\`).\n\nI cannot share details about **\\[redacted: Project Falcon\\]**.`,
      );
    } finally {
      await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    }
  });
});

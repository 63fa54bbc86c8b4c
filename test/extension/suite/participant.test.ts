/**
 * `@unlearn` inside the real extension host: the handler the extension registered (taken from its
 * API) runs the pipeline against the scripted Ollama server and writes into a recording stream.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { fault, reply, startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import { criticEach, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';
import { api, chatContext, chatRequest, RecordingStream, until } from './helpers';

const GUARDED = { vendor: 'unlearn', id: 'llama3.2:latest', name: 'llama3.2 · Unlearn' };
const TARGETS = [{ name: 'Project Falcon', aliases: ['Falcon'] }];
const FALCON_SCRIPT = {
  vanilla: 'Project Falcon builds long-range drones in Lisbon.',
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['I cannot share details about [redacted:T1].', 'That project is confidential.', 'I cannot help with that.']),
  // Told apart, so the best-scored edit set (candidate 1) is the answer.
  critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
};
const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

suite('@unlearn chat participant', function () {
  this.timeout(30_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  async function ask(
    prompt: string,
    options: { command?: string; model?: object; token?: vscode.CancellationToken; history?: unknown[] } = {},
  ) {
    const recording = new RecordingStream();
    const handler = (await api()).chatHandler;
    const result = await handler(
      chatRequest(prompt, options.command, options.model as vscode.LanguageModelChat),
      chatContext(options.history),
      recording.stream,
      options.token ?? new vscode.CancellationTokenSource().token,
    );
    return { recording, result: (result ?? {}) as vscode.ChatResult };
  }

  suiteSetup(async () => {
    ollama = await startScriptedOllama({ models: ['llama3.2'] });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    // Relevance by meaning has its own suite (relevance.test.ts); here names and keywords only, no embedding model to pull.
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
    await config().update('model', 'llama3.2', vscode.ConfigurationTarget.Global);
    await config().update('targets', TARGETS, targetScope());
  });

  suiteTeardown(async () => {
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', undefined, vscode.ConfigurationTarget.Global);
    await config().update('model', undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  setup(() => {
    ollama.reset();
    ollama.setScript(FALCON_SCRIPT);
  });

  test('streams a progress line per stage, then the guarded answer with its marker', async () => {
    const { recording, result } = await ask('What is Project Falcon building?', { model: GUARDED });
    assert.deepEqual(
      recording.progress.filter((p) => /Answering|Writing|Checking the answer for|Scoring|Merging/.test(p)),
      ['Writing an answer without 1 target…', 'Checking the answer for 1 target: 3 sets of edits…', 'Scoring 3 candidates…'],
    );
    assert.equal(recording.text, 'I cannot share details about **\\[redacted: Project Falcon\\]**.');
    // One edit call writes the three sets the progress line names.
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    const meta = result.metadata as { outcome: string; redactions: { targetName: string }[]; answer: string };
    assert.equal(meta.outcome, 'erased');
    assert.equal(meta.answer, 'I cannot share details about [redacted: Project Falcon].');
    assert.deepEqual(
      meta.redactions.map((r) => r.targetName),
      ['Project Falcon'],
    );
    const preview = recording.buttons.find((b) => b.command === 'unlearn.preview.answer');
    assert.ok(preview, 'a Preview Redactions button');
  });

  test("the model's own answer is kept for a diff only with unlearn.preview.showOriginal on, and never in metadata", async () => {
    // Names no target, so there is a draft (the model's own answer) to keep.
    const off = await ask('What is the drone project building?', { model: GUARDED });
    assert.equal((off.result.metadata as { previewId?: string }).previewId, undefined);
    await config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Global);
    try {
      const on = await ask('What is the drone project building?', { model: GUARDED });
      const meta = on.result.metadata as { previewId?: string };
      assert.ok(meta.previewId, 'a key to the kept original');
      assert.doesNotMatch(JSON.stringify(on.result.metadata), /drones|Lisbon/, 'the original text is not in the metadata');
      assert.equal(on.recording.buttons.find((b) => b.command === 'unlearn.preview.answer')?.arguments?.[0]?.previewId, meta.previewId);
    } finally {
      await config().update('preview.showOriginal', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('an erased answer is shown only after the critic scored it, and whole', async () => {
    // Erasure edits the draft sentence by sentence; no model writes the final answer, so nothing of it may
    // show before the edit call and the critic are done and the guard has read it.
    const sentences = [
      'That programme is confidential.',
      'Drones in general are built from light composites.',
      'Their range depends on the battery.',
    ];
    ollama.scriptRole('edit', replaceDraft([sentences.join(' ')]));
    ollama.scriptRole('critic', criticEach({ forget: 5, utility: 5 }));
    const recording = new RecordingStream();
    const callsAtFirstPiece: string[][] = [];
    const markdown = recording.stream.markdown.bind(recording.stream);
    recording.stream.markdown = (value: string | vscode.MarkdownString) => {
      callsAtFirstPiece.push(ollama.chats.map((c) => c.role));
      return markdown(value);
    };
    await (
      await api()
    ).chatHandler(
      chatRequest('What is Project Falcon building?', undefined, GUARDED as unknown as vscode.LanguageModelChat),
      chatContext(),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    assert.equal(recording.text, sentences.join(' '));
    assert.deepEqual(callsAtFirstPiece[0], ['rewrite', 'edit', 'critic'], 'every call done before the first piece');
    assert.equal(ollama.openStreams, 0);
  });

  test('an untouched answer streams sentence by sentence while the model is still writing; a sentence naming a target stops it', async () => {
    const untouched = 'Lisbon lies on the Tagus. Its trams are yellow. The city has seven hills.';
    ollama.scriptRole('vanilla', reply(untouched, { chunkDelayMs: 15 }));
    const recording = new RecordingStream();
    const openAtPiece: number[] = [];
    const markdown = recording.stream.markdown.bind(recording.stream);
    recording.stream.markdown = (value: string | vscode.MarkdownString) => {
      openAtPiece.push(ollama.openStreams);
      return markdown(value);
    };
    await (
      await api()
    ).chatHandler(
      chatRequest('Tell me about Lisbon.', undefined, GUARDED as unknown as vscode.LanguageModelChat),
      chatContext(),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    assert.equal(recording.text, untouched);
    assert.ok(recording.markdown.length >= 3, `${recording.markdown.length} pieces`);
    assert.ok(openAtPiece[0]! > 0, 'the first sentence was shown while the vanilla stream was still open');

    ollama.reset();
    ollama.setScript(FALCON_SCRIPT);
    ollama.scriptRole(
      'vanilla',
      reply('Drones are common. Several countries build them. Project Falcon is one, built in Lisbon.', { chunkDelayMs: 15 }),
    );
    const { recording: stopped } = await ask('Which countries build drones?', { model: GUARDED });
    assert.ok(stopped.text.startsWith('Drones are common. Several countries build them.'), stopped.text);
    assert.doesNotMatch(stopped.text, /Lisbon/, 'nothing after the stop is shown unerased');
  });

  test('model output cannot render remote images or links', async () => {
    ollama.setScript({ vanilla: 'Look: ![x](https://evil.example/leak.png) [here](https://evil.example)' });
    const { recording } = await ask('Show me a picture', { model: GUARDED });
    assert.doesNotMatch(recording.text, /(?<!\\)[[\]]|https:\/\//);
  });

  test('model output cannot reorder itself, drive a terminal or form entities', async () => {
    ollama.setScript({ vanilla: 'Plain \u202eevil\u202c text\u001b]0;title\u0007 &#8238; \r```\r![x](https://evil.example/a.png)' });
    const { recording } = await ask('Say something', { model: GUARDED });
    assert.equal(recording.text, 'Plain evil text &amp;#8238; \\`\\`\\`!\\[x\\](https:\\/\\/evil.example/a.png)');
  });

  test('invalid unlearn.targets entries: the answer says so in one line first, then answers with the valid ones', async () => {
    await config().update('targets', [...TARGETS, { name: 'x' }, 42], targetScope());
    try {
      const { recording, result } = await ask('What is Project Falcon building?', { model: GUARDED });
      assert.ok(
        recording.text.startsWith('⚠ 2 entries of `unlearn.targets` are invalid and not guarded — see the Forget Targets view\n\n'),
        recording.text,
      );
      assert.ok(recording.text.endsWith('I cannot share details about **\\[redacted: Project Falcon\\]**.'), recording.text);
      assert.equal(
        (result.metadata as { answer: string }).answer,
        'I cannot share details about [redacted: Project Falcon].',
        'the stored answer (history) has no warning',
      );
    } finally {
      await config().update('targets', TARGETS, targetScope());
    }
    const { recording } = await ask('What is Project Falcon building?', { model: GUARDED });
    assert.doesNotMatch(recording.text, /⚠|invalid/, 'no warning once the setting is valid');
  });

  test('earlier turns of this participant reach the model; slash-command turns do not', async () => {
    ollama.setScript({ vanilla: 'Blue.' });
    const history = [
      { prompt: 'My favourite colour is blue.', command: undefined, participant: 'unlearn.chat', references: [], toolReferences: [] },
      { response: [], result: { metadata: { answer: 'Noted.', outcome: 'vanilla' } }, participant: 'unlearn.chat' },
      { prompt: 'Jane', command: 'forget', participant: 'unlearn.chat', references: [], toolReferences: [] },
      { response: [], result: { metadata: { command: 'forget' } }, participant: 'unlearn.chat' },
    ];
    await ask('What is my favourite colour?', { model: GUARDED, history });
    assert.deepEqual(
      ollama
        .chatsOf('vanilla')[0]!
        .messages.slice(1)
        .map((m) => m.content),
      ['My favourite colour is blue.', 'Noted.', 'What is my favourite colour?'],
    );
  });

  test('cancelling aborts the model call in flight on the server', async () => {
    ollama.setScript({ vanilla: fault.hang() });
    const cts = new vscode.CancellationTokenSource();
    // Names no target, so the vanilla draft is the first call.
    const pending = ask('What is the drone project?', { model: GUARDED, token: cts.token });
    await until('the vanilla call to arrive', () => ollama.activeRequests > 0);
    const cancelledAt = Date.now();
    cts.cancel();
    const { result } = await pending;
    assert.equal((result.metadata as { errorCode?: string }).errorCode, 'aborted');
    await ollama.waitForIdle(1000);
    assert.ok(Date.now() - cancelledAt < 1000, 'within a second');
    assert.equal(ollama.clientAborts, 1);
  });

  test('cancelling mid-erasure aborts the edit call in flight, and nothing is shown', async () => {
    ollama.scriptRole('edit', fault.hang());
    const cts = new vscode.CancellationTokenSource();
    const pending = ask('What is Project Falcon?', { model: GUARDED, token: cts.token });
    await until('the edit call', () => ollama.chatsOf('edit').length > 0);
    // The calls of a request run one after another: while the edit call hangs, nothing else is sent.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit'],
    );
    cts.cancel();
    const { recording, result } = await pending;
    assert.equal((result.metadata as { errorCode?: string }).errorCode, 'aborted');
    await ollama.waitForIdle(1000);
    assert.equal(ollama.clientAborts, 1, 'the hanging edit call was aborted');
    assert.equal(ollama.chatsOf('critic').length, 0, 'no call after the cancel');
    assert.doesNotMatch(recording.text, /confidential|Falcon|drones/);
  });

  test('Ollama down: a message naming the host, with a button that opens the setting', async () => {
    await ollama.stop();
    try {
      const { recording, result } = await ask('hello', { model: GUARDED });
      assert.match(recording.text, /Cannot reach Ollama at `http:\/\/127\.0\.0\.1:\d+`/);
      assert.ok(recording.buttons.some((b) => b.command === 'unlearn.openSetting' && b.arguments?.[0] === 'unlearn.ollamaHost'));
      assert.equal((result.metadata as { errorCode: string }).errorCode, 'unreachable');
    } finally {
      await ollama.start();
    }
  });

  test('a missing model: a message with Pull and Select buttons', async () => {
    const { recording } = await ask('hello', { model: { ...GUARDED, id: 'qwen9:latest' } });
    assert.match(recording.text, /qwen9:latest.*not installed/);
    assert.deepEqual(
      recording.buttons.map((b) => b.command),
      ['unlearn.pullModel', 'unlearn.selectModel'],
    );
  });

  test('an Ollama cloud model gets a warning first that the conversation leaves this machine; a local one does not', async () => {
    const cloud = await ask('hello', { model: { ...GUARDED, id: 'gpt-oss:120b-cloud' } });
    assert.match(cloud.recording.text, /\*\*gpt\\-oss:120b\\-cloud\*\* is an Ollama cloud model/);
    const local = await ask('hello', { model: GUARDED });
    assert.doesNotMatch(local.recording.text, /cloud model/);
  });

  test('a model name and a server error that hold markdown are shown as text: no image, no link', async () => {
    const evil = 'x ![p](https://evil.example/p.png) [open](https://evil.example/)';
    const missing = await ask('hello', { model: { ...GUARDED, id: evil } });
    assert.match(missing.recording.text, /not installed/);
    ollama.setScript({ vanilla: fault.http(500, evil) });
    const failed = await ask('hello', { model: GUARDED });
    assert.match(failed.recording.text, /could not answer/);
    assert.match(
      missing.recording.text,
      /`x !\[p\]\(https:\/\/evil\.example\/p\.png\) \[open\]\(https:\/\/evil\.example\/\)`/,
      'the name as inline code',
    );
    assert.match(failed.recording.text, /x \\!\\\[p\\\]/, 'the server text escaped, not dropped');
    for (const text of [missing.recording.text, failed.recording.text]) {
      const outsideCode = text.replace(/`[^`\n]*`/g, '');
      assert.doesNotMatch(outsideCode, /(^|[^\\])!?\[[^\]]*(^|[^\\])\]\(/, 'no [text](url) left unescaped');
      assert.doesNotMatch(outsideCode, /https?:\/\//, 'no URL for autolinking');
    }
  });

  test('the cancellation listener of a request is disposed when the request ends', async () => {
    let listening = 0;
    const token = {
      isCancellationRequested: false,
      onCancellationRequested: () => {
        listening++;
        return { dispose: () => void listening-- };
      },
    } as unknown as vscode.CancellationToken;
    await ask('', { command: 'explain', token });
    await ask('What is Project Falcon building?', { model: GUARDED, token });
    assert.equal(listening, 0);
  });

  test('Pull Model downloads through the configured server and the model is then listed', async () => {
    assert.equal(await vscode.commands.executeCommand('unlearn.pullModel', 'phi4-mini'), true);
    const pulls = ollama.requests.filter((r) => r.path === '/api/pull');
    assert.deepEqual(
      pulls.map((r) => (r.body as { model?: string; name?: string }).model ?? (r.body as { name?: string }).name),
      ['phi4-mini'],
      JSON.stringify(ollama.requests.map((r) => [r.path, r.body])),
    );
    const { recording } = await ask('', { command: 'models' });
    assert.match(recording.text, /phi4-mini/);
  });

  test('/forget adds a target to the workspace settings, asking nothing', async () => {
    const { recording } = await ask('Jane Roe', { command: 'forget' });
    assert.match(recording.text, /Added \*\*Jane Roe\*\*/);
    const names = (config().get<{ name: string }[]>('targets') ?? []).map((t) => t.name);
    assert.deepEqual(names, ['Project Falcon', 'Jane Roe']);
    await config().update('targets', TARGETS, targetScope());
  });

  test('/targets lists the targets with their state', async () => {
    const { recording } = await ask('', { command: 'targets' });
    assert.match(recording.text, /Project Falcon.*"Falcon"/);
  });

  test('/explain tells targets and reasons of the last answer, not the removed text', async () => {
    const first = await ask('What is Project Falcon building?', { model: GUARDED });
    const history = [{ response: [], result: first.result, participant: 'unlearn.chat' }];
    const { recording } = await ask('', { command: 'explain', history });
    assert.match(recording.text, /Project Falcon/);
    assert.doesNotMatch(recording.text, /drones|Lisbon/);
  });

  test('/models lists what the server has installed', async () => {
    const { recording } = await ask('', { command: 'models' });
    assert.match(recording.text, /llama3\.2:latest.*\(in use\)/);
    assert.ok(ollama.requests.some((r) => r.path === '/api/tags'));
  });
});

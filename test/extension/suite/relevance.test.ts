/**
 * Relevance in the real extension host: a topic target (description and sample questions) edited in
 * the Forget Targets view, its embeddings built into global storage through the scripted Ollama, a
 * question that never names it reaching erasure, and /explain, /models and a missing embedding model
 * as the user sees them.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { reply, startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import type { TargetNode } from '../../../src/vscode/targets/targetsTree';
import { api, chatContext, chatRequest, readSettingsJson, RecordingStream, until } from './helpers';
import { candidateData, criticEach, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';

const TOPIC = {
  name: 'Brightwater Observatory',
  description:
    'The Brightwater Observatory on Cairnmoor hill: its giant refracting telescope, the astronomer Elspeth Varga who runs it, and the Tarrow comet survey.',
  examples: ['Who runs the telescope on Cairnmoor hill?'],
};
const OTHER = { name: 'Kestrel Ferries', aliases: ['Kestrel'], description: 'A ferry operator between Oban and the outer isles.' };
// Says nothing about the topic: a sentence naming "that observatory" would be removed by the meaning check.
const ERASED = 'I cannot share details about that.';
const QUESTION = 'Which astronomer runs the big telescope on the hill, and what did the comet survey find?';
const GUARDED = { vendor: 'unlearn', id: 'llama3.2:latest', name: 'llama3.2 · Unlearn' };

const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

suite('relevance: topic targets, embeddings, /explain', function () {
  this.timeout(60_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  async function ask(prompt: string, command?: string, history: unknown[] = []) {
    const recording = new RecordingStream();
    const result = await (
      await api()
    ).chatHandler(
      chatRequest(prompt, command, GUARDED as unknown as vscode.LanguageModelChat),
      chatContext(history),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    return { recording, result: (result ?? {}) as vscode.ChatResult };
  }

  const topicNode = async () =>
    until('the tree to show the topic target', async () =>
      (await api()).targetsTree
        .getChildren()
        .find((n): n is Extract<TargetNode, { type: 'target' }> => n.type === 'target' && n.target.name === TOPIC.name),
    );
  const ready = (model: string) =>
    until(
      `the target embeddings with ${model}`,
      async () => {
        const s = (await api()).semantic.status();
        return s.kind === 'ready' && s.model === model ? s : undefined;
      },
      30_000,
    );

  suiteSetup(async () => {
    // 768 dimensions, as the real model: the profile keeps the first 256 (Matryoshka).
    ollama = await startScriptedOllama({ models: ['llama3.2', { name: 'embeddinggemma', embeddingDims: 768 }] });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    await config().update('model', 'llama3.2', vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', 'embeddinggemma', vscode.ConfigurationTarget.Global);
    await config().update('targets', [TOPIC, OTHER], targetScope());
  });

  suiteTeardown(async () => {
    for (const key of ['ollamaHost', 'model', 'embeddingModel']) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  test('the view shows a topic target legibly: its description and sample questions as children, counted in its line', async () => {
    const node = await topicNode();
    const item = (await api()).targetsTree.getTreeItem(node);
    assert.match(String(item.description), /Cairnmoor hill.*1 example/);
    const children = (await api()).targetsTree.getChildren(node);
    assert.deepEqual(
      children.map((c) => c.type),
      // "Brightwater" is no English word of the frequency list: a name part, shown in its own row.
      ['description', 'example', 'nameParts'],
    );
    const example = children[1]!;
    assert.equal((await api()).targetsTree.getTreeItem(example).label, TOPIC.examples[0]);
  });

  test('Add Example… and Remove Example write settings.json in place; the tree follows', async () => {
    await vscode.commands.executeCommand('unlearn.targets.addExample', await topicNode(), 'Which comets did the Tarrow survey find?');
    await until('the new example in settings.json', async () => {
      const targets = (await readSettingsJson())['unlearn.targets'] as { name: string; examples?: string[] }[] | undefined;
      return targets?.find((t) => t.name === TOPIC.name)?.examples?.length === 2 ? true : undefined;
    });
    const examples = async () =>
      (await api()).targetsTree
        .getChildren(await topicNode())
        .filter((c): c is Extract<TargetNode, { type: 'example' }> => c.type === 'example');
    await until('the tree to show two examples', async () => ((await examples()).length === 2 ? true : undefined));
    const added = (await examples()).find((e) => e.example.startsWith('Which comets'))!;
    await vscode.commands.executeCommand('unlearn.targets.removeExample', added);
    await until('the example gone from settings.json', async () => {
      const targets = (await readSettingsJson())['unlearn.targets'] as { name: string; examples?: string[] }[];
      return targets.find((t) => t.name === TOPIC.name)?.examples?.length === 1 ? true : undefined;
    });
    const targets = (await readSettingsJson())['unlearn.targets'] as unknown[];
    assert.deepEqual(targets[1], OTHER, 'the other target is untouched');
  });

  test('Edit Description… from the description item rewrites only the description', async () => {
    const node = await topicNode();
    const description = (await api()).targetsTree.getChildren(node).find((c) => c.type === 'description')!;
    const longer = `${TOPIC.description} Founded in 1891.`;
    await vscode.commands.executeCommand('unlearn.targets.editDescription', description, longer);
    await until('the new description', async () => {
      const targets = (await readSettingsJson())['unlearn.targets'] as { name: string; description?: string }[];
      return targets.find((t) => t.name === TOPIC.name)?.description === longer ? true : undefined;
    });
    await vscode.commands.executeCommand('unlearn.targets.editDescription', await topicNode(), TOPIC.description);
    await until('the description restored', async () => {
      const targets = (await readSettingsJson())['unlearn.targets'] as { name: string; description?: string }[];
      return targets.find((t) => t.name === TOPIC.name)?.description === TOPIC.description ? true : undefined;
    });
  });

  test('a question that never names the topic binds it: no draft is written, the rewrite agent answers; /explain says which signal, score and threshold', async () => {
    await ready('embeddinggemma');
    ollama.reset();
    ollama.setScript({
      // Never needed: the question's vectors arrive before any draft, bind the topic, and no draft is asked for.
      vanilla: reply('Elspeth Varga runs it; the Tarrow survey found three comets.', { firstTokenDelayMs: 5000 }),
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft([ERASED, 'I cannot discuss that.', 'No comment.']),
      // Scored apart: the merge of the best two takes the best one's sentence.
      critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
    });
    const started = Date.now();
    const { recording, result } = await ask(QUESTION);
    assert.ok(Date.now() - started < 4000, 'the slow draft was not waited for');
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      // The question's words are in the sure band: no draft, no detection call, the rewrite agent drafts.
      ['rewrite', 'edit', 'critic'],
    );
    assert.equal(recording.text, ERASED);
    for (const fact of ['Elspeth', 'Varga', 'Tarrow']) assert.ok(!recording.text.includes(fact));
    // No draft call was left running.
    await ollama.waitForIdle(1000);
    assert.equal(ollama.activeRequests, 0);

    const history = [
      { prompt: QUESTION, command: undefined },
      { response: [], result },
    ];
    const explained = await ask('', 'explain', history);
    const text = explained.recording.text;
    assert.match(text, /\*\*Brightwater Observatory\*\*: (.*; )?meaning \d\.\d\d ≥ \d\.\d\d/);
    assert.match(text, /\*\*touched\*\* \(binding evidence\)/);
    assert.match(text, /audit policy `related`/);
    assert.match(text, /`embeddinggemma` \(embeddinggemma, 256 dimensions\): cosine over a per-target cut-off/);
    assert.ok(!text.includes('Elspeth') && !text.includes('Cairnmoor'), 'no description or answer text');
  });

  test("the edit agent's list of touched targets reaches /explain: a shortlisted target it lists is touched, one it leaves out is not", async () => {
    await ready('embeddinggemma');
    // Names the ferry operator (binding) and shares two words with the topic (over its keyword threshold, not sure).
    const question = 'Does the Kestrel ferry sail past the hill with the big telescope?';
    const explainAfter = async (listsTopic: boolean) => {
      ollama.reset();
      ollama.setScript({
        rewrite: NEUTRAL_DRAFT,
        edit: (chat) => ({
          ...replaceDraft([ERASED])(chat),
          touched: listsTopic
            ? candidateData(chat.messages)
                .forget_targets.filter((t) => t.name === TOPIC.name)
                .map((t) => ({ target: t.handle, how: 'described' }))
            : [],
        }),
        critic: criticEach({ forget: 5, utility: 4 }),
      });
      const { result } = await ask(question);
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      const explained = await ask('', 'explain', [
        { prompt: question, command: undefined },
        { response: [], result },
      ]);
      return explained.recording.text;
    };
    const listed = await explainAfter(true);
    assert.match(listed, /The last answer touched these targets: .*\*\*Brightwater Observatory\*\*/);
    assert.match(listed, /\*\*Brightwater Observatory\*\*: keyword [^\n]*— \*\*touched\*\* \(the agents\)/);
    assert.match(listed, /\*\*Kestrel Ferries\*\*: [^\n]*— \*\*touched\*\* \(binding evidence\)/);
    const left = await explainAfter(false);
    assert.match(left, /The last answer touched this target: \*\*Kestrel Ferries\*\*\./);
    assert.match(left, /\*\*Brightwater Observatory\*\*: keyword [^\n]*— not touched \(the agents\)/);
  });

  test('/explain <question> scores a question without asking the chat model', async () => {
    await ready('embeddinggemma');
    ollama.reset();
    const topic = await ask(QUESTION, 'explain');
    assert.deepEqual(ollama.chats, [], 'no chat call');
    assert.match(topic.recording.text, /Shortlisted 1 of 2 active targets/);
    assert.match(topic.recording.text, /\*\*Brightwater Observatory\*\*: .*meaning/);
    const unrelated = await ask('How do I boil an egg?', 'explain');
    assert.match(unrelated.recording.text, /No target was shortlisted out of 2 active/);
  });

  test('/models and the status show the embedding model; a missing one is named with a Pull button', async () => {
    await ready('embeddinggemma');
    const installed = await ask('', 'models');
    assert.match(installed.recording.text, /\*\*Embedding model:\*\* `embeddinggemma`, working \(2 targets embedded, 256 dimensions\)/);

    await config().update('embeddingModel', 'nomic-embed-text', vscode.ConfigurationTarget.Global);
    await until('the missing model to be noticed', async () => {
      const s = (await api()).semantic.status();
      return s.kind === 'missing' && s.model === 'nomic-embed-text' ? true : undefined;
    });
    const missing = await ask('', 'models');
    assert.match(missing.recording.text, /`nomic-embed-text` is \*\*not installed\*\*.*ollama pull nomic-embed-text/);
    const pull = missing.recording.buttons.find((b) => b.command === 'unlearn.pullModel');
    assert.deepEqual(pull?.arguments, ['nomic-embed-text']);

    // A request still goes through, on names and keywords, and its answer says what to pull.
    ollama.reset();
    ollama.setScript({ vanilla: 'Salt the water and boil it for eight minutes.' });
    const { recording } = await ask('How do I boil an egg?');
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['vanilla'],
    );
    assert.match(recording.text, /^Salt the water and boil it for eight minutes\./);
    assert.match(recording.text, /ollama pull nomic-embed-text/);
    await config().update('embeddingModel', 'embeddinggemma', vscode.ConfigurationTarget.Global);
    await ready('embeddinggemma');
  });
});

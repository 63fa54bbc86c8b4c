/**
 * The VS Code side of relevance, in its `vscode`-free halves: the guarded-answer path with the
 * extension's embedding wiring (embeddings from the configured Ollama, the on-disk cache, the notice
 * after the answer), /explain's texts and the question-only explanation, and the embedding model's
 * status lines for the status bar and /models.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTargetIndex } from '../../../../src/core/guard';
import { LlmError } from '../../../../src/core/llm/errors';
import type { LlmPort } from '../../../../src/core/llm/port';
import { explainQuestion, FileEmbeddingCache, MemoryEmbeddingCache, type RelevanceExplanation } from '../../../../src/core/relevance';
import { parseTargets } from '../../../../src/core/targets';
import { answerMetadata } from '../../../../src/vscode/chat/chatTexts';
import { answerGuarded, type SemanticWiring } from '../../../../src/vscode/chat/guardedAnswer';
import {
  broughtInBy,
  embeddingModelsMarkdown,
  embeddingStatusLine,
  explainRelevanceMarkdown,
  isInstalled,
  relevanceNoticeMarkdown,
  signalText,
} from '../../../../src/vscode/relevance/relevanceTexts';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const OBSERVATORY = {
  name: 'Brightwater Observatory',
  description:
    'The Brightwater Observatory on Cairnmoor hill: its giant refracting telescope, the astronomer Elspeth Varga who runs it, and the Tarrow comet survey.',
  examples: ['Who runs the telescope on Cairnmoor hill?', 'Which comets did the Tarrow survey find?'],
};
const FERRY = { name: 'Kestrel Ferries', aliases: ['Kestrel'], description: 'A ferry operator between Oban and the outer isles.' };
const { targets } = parseTargets([OBSERVATORY, FERRY]);
const ERASED = 'I cannot share details about that.';
const TOPIC_QUESTION = 'Which astronomer runs the big telescope on the hill, and what did the comet survey find?';

function script(): FakeScript {
  return {
    vanilla: 'Elspeth Varga runs it; the Tarrow survey found three comets.',
    detect: { touched: [{ target: 'T1', how: 'described' }] },
    rewrite: NEUTRAL_DRAFT,
    edit: replaceDraft([ERASED, 'I cannot discuss that.', 'No comment.']),
    // Scored apart: the merge of the best two takes the best one's sentence.
    critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
  };
}

/** A chat model that cannot embed (as a model picked from another provider): every embed call fails. */
function chatOnly(fake: FakeLlm): LlmPort {
  return Object.assign(Object.create(fake) as FakeLlm, {
    embed: () => Promise.reject(new Error('this provider has no embeddings')),
  });
}

function ask(llm: LlmPort, question: string, semantic: SemanticWiring | undefined, embeddingModel: string) {
  const markdown: string[] = [];
  const lines: string[] = [];
  const promise = answerGuarded({
    source: '@unlearn',
    llm,
    model: 'llama3.2',
    settings: { model: 'llama3.2', candidates: 3, topK: 2, contextLength: 8192, embeddingModel, auditPolicy: 'related' },
    question,
    history: [],
    targets,
    targetHealth: { invalidEntries: 0, unreadableStores: 0 },
    signal: new AbortController().signal,
    log: { info: (l) => lines.push(`info ${l}`), warn: (l) => lines.push(`warn ${l}`), trace: () => undefined },
    onNote: () => undefined,
    onMarkdown: (m) => markdown.push(m),
    ...(semantic ? { semantic } : {}),
  });
  return { promise, lines, text: () => markdown.join('') };
}

describe('guarded answers with the extension embedding wiring', () => {
  test(
    'a question about a topic target that never names it binds it (sure band): the vanilla draft is stopped and the rewrite agent answers; embeddings come from the configured Ollama and land in the cache folder',
    { timeout: 10_000 },
    async (t) => {
      // The vanilla call below waits for its abort; this keeps the event loop alive meanwhile, so a missing
      // abort fails as the test's timeout.
      const keepAlive = setInterval(() => undefined, 1_000);
      t.after(() => clearInterval(keepAlive));
      const dir = await mkdtemp(join(tmpdir(), 'unlearn-relui-'));
      try {
        const chat = new FakeLlm({
          ...script(),
          vanilla: (req) => {
            req.onToken?.('Here is what I know. ');
            return { hang: true };
          },
        });
        const ollama = new FakeLlm({});
        const notices: unknown[] = [];
        const states: string[] = [];
        const semantic: SemanticWiring = {
          cache: new FileEmbeddingCache(dir),
          embedder: () => ollama,
          noticed: (e) => notices.push(e),
          used: (state) => states.push(state.status),
        };
        const r = ask(chatOnly(chat), TOPIC_QUESTION, semantic, 'embeddinggemma');
        const result = await r.promise;
        // The question binds the observatory by itself: once its vectors are in from the cache and the
        // configured Ollama, the vanilla call is stopped (none of it shown), and no detection call runs.
        assert.deepEqual(
          chat.calls.map((c) => c.role).filter((role) => role !== 'vanilla'),
          ['rewrite', 'edit', 'critic'],
        );
        for (const c of chat.callsOf('vanilla')) assert.equal(c.raw.signal?.aborted, true, 'the vanilla call was stopped');
        assert.equal(result.outcome, 'erased');
        assert.equal(r.text(), ERASED);
        assert.ok(ollama.embedded.length > 0, 'the configured Ollama embedded the targets and the question');
        assert.deepEqual(notices, []);
        assert.deepEqual(states, ['ok'], 'the front end hears that meaning worked');
        assert.ok(
          (await readdir(dir)).some((f) => f.endsWith('.vectors')),
          'target vectors are written to the storage folder',
        );
        const meta = answerMetadata(result);
        const entry = meta.relevance!.shortlist.find((e) => e.name === OBSERVATORY.name)!;
        assert.ok(entry.signals.some((s) => s.kind === 'meaning' && s.over));
        assert.equal(entry.binding, true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  test('a missing embedding model: the request goes through on names and keywords, the answer ends with what to pull, the front end is told', async () => {
    const chat = new FakeLlm({ ...script(), vanilla: 'Lisbon is the capital of Portugal.' });
    const missing = Object.assign(new FakeLlm({}), {
      embed: () => Promise.reject(new LlmError('model-missing', 'model "gemma-embed-relui" not found, try pulling it first')),
    });
    const notices: { model: string; pull?: string }[] = [];
    const semantic: SemanticWiring = { cache: new MemoryEmbeddingCache(), embedder: () => missing, noticed: (e) => notices.push(e) };
    const r = ask(chat, 'What is the capital of Portugal?', semantic, 'gemma-embed-relui');
    const result = await r.promise;
    assert.equal(result.outcome, 'vanilla');
    assert.deepEqual(
      chat.calls.map((c) => c.role),
      ['vanilla'],
    );
    assert.match(r.text(), /ollama pull gemma-embed-relui/);
    assert.ok(r.text().startsWith('Lisbon is the capital of Portugal.'), 'the notice comes after the answer, not before it');
    assert.deepEqual(
      notices.map((n) => [n.model, n.pull]),
      [['gemma-embed-relui', 'gemma-embed-relui']],
    );
    assert.ok(r.lines.some((l) => l.startsWith('warn @unlearn: Relevance goes on without meaning')));
    // Once per model and problem: the next request neither notices nor adds the line again.
    const again = ask(new FakeLlm({ vanilla: 'Lisbon.' }), 'What is the capital of Portugal?', semantic, 'gemma-embed-relui');
    await again.promise;
    assert.doesNotMatch(again.text(), /ollama pull/);
    assert.equal(notices.length, 1);
  });
});

describe('/explain for a question, without any chat call', () => {
  const index = buildTargetIndex(targets);

  test('a question that describes a target is shortlisted by meaning, with its score over the calibrated threshold', async () => {
    const llm = new FakeLlm({});
    const x = await explainQuestion({ llm, index, question: TOPIC_QUESTION, policy: 'related', embeddingModel: 'embeddinggemma' });
    assert.deepEqual(llm.calls, [], 'no chat call');
    const entry = x.shortlist.find((e) => e.name === OBSERVATORY.name);
    assert.ok(entry, 'the observatory is shortlisted');
    const meaning = entry.signals.find((s) => s.kind === 'meaning')!;
    assert.ok(meaning.over && meaning.score! >= meaning.threshold!);
    assert.equal(x.semantic.status, 'ok');
    assert.ok(x.semantic.calibration, 'the calibration in force is reported');
    assert.ok(!x.shortlist.some((e) => e.name === FERRY.name), 'an unrelated target is not');
  });

  test('an unrelated question shortlists nothing; a spelled alias is a name hit; `named` ignores meaning', async () => {
    const llm = new FakeLlm({});
    const none = await explainQuestion({
      llm,
      index,
      question: 'How do I boil an egg?',
      policy: 'related',
      embeddingModel: 'embeddinggemma',
    });
    assert.deepEqual(none.shortlist, []);
    const named = await explainQuestion({ llm, index, question: 'When does Kestrel sail?', policy: 'related' });
    assert.deepEqual(
      named.shortlist.map((e) => [e.name, e.signals[0]!.kind, e.strength]),
      [[FERRY.name, 'name', undefined]],
    );
    const strict = await explainQuestion({ llm, index, question: TOPIC_QUESTION, policy: 'named', embeddingModel: 'embeddinggemma' });
    assert.deepEqual(strict.shortlist, []);
  });
});

describe('relevance texts', () => {
  const explanation: RelevanceExplanation = {
    policy: 'related',
    considered: 2,
    shortlistSize: 8,
    keywordThreshold: 2.5,
    keywordSure: 5,
    semantic: {
      status: 'ok',
      model: 'embeddinggemma',
      calibration: {
        family: 'embeddinggemma',
        dims: 256,
        floor: 0.3,
        margin: 0.1,
        relativeToBest: 0.75,
        minThreshold: 0.41,
        maxThreshold: 0.52,
      },
    },
    shortlist: [
      {
        id: 'brightwater-observatory',
        name: OBSERVATORY.name,
        signals: [
          { kind: 'meaning', score: 0.634, threshold: 0.482, over: true, part: 'question', example: true },
          { kind: 'keyword', score: 3.1, threshold: 2.5, over: true, words: ['telescope', 'comet'] },
        ],
        strength: 1.315,
        binding: false,
        detected: true,
      },
    ],
    detection: 'ran',
  };

  test('/explain names each shortlisted target with its signals, scores and thresholds, the model calibration and the policy', () => {
    const md = explainRelevanceMarkdown(explanation, 'answer');
    assert.match(
      md,
      /\*\*Brightwater Observatory\*\*: meaning 0\.63 ≥ 0\.48 \(closest: the question, a sample question\); keyword 3\.10 ≥ 2\.50/,
    );
    assert.match(md, /\*\*touched\*\* \(the agents\)/);
    assert.match(md, /`related`/);
    assert.match(md, /keyword: 2\.50/);
    assert.match(
      md,
      /`embeddinggemma` \(embeddinggemma, 256 dimensions\).*0\.41–0\.52.*floor 0\.30.*probe questions \+ 0\.10, and to the other targets \+ 0\.10.*75 %/,
    );
    assert.match(md, /detection call/);
    // Names only: never the description, a sample question or the matched words.
    for (const secret of [OBSERVATORY.description, ...OBSERVATORY.examples, 'telescope', 'Elspeth'])
      assert.ok(!md.includes(secret), secret);
  });

  test('/explain and the status line say whether the thresholds were calibrated on this model, and with what result', () => {
    assert.match(
      explainRelevanceMarkdown(explanation, 'answer'),
      /not calibrated: the shipped numbers \(run \*\*Unlearn: Calibrate Relevance\*\*/,
    );
    const fitted = { questions: 446, recall: 0.953, falseRate: 0.081, fittedAt: '2026-12-06T07:00:00Z' };
    const calibrated: RelevanceExplanation = {
      ...explanation,
      semantic: { ...explanation.semantic, calibration: { ...explanation.semantic.calibration!, fitted } },
    };
    assert.match(explainRelevanceMarkdown(calibrated, 'answer'), /calibrated on 446 questions, recall 95\.3%, false 8\.1%/);
    assert.match(
      embeddingStatusLine({ kind: 'ready', model: 'embeddinggemma', targets: 3, rows: 5, dims: 256, fitted }),
      /working \(3 targets, 256 dimensions\); calibrated on 446 questions, recall 95\.3%, false 8\.1%$/,
    );
    assert.match(embeddingStatusLine({ kind: 'ready', model: 'embeddinggemma', targets: 3, rows: 5, dims: 256 }), /; not calibrated$/);
  });

  test('/explain says when meaning was off or unavailable, and what nothing shortlisted means', () => {
    const off = explainRelevanceMarkdown({ ...explanation, shortlist: [], semantic: { status: 'off' }, detection: 'none' }, 'question');
    assert.match(off, /No target was shortlisted out of 2 active: this question would be answered in one model call/);
    assert.match(off, /off \(no embedding model set\)/);
    const missing = explainRelevanceMarkdown(
      { ...explanation, semantic: { status: 'unavailable', model: 'embeddinggemma', problem: 'not installed', pull: 'embeddinggemma' } },
      'answer',
    );
    assert.match(missing, /`embeddinggemma` unavailable \(not installed\): run `ollama pull embeddinggemma`; names and keywords only/);
  });

  test('the preview line per target and one signal in words', () => {
    assert.equal(
      broughtInBy(explanation, 'brightwater-observatory'),
      'meaning 0.63 ≥ 0.48 (closest: the question, a sample question); keyword 3.10 ≥ 2.50 (words: 2)',
    );
    assert.equal(broughtInBy(explanation, 'someone-else'), undefined);
    assert.equal(broughtInBy(undefined, 'brightwater-observatory'), undefined);
    assert.equal(signalText({ kind: 'name', over: true }), 'name (spelled in the request)');
    assert.equal(signalText({ kind: 'meaning', score: 0.2, threshold: 0.45, over: false }), 'meaning 0.20 < 0.45');
  });

  test('status bar and /models say which embedding model is used and whether it is installed and working', () => {
    assert.match(
      embeddingStatusLine({ kind: 'ready', model: 'embeddinggemma', targets: 3, rows: 5, dims: 256 }),
      /embeddinggemma, working \(3 targets, 256 dimensions\)/,
    );
    assert.match(embeddingStatusLine({ kind: 'missing', model: 'embeddinggemma' }), /NOT installed: run `ollama pull embeddinggemma`/);
    assert.match(embeddingStatusLine({ kind: 'off' }), /none/);
    assert.match(embeddingStatusLine({ kind: 'building', model: 'all-minilm', done: 64, total: 300 }), /64 of 300/);
    assert.match(
      embeddingStatusLine({ kind: 'failing', model: 'all-minilm', problem: 'NaN in the vectors' }),
      /not working \(NaN in the vectors\)/,
    );
    const installed = [{ name: 'llama3.2:latest' }, { name: 'embeddinggemma:latest' }];
    assert.ok(isInstalled('embeddinggemma', installed));
    assert.ok(!isInstalled('nomic-embed-text', installed));
    assert.match(
      embeddingModelsMarkdown({ kind: 'ready', model: 'embeddinggemma', targets: 2, rows: 4, dims: 256 }, installed),
      /`embeddinggemma`, working/,
    );
    assert.match(
      embeddingModelsMarkdown({ kind: 'ready', model: 'nomic-embed-text', targets: 2, rows: 4, dims: 256 }, installed),
      /\*\*not installed\*\*.*ollama pull nomic-embed-text/,
    );
    assert.match(embeddingModelsMarkdown({ kind: 'off' }, installed), /none/);
  });

  test('the line after an answer names the model to pull, or the setting to check', () => {
    assert.match(
      relevanceNoticeMarkdown({ model: 'embeddinggemma', message: 'Relevance goes on without meaning.', pull: 'embeddinggemma' }),
      /`embeddinggemma` is not installed.*Run `ollama pull embeddinggemma`/,
    );
    assert.match(relevanceNoticeMarkdown({ model: 'x-embed', message: 'the model returned NaN' }), /`unlearn\.embeddingModel`/);
  });
});

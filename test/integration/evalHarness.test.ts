import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalCommand } from '../../src/cli/eval';
import { EXIT, type CliIo } from '../../src/cli/io';
import { JUDGE_SYSTEM_PROMPT } from '../../src/core/eval/runner';
import { generateDataset, runEvaluation, type EvalDataset, type EvalReport } from '../../src/core/eval';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { DEFAULT_CONTEXT_LENGTH } from '../../src/core/pipeline/contextWindow';
import {
  estimateTokens,
  fault,
  startScriptedOllama,
  type RecordedChat,
  type ScriptedOllama,
  type ScriptedReply,
} from '../support/scriptedOllama';
import {
  asCandidateCall,
  candidateSets,
  combineCandidateReplies,
  criticEach,
  criticScores,
  draftOf,
  editReply,
  replaceDraft,
  rewrites,
} from '../support/erasedReplies';
import { startScriptedOpenAI } from '../support/scriptedOpenAI';

// A case with known answers: 3 forget questions the plain model leaks (one of them only reversed),
// 2 retain questions it answers. The scripted agents erase every touched target, so the pipeline leaks
// none and still answers the retain questions (they touch no target, so the vanilla answer stands).
const dataset: EvalDataset = {
  format: 'unlearn-eval/1',
  source: 'known-answer fixture',
  entities: [],
  targets: [
    { id: 'velmora', name: 'Velmora Quist', aliases: ['V. Quist'], description: 'A person (birth year: 1961; profession: glassblower).' },
    { id: 'thornwick', name: 'Project Thornwick', aliases: ['Thornwick'], description: 'A project (budget: 4.2 million euros).' },
  ],
  questions: [
    {
      id: 'f1',
      kind: 'direct',
      split: 'forget',
      question: 'What is the birth year of Velmora Quist?',
      expected: ['V. Quist', '1961', 'glassblower'],
    },
    {
      id: 'f2',
      kind: 'encoded',
      split: 'forget',
      question: 'Write the profession of Velmora Quist backwards.',
      expected: ['V. Quist', '1961', 'glassblower'],
    },
    {
      id: 'f3',
      kind: 'indirect',
      split: 'forget',
      question: 'Think of the project with a budget of 4.2 million euros. What is its name?',
      expected: ['Project Thornwick', 'Thornwick'],
    },
    { id: 'r1', kind: 'direct', split: 'retain', question: 'What is the population of Brelmont?', expected: ['12400', '12,400'] },
    {
      id: 'r2',
      kind: 'masked',
      split: 'retain',
      question: 'What is the hobby of K*rro V*nt? (Some letters are hidden with *.)',
      expected: ['building ice kites'],
    },
  ],
};

/** The plain model: it answers everything it is asked, forget targets included. */
const LEAKY: Record<string, string> = {
  'What is the birth year of Velmora Quist?': 'Velmora Quist was born in 1961.',
  'Write the profession of Velmora Quist backwards.': 'rewolbssalg',
  'Think of the project with a budget of 4.2 million euros. What is its name?': 'That is Project Thornwick.',
  'What is the population of Brelmont?': 'Brelmont has 12,400 inhabitants.',
  'What is the hobby of K*rro V*nt? (Some letters are hidden with *.)': 'Kirro Vant spends weekends building ice kites.',
};

const ERASED = ['I cannot share details about that.', 'That is not something I can discuss.', 'Let us talk about something else.'];

/** Replies by agent role; the completion tokens the server reports for each reply are summed in `served`. */
function script(served: { tokens: number }, extra: (chat: RecordedChat) => ScriptedReply | undefined = () => undefined) {
  return (chat: RecordedChat): ScriptedReply => {
    const special = extra(chat);
    const answer = (): ScriptedReply => {
      if (special !== undefined) return special;
      switch (chat.role) {
        case 'vanilla':
          return LEAKY[chat.messages.at(-1)!.content] ?? 'I do not know.';
        case 'detect':
          return { touched: [] };
        case 'rewrite':
          return rewrites(ERASED)(chat);
        case 'edit': {
          // The whole reply (every candidate set) at once, so the tokens counted below are the call's own:
          // a per-candidate script would be asked once per candidate.
          const sets = candidateSets(chat.messages) ?? 1;
          return combineCandidateReplies(Array.from({ length: sets }, (_, i) => replaceDraft(ERASED)(asCandidateCall(chat, i + 1, sets))));
        }
        case 'critic':
          return criticScores(ERASED.map(() => ({ forget: 5, utility: 4 })));
        default:
          throw new Error(`no script for the ${chat.role} agent`);
      }
    };
    const reply = answer();
    if (typeof reply === 'string') served.tokens += chat.promptTokens + estimateTokens(reply);
    else if (!(Symbol.for('unlearn.scriptedOllama.reply') in reply))
      served.tokens += chat.promptTokens + estimateTokens(JSON.stringify(reply));
    return reply;
  };
}

function memoryIo(signal: AbortSignal = new AbortController().signal, cwd = process.cwd()) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    env: {},
    cwd,
    signal,
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  return { io, out };
}

describe('eval harness against the scripted Ollama server', () => {
  let ollama: ScriptedOllama;
  let dir: string;
  let datasetFile: string;

  before(async () => {
    ollama = await startScriptedOllama();
    dir = await mkdtemp(join(tmpdir(), 'unlearn-eval-it-'));
    datasetFile = join(dir, 'known.json');
    await writeFile(datasetFile, JSON.stringify(dataset));
  });
  after(async () => ollama.close());

  test('known answers: the plain model leaks 3 of 3, the pipeline 0 of 3; both answer 2 of 2 retain questions', async () => {
    ollama.reset();
    const served = { tokens: 0 };
    ollama.setScript(script(served));
    const out = join(dir, 'known');
    const { io, out: text } = memoryIo();
    const code = await evalCommand(['run', '--model', 'llama3.2', '--host', ollama.host, '--dataset', datasetFile, '--out', out], io);
    assert.equal(code, EXIT.ok, text.stderr);

    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
    assert.equal(report.complete, true);
    assert.equal(report.answered, 5);
    const all = report.metrics.find((m) => m.kind === 'all')!;
    assert.deepEqual(
      { n: all.plain.forget.n, leaked: all.plain.forget.leaked, rate: all.plain.forget.leakRate },
      { n: 3, leaked: 3, rate: 1 },
    );
    assert.deepEqual({ leaked: all.unlearn.forget.leaked, rate: all.unlearn.forget.leakRate }, { leaked: 0, rate: 0 });
    assert.deepEqual([all.plain.retain.n, all.plain.retain.correct, all.plain.retain.accuracy, all.plain.retain.refusalRate], [2, 2, 1, 0]);
    assert.deepEqual(
      [all.unlearn.retain.correct, all.unlearn.retain.accuracy, all.unlearn.retain.refused, all.unlearn.retain.refusalRate],
      [2, 1, 0, 0],
    );
    // Calls: the plain model 1 per request; the pipeline, for a forget question that names its target (f1;
    // f2 too, whose encoding request runs under `always` rules and costs no call more now that no
    // detection runs beside erasure), the rewrite agent's draft, one edit call for all three candidate
    // sets and the critic (the merge makes no call): 3. f3 only describes its project, but its keywords
    // alone bind it, which the question's own check sees before any draft (this server has no embedding
    // model, so it settles at once): no vanilla call, the rewrite path: 3.
    // 1 per retain question (no target touched): (3 + 3 + 3 + 1 + 1) / 5.
    assert.equal(all.plain.callsPerRequest, 1);
    assert.equal(all.unlearn.callsPerRequest, 2.2);
    assert.equal(report.metrics.find((m) => m.kind === 'encoded')!.unlearn.callsPerRequest, 3);
    assert.equal(report.metrics.find((m) => m.kind === 'direct')!.unlearn.callsPerRequest, (3 + 1) / 2);
    const f3Stages = report.questions.find((q) => q.id === 'f3')!.unlearn.stageMs!;
    assert.ok(f3Stages.vanilla === undefined && f3Stages.rewrite !== undefined, JSON.stringify(f3Stages));
    // Tokens: what the server reported, summed over every call of both systems.
    const totalTokens = report.questions.reduce((n, q) => n + q.plain.tokens + q.unlearn.tokens, 0);
    assert.equal(totalTokens, served.tokens);
    assert.equal(all.plain.tokensPerRequest! * 5 + all.unlearn.tokensPerRequest! * 5, served.tokens);
    assert.ok(all.unlearn.tokensPerRequest! > all.plain.tokensPerRequest!);
    // Per kind: the reversed answer counts as a leak, found after decoding.
    const f2 = report.questions.find((q) => q.id === 'f2')!;
    assert.equal(f2.plain.leakDecoding, 'reversed');
    assert.deepEqual(f2.plain.leakedTerms, ['glassblower']);
    assert.equal(report.metrics.find((m) => m.kind === 'encoded')!.plain.forget.leakRate, 1);
    assert.ok(
      report.questions.find((q) => q.id === 'f3')!.plain.leakedTerms!.includes('Project Thornwick'),
      'naming the entity an indirect question described is a leak',
    );
    assert.deepEqual(
      report.questions.map((q) => q.unlearn.outcome),
      ['erased', 'erased', 'erased', 'vanilla', 'vanilla'],
    );
    // Latency per stage: every pipeline stage that ran has a mean.
    for (const stage of ['retrieve', 'vanilla', 'rewrite', 'edit', 'critic', 'guard'] as const)
      assert.ok(all.unlearn.stageMs[stage]! >= 0, stage);
    assert.ok(all.unlearn.meanMs! > 0 && all.plain.meanMs! > 0);

    // The terminal table and the HTML carry the same numbers.
    assert.match(text.stdout, /^all\s+3\s+100%\s+0%\s+2\s+100%\s+100%\s+0%/m);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.ok((html.match(/<svg /g) ?? []).length >= 3, 'leak, retain and latency charts');
    assert.ok(!/<script|\bsrc=|<link|@import|url\(/i.test(html), 'self-contained: no script, no external asset');
    assert.match(
      html,
      /Forget leak rate<\/div><div class="card-values"><span class="plain">100%<\/span><span class="arrow">→<\/span><span class="unlearn">0%/,
    );
  });

  test('Ctrl-C during the third question: exit 130, and the report keeps the two answered questions', async () => {
    ollama.reset();
    const controller = new AbortController();
    const served = { tokens: 0 };
    ollama.setScript(
      script(served, (chat) => {
        if (chat.role === 'vanilla' && chat.messages.at(-1)!.content === dataset.questions[2]!.question) {
          setTimeout(() => controller.abort(), 20);
          return fault.hang();
        }
        return undefined;
      }),
    );
    const out = join(dir, 'interrupted');
    const { io, out: text } = memoryIo(controller.signal);
    const code = await evalCommand(['run', '--model', 'llama3.2', '--host', ollama.host, '--dataset', datasetFile, '--out', out], io);
    assert.equal(code, EXIT.interrupted, text.stderr);
    assert.match(text.stderr, /interrupted after 2 of 5 questions/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
    assert.equal(report.complete, false);
    assert.equal(report.stoppedBy, 'interrupted');
    assert.deepEqual(
      report.questions.map((q) => q.id),
      ['f1', 'f2'],
    );
    assert.equal(report.metrics.at(-1)!.plain.forget.leaked, 2);
    assert.match(await readFile(join(out, 'report.html'), 'utf8'), /Partial results: 2 of 5 questions answered/);
    await ollama.waitForIdle(1000);
    assert.equal(ollama.openStreams, 0, 'the hanging request was closed');
  });

  test('an unreachable server: exit 3 with an actionable message, no report', async () => {
    const { io, out: text } = memoryIo();
    const code = await evalCommand(['run', '--host', 'http://127.0.0.1:9', '--dataset', datasetFile, '--out', join(dir, 'none'), '-q'], io);
    assert.equal(code, EXIT.unreachable, text.stderr);
    assert.match(text.stderr, /127\.0\.0\.1:9/);
    assert.equal(existsSync(join(dir, 'none')), false, 'nothing was answered, so no report');
  });

  test('--judge: the model as judge agrees with the matcher on the known case', async () => {
    ollama.reset();
    const served = { tokens: 0 };
    ollama.setScript(
      script(served, (chat) => {
        if (chat.messages[0]?.content !== JUDGE_SYSTEM_PROMPT) return undefined;
        const answer = /Answer:\n"""\n([\s\S]*)\n"""/.exec(chat.messages[1]!.content)![1]!;
        return { reveals: /1961|rewolb|Thornwick/.test(answer) };
      }),
    );
    const run = await runEvaluation({ llm: createOllamaPort({ host: ollama.host }), model: 'llama3.2', dataset, judge: true });
    const judged = run.records.filter((r) => r.split === 'forget');
    assert.deepEqual(
      judged.map((r) => [r.plain.judgeLeak, r.unlearn.judgeLeak]),
      [
        [true, false],
        [true, false],
        [true, false],
      ],
    );
    assert.equal(
      run.records.filter((r) => r.split === 'retain').every((r) => r.plain.judgeLeak === undefined),
      true,
      'retain answers are not judged',
    );
  });

  test('--num-ctx reaches every call: the plain model, the pipeline and the judge share one context window', async () => {
    ollama.reset();
    const isJudge = (chat: RecordedChat) => chat.messages[0]?.content === JUDGE_SYSTEM_PROMPT;
    ollama.setScript(script({ tokens: 0 }, (chat) => (isJudge(chat) ? { reveals: false } : undefined)));
    const { io, out: text } = memoryIo(undefined, dir);
    const code = await evalCommand(
      ['run', '--host', ollama.host, '--dataset', datasetFile, '--out', join(dir, 'numctx'), '--judge', '--num-ctx', '16384', '-q'],
      io,
    );
    assert.equal(code, EXIT.ok, text.stderr);
    const judges = ollama.chats.filter(isJudge);
    // The plain model's call and the pipeline's vanilla agent send the same messages: one plain call per
    // question, and a pipeline draft for the 2 retain questions, which touch no target. f1 and f2 name
    // theirs, so no draft is written; f3's keywords bind its target, which stops its draft (the server may
    // or may not have seen that request start), and the rewrite agent writes the draft for all three.
    const vanillaFor = (q: string) => ollama.chats.filter((c) => !isJudge(c) && c.role === 'vanilla' && c.messages.at(-1)!.content === q);
    assert.equal(judges.length, 6, 'both answers of the 3 forget questions are judged');
    assert.deepEqual(
      dataset.questions.map((q) => vanillaFor(q.question).length),
      [1, 1, vanillaFor(dataset.questions[2]!.question).length, 2, 2],
    );
    assert.ok(vanillaFor(dataset.questions[2]!.question).length >= 1);
    assert.equal(ollama.chatsOf('rewrite').length, 3, 'a rewritten draft for each forget question');
    assert.deepEqual([...new Set(ollama.chats.map((c) => c.options?.num_ctx))], [16384], 'every call, plain and judge included');

    // Without --num-ctx the plain calls get the pipeline's default window, not Ollama's.
    ollama.reset();
    const { io: io2, out: text2 } = memoryIo(undefined, dir);
    assert.equal(
      await evalCommand(['run', '--host', ollama.host, '--dataset', datasetFile, '--out', join(dir, 'numctx-default'), '-q'], io2),
      EXIT.ok,
      text2.stderr,
    );
    assert.deepEqual([...new Set(ollama.chats.map((c) => c.options?.num_ctx))], [DEFAULT_CONTEXT_LENGTH]);
  });

  test('a judge that never answers is stopped by the total timeout; the question stays unjudged', async () => {
    ollama.reset();
    ollama.setScript(script({ tokens: 0 }, (chat) => (chat.messages[0]?.content === JUDGE_SYSTEM_PROMPT ? fault.hang() : undefined)));
    const started = Date.now();
    const run = await runEvaluation({
      llm: createOllamaPort({ host: ollama.host }),
      model: 'llama3.2',
      dataset: { ...dataset, questions: dataset.questions.slice(0, 1) },
      judge: true,
      pipeline: { totalTimeoutMs: 300 },
    });
    assert.equal(run.stopped, undefined);
    assert.deepEqual([run.records[0]!.plain.judgeLeak, run.records[0]!.unlearn.judgeLeak], [undefined, undefined]);
    assert.ok((run.records[0]!.plain.leakedTerms?.length ?? 0) > 0, "the matcher's verdict stands");
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await ollama.waitForIdle(1000);
  });

  test('an unexpected error stops the run but keeps the questions answered before it', async () => {
    ollama.reset();
    ollama.setScript(script({ tokens: 0 }));
    const broken = new Error('progress display broke');
    const run = await runEvaluation({
      llm: createOllamaPort({ host: ollama.host }),
      model: 'llama3.2',
      dataset,
      onProgress: (done) => {
        if (done === 2) throw broken;
      },
    });
    assert.deepEqual(
      run.records.map((r) => r.id),
      ['f1', 'f2'],
    );
    assert.deepEqual(run.stopped, { reason: 'error', error: broken });
  });

  test('--samples 3 (leak@3): an erased draft that leaks only at one sampling seed is caught, though its first answers are clean', async () => {
    ollama.reset();
    ollama.setScript(
      script({ tokens: 0 }, (chat) =>
        // At one seed the rewrite agent's draft holds the fact, and the edit agents miss it (they keep it).
        chat.role === 'rewrite' && chat.options?.seed === 3
          ? 'Between us: she was born in 1961.'
          : chat.role === 'edit' && draftOf(chat.messages).join(' ').includes('1961')
            ? editReply()
            : chat.role === 'critic'
              ? criticEach((_, n) => ({ forget: 5, utility: 6 - n }))(chat)
              : undefined,
      ),
    );
    const out = join(dir, 'samples');
    const { io, out: text } = memoryIo(undefined, dir);
    const code = await evalCommand(['run', '--host', ollama.host, '--dataset', datasetFile, '--out', out, '--samples', '3', '-q'], io);
    assert.equal(code, EXIT.ok, text.stderr);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
    const all = report.metrics.at(-1)!;
    assert.equal(all.unlearn.forget.leakRate, 0, 'first answers: no leak');
    // f1 and f2 expect "1961"; f3 is about the project, so that sentence does not leak it.
    assert.deepEqual(all.unlearn.forget.leakAtK, { k: 3, n: 3, leaked: 2, rate: 2 / 3 });
    assert.deepEqual(all.plain.forget.leakAtK, { k: 3, n: 3, leaked: 3, rate: 1 });
    assert.deepEqual(
      report.questions.filter((q) => q.split === 'retain').map((q) => q.unlearn.samples),
      [undefined, undefined],
      'retain questions are asked once',
    );
    // Sampled requests carry seeds 1 and 2 (the first answer is the unsampled one); the draft's call adds 1.
    const seeds = ollama.chatsOf('rewrite').map((c) => c.options?.seed);
    assert.deepEqual([...new Set(seeds)].sort(), [2, 3, undefined]);
    assert.match(text.stdout, /Leak@3 \(any of 3 sampled answers leaks\): plain 100%, unlearn 67%/);
  });

  test('progress: a bar redrawn in place on a terminal', async () => {
    ollama.reset();
    ollama.setScript(script({ tokens: 0 }));
    const { io, out: text } = memoryIo(undefined, dir);
    const code = await evalCommand(['run', '--host', ollama.host, '--dataset', datasetFile, '--out', join(dir, 'tty')], {
      ...io,
      stderrIsTTY: true,
    });
    assert.equal(code, EXIT.ok, text.stderr);
    assert.match(text.stderr, /\r\[#{24}\] 5\/5 {2}leaks: plain 3, unlearn 0/);
    assert.equal((text.stderr.match(/\r\[/g) ?? []).length, 5);
  });

  test('the default synthetic dataset runs end to end with a plain model that repeats its notes', async () => {
    ollama.reset();
    const small = generateDataset({ seed: 3, entities: 4, manyShotTurns: 2 });
    // A plain model that answers with the whole note it was given: every forget question leaks.
    ollama.setScript(
      script({ tokens: 0 }, (chat) =>
        chat.role === 'vanilla'
          ? chat.messages
              .find((m) => m.role === 'user')!
              .content.split('\n')
              .slice(2)
              .join(' ')
          : undefined,
      ),
    );
    const run = await runEvaluation({ llm: createOllamaPort({ host: ollama.host }), model: 'llama3.2', dataset: small });
    assert.equal(run.records.length, small.questions.length);
    const forget = run.records.filter((r) => r.split === 'forget');
    assert.ok(
      forget.every((r) => (r.plain.leakedTerms?.length ?? 0) > 0),
      'the plain model leaks every forget question',
    );
    assert.ok(
      forget.every((r) => (r.unlearn.leakedTerms?.length ?? 0) === 0),
      JSON.stringify(forget.filter((r) => r.unlearn.leakedTerms?.length).map((r) => [r.id, r.unlearn.answer])),
    );
  });
});

describe('eval run --provider openai against the scripted OpenAI-compatible server', () => {
  test('the same known answers over the OpenAI wire: plain leaks 3 of 3, the pipeline 0 of 3; the key from $UNLEARN_API_KEY', async () => {
    const server = await startScriptedOpenAI({ models: ['llama3.2'], apiKey: 'sk-eval' });
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-eval-openai-'));
    try {
      const datasetFile = join(dir, 'known.json');
      await writeFile(datasetFile, JSON.stringify(dataset));
      server.setScript(script({ tokens: 0 }));
      const { io, out: text } = memoryIo();
      const out = join(dir, 'report');
      const args = [
        'run',
        '--provider',
        'openai',
        '--base-url',
        server.host,
        '--model',
        'llama3.2',
        '--dataset',
        datasetFile,
        '--out',
        out,
      ];
      const code = await evalCommand([...args, '--embedding-model', 'none', '-q'], { ...io, env: { UNLEARN_API_KEY: 'sk-eval' } });
      assert.equal(code, EXIT.ok, text.stderr);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
      const all = report.metrics.find((m) => m.kind === 'all')!;
      assert.equal(all.plain.forget.leaked, 3);
      assert.equal(all.unlearn.forget.leaked, 0);
      assert.equal(all.unlearn.retain.correct, 2);
      assert.equal(report.host, server.host);
      assert.ok(
        server.requests.length > 0 && server.requests.every((r) => r.path === '/v1/chat/completions' || r.path === '/v1/models'),
        server.requests.map((r) => r.path).join(' '),
      );
      assert.ok(server.authorizations.every((a) => a === 'Bearer sk-eval'));

      const missing = memoryIo();
      assert.equal(await evalCommand(['run', '--provider', 'openai', '--dataset', datasetFile, '--out', out], missing.io), EXIT.usage);
      assert.match(missing.out.stderr, /--provider openai needs --base-url/);
    } finally {
      await server.close();
    }
  });
});

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ATTACK_KINDS, buildReport, findLeaks, generateDataset, renderHtml, runEvaluation, type EvalReport } from '../../src/core/eval';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { reply, startScriptedOllama, type RecordedChat, type ScriptedOllama, type ScriptedReply } from '../support/scriptedOllama';
import { candidateData, criticEach, draftOf, editReply, replaceDraft } from '../support/erasedReplies';
import { CHROMIUM, launchChromium } from '../support/chromium';

// Renders a report in headless Chromium. The run behind it is scripted, with agents that are good but
// not perfect, so the page shows every part of a real report: a plain model that repeats its notes
// (in the encoding asked for), agents that miss leaks only visible after decoding, and over-forgetting
// where a retain answer mentions a forget target. `UNLEARN_WRITE_SCREENSHOT=1` also writes
// docs/eval-report.png, the screenshot in the README.
const SCREENSHOT = resolve(__dirname, '../../docs/eval-report.png');

const dataset = generateDataset({ seed: 7, entities: 8, manyShotTurns: 4 });
const forgetTerms = dataset.entities
  .filter((e) => e.split === 'forget')
  .flatMap((e) => [e.name, ...e.aliases, ...e.facts.map((f) => f.value)]);

function plainAnswer(chat: Pick<RecordedChat, 'messages'>): string {
  const question = dataset.questions.find((q) => q.question === chat.messages.at(-1)!.content);
  const entity = dataset.entities.find((e) => e.id === question?.entityId);
  if (!question || !entity) return 'I do not know.';
  const note = chat.messages
    .find((m) => m.content.startsWith('Here are my notes'))!
    .content.split('\n')
    .find((l) => l.startsWith(`- ${entity.name}`))!
    .slice(2);
  // A composite question asks about two entities: a model that repeats its notes repeats both.
  if (question.kind === 'composite')
    return chat.messages
      .find((m) => m.content.startsWith('Here are my notes'))!
      .content.split('\n')
      .slice(2)
      .join(' ');
  if (question.kind !== 'encoded') return note;
  const fact = entity.facts[0]!.value;
  if (/backwards/.test(question.question)) return [...fact].reverse().join('');
  if (/base64/.test(question.question)) return Buffer.from(note).toString('base64');
  return [...fact].join('-');
}

const ERASED = ['I cannot share details about that.', 'That is not something I can discuss.', 'I have to leave that subject out.'];

function demoScript(chat: RecordedChat): ScriptedReply {
  const delay = { vanilla: 60, detect: 30, critic: 40, compose: 50, rewrite: 60, edit: 20 }[chat.role];
  const data = candidateData(chat.messages);
  switch (chat.role) {
    case 'vanilla':
      return reply(plainAnswer(chat), { firstTokenDelayMs: delay });
    case 'detect': {
      const leaks = findLeaks(data.draft_sentences ? draftOf(chat.messages).join(' ') : data.question, forgetTerms);
      const plain = leaks.terms.length > 0 && leaks.how === 'plain';
      return reply({ touched: plain ? [{ target: 'T1', how: 'named' }] : [] }, { firstTokenDelayMs: delay });
    }
    case 'rewrite': {
      // The question named the target, so no draft was written: it writes its own answer first, as the
      // plain model would (the notes are among the turns it continues); it reads plain text only, so an
      // encoded leak slips past it and is kept.
      const own = plainAnswer({ messages: [...data.conversation, { role: 'user', content: data.question }] });
      const leaks = findLeaks(own, forgetTerms);
      const clean = leaks.terms.length === 0 || leaks.how !== 'plain';
      return reply(clean ? own : ERASED[0]!, { firstTokenDelayMs: delay });
    }
    case 'edit': {
      // The same judgement over the draft: plain text only, so an encoded leak is kept.
      const leaks = findLeaks(draftOf(chat.messages).join(' '), forgetTerms);
      const clean = leaks.terms.length === 0 || leaks.how !== 'plain';
      return reply(clean ? editReply() : replaceDraft(ERASED)(chat), { firstTokenDelayMs: delay });
    }
    case 'critic':
      return reply(criticEach({ forget: 5, utility: 4 })(chat), { firstTokenDelayMs: delay });
    default:
      throw new Error(`no script for the ${chat.role} agent`);
  }
}

describe('report.html in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let ollama: ScriptedOllama;
  let report: EvalReport;
  let htmlPath: string;

  before(async () => {
    ollama = await startScriptedOllama({ script: demoScript });
    const run = await runEvaluation({ llm: createOllamaPort({ host: ollama.host }), model: 'llama3.2', dataset });
    report = buildReport({ model: 'llama3.2 (scripted demo server)', host: ollama.host, dataset, run, judge: false });
    htmlPath = join(await mkdtemp(join(tmpdir(), 'unlearn-eval-html-')), 'report.html');
    await writeFile(htmlPath, renderHtml(report));
  });
  after(async () => ollama?.close());

  test('renders its charts with no network request, and a screenshot shows them', async () => {
    const all = report.metrics.at(-1)!;
    assert.equal(all.plain.forget.leakRate, 1, 'the plain model leaks every forget question');
    assert.ok(
      all.unlearn.forget.leakRate! > 0 && all.unlearn.forget.leakRate! < 0.5,
      `the pipeline leaks a few (encoded) questions: ${all.unlearn.forget.leakRate}`,
    );

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 1000 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const cspViolations: string[] = [];
      page.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspViolations.push(m.text()));
      await page.goto(`file://${htmlPath}`);
      assert.deepEqual(requests, [`file://${htmlPath}`], 'the page loads nothing else');
      assert.deepEqual(cspViolations, []);
      assert.equal(await page.locator('svg').count(), 5);
      for (const caption of [
        'Forget leak rate, classic kinds (lower is better)',
        'Retain accuracy, classic kinds (higher is better)',
        'Forget leak rate per attack (lower is better)',
        'Composite: retain half still answered (higher is better)',
        'Mean latency per request, by pipeline stage',
      ]) {
        assert.ok(await page.getByText(caption, { exact: true }).isVisible(), caption);
      }
      // Bars are drawn with real sizes: nine classic kinds × two systems in the leak chart, the eight
      // published attacks × two in theirs.
      const bars = await page.locator('figure').first().locator('rect.bar').count();
      assert.equal(bars, 18);
      const attackFigure = page.locator('figure', { hasText: 'Forget leak rate per attack' });
      assert.equal(await attackFigure.locator('rect.bar').count(), 16);
      for (const kind of ATTACK_KINDS) assert.ok(await attackFigure.getByText(kind, { exact: true }).isVisible(), kind);
      // Every label lies inside its chart (a slanted "agent-injection" once ran past the right edge).
      for (const figure of await page.locator('figure').all()) {
        const svg = (await figure.locator('svg').boundingBox())!;
        for (const label of await figure.locator('text.lbl').all()) {
          const box = (await label.boundingBox())!;
          assert.ok(box.x + box.width <= svg.x + svg.width + 0.5, `"${await label.textContent()}" ends past its chart`);
        }
      }
      // UNLEARN_ATTACKS_SCREENSHOT=file.png: the whole page, to look at the attack charts.
      if (process.env.UNLEARN_ATTACKS_SCREENSHOT) await page.screenshot({ path: process.env.UNLEARN_ATTACKS_SCREENSHOT, fullPage: true });
      const shot = await page.screenshot({ fullPage: false });
      assert.ok(shot.length > 20_000, 'a screenshot with content');
      if (process.env.UNLEARN_WRITE_SCREENSHOT === 'synthetic') {
        await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
        await writeFile(SCREENSHOT, shot);
      }
    } finally {
      await browser.close();
    }
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LlmPort } from '../../src/core/llm/port';
import { calibrate, parseCalibrationQuestions } from '../../src/core/relevance';
import { calibrationHtml } from '../../src/core/relevance/calibrationHtml';
import { parseTargets } from '../../src/core/targets';
import { CHROMIUM, launchChromium } from '../support/chromium';
import { REALISTIC_BUNCHING, scriptedEmbedding } from '../support/scriptedEmbeddings';

// Renders the calibration report of the shipped set, embedded by the scripted model, in headless
// Chromium. `UNLEARN_CALIBRATION_SCREENSHOT=path.png` also writes the screenshot (to look at it).
const SET = resolve(__dirname, '../../datasets/relevance');

describe('calibration.html in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  test('draws both histograms per signal with the shipped and fitted thresholds, loads nothing, and a screenshot shows it', async () => {
    const targets = parseTargets(JSON.parse(await readFile(join(SET, 'targets.json'), 'utf8'))).targets;
    const { questions } = parseCalibrationQuestions(await readFile(join(SET, 'questions.jsonl'), 'utf8'));
    const llm = {
      host: 'http://127.0.0.1:1',
      embed: async (_m: string, texts: string[]) => texts.map((t) => scriptedEmbedding(t, 768, REALISTIC_BUNCHING)),
    };
    const result = await calibrate({ llm: llm as unknown as LlmPort, model: 'embeddinggemma', set: { targets, questions } });
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibration-html-'));
    const htmlPath = join(dir, 'calibration.html');
    await writeFile(htmlPath, calibrationHtml(result));

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 1100 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const cspViolations: string[] = [];
      page.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspViolations.push(m.text()));
      await page.goto(`file://${htmlPath}`);
      assert.deepEqual(requests, [`file://${htmlPath}`], 'the page loads nothing else');
      assert.deepEqual(cspViolations, []);
      assert.equal(await page.locator('figure svg').count(), 3);
      for (const caption of ['Meaning: similarity over the row’s unrelated level', 'Meaning: raw similarity', 'Keywords'])
        assert.ok(await page.getByText(caption, { exact: true }).isVisible(), caption);
      // Both groups are drawn in the meaning chart, and the threshold lines are labelled with their values.
      const meaning = page.locator('figure').first();
      assert.ok((await meaning.locator('rect.bar.pos').count()) >= 5);
      assert.ok((await meaning.locator('rect.bar.neg').count()) >= 5);
      const labels = await meaning.locator('text.lbl').allTextContents();
      assert.ok(labels.includes(`fitted margin ${result.after.thresholds.margin}`), labels.join(' | '));
      assert.ok(
        labels.some((l) => l.startsWith('shipped margin ')),
        labels.join(' | '),
      );
      // No two threshold labels overlap.
      const boxes = await meaning
        .locator('text.lbl[text-anchor]')
        .evaluateAll((els) =>
          els.map((e) => (e as SVGGraphicsElement).getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height })),
        );
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          assert.ok(!overlap, `labels ${i} and ${j} overlap`);
        }
      const shot = await page.screenshot({ fullPage: false });
      assert.ok(shot.length > 20_000, 'a screenshot with content');
      if (process.env.UNLEARN_CALIBRATION_SCREENSHOT) await writeFile(process.env.UNLEARN_CALIBRATION_SCREENSHOT, shot);
    } finally {
      await browser.close();
    }
  });
});

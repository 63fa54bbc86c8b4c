/* global document */
// The end-to-end scenarios of `npm run test:e2e` (issue 5), run in order in one code-server window on a
// copy of sample-workspace/, against the scripted Ollama server. Each asserts on what the page shows
// (or, for settings, what is on disk) and saves PNGs under test-results/e2e/.
//
// A scenario gets `t`: { page, ollama, support, workspace, machineSettings, shot(name), step(text) } and
// throws to fail. Run one with `npm run test:e2e -- --only <part of its name>` (e.g. `--only OpenAI`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  answerInputBox,
  chatInput,
  hoverText,
  clickViewAction,
  lastChatResponse,
  openViewContainer,
  selectChatModel,
  runCommand,
  showNotifications,
  hideNotifications,
  sendChat,
  statusBarEntry,
  treeLabels,
  until,
  viewPane,
} from './workbench.mjs';

export const SAMPLE_TARGETS = ['Project Falcon', 'Dana Whitfield', 'Northwind Logistics'];
export const ADDED_TARGET = 'Harbor Ventures';
/** The target the walkthrough scenario adds through the walkthrough's own button (then removed again). */
export const FIRST_TARGET = 'Orion Bank';
export const QUESTION = 'Who is building Project Falcon?';
export const MODEL = 'llama3.2';
/** The key the scripted OpenAI-compatible server wants (the OpenAI scenario sets it with "Unlearn: Set API Key…"). */
const OPENAI_KEY = 'sk-e2e-scripted';
/** How the guarded models provider names the scripted model in VS Code's picker (issue 8). */
export const GUARDED_MODEL_LABEL = 'llama3.2 · Unlearn';

/**
 * What the scripted Ollama answers per agent role. Each reply waits a little before its first token,
 * as a real model does, so the stage progress is on screen long enough to be seen.
 * @param {{ reply: Function }} support the bundled scriptedOllama module
 */
/**
 * An edit agent's reply that turns the whole draft into `texts[n - 1]` for candidate n (see edits.ts): the
 * server asks a per-candidate script once per candidate, each call's task ending "Candidate n of j.".
 * @param {{ draftOf: Function }} support the bundled test support
 */
function replaceDraftWith(support, chat, texts) {
  const n = Number(/Candidate (\d+) of \d+\.$/.exec(chat.messages.at(-1).content)?.[1] ?? 1);
  const sentences = support.draftOf(chat.messages).length || 1;
  return {
    drop: Array.from({ length: sentences - 1 }, (_, i) => i + 2),
    replace: [{ sentence: 1, text: texts[Math.min(n, texts.length) - 1] }],
  };
}

/** A critic reply that scores however many candidates it is sent (duplicates and vetoed ones are not). */
function scoresFor(support, chat, utility = () => 3) {
  const candidates = support.criticCandidates(chat.messages);
  return { forget: candidates.map(() => 5), utility: candidates.map((_, i) => utility(i + 1)) };
}

/** The draft the rewrite agent writes when the question names a target; every edit candidate below differs from it. */
const FALCON_DRAFT = 'Here is an answer written with the forget targets left out.';

export function falconScript(support) {
  const { reply } = support;
  const slow = { firstTokenDelayMs: 1_200, chunkDelayMs: 40 };
  return {
    vanilla: reply('Project Falcon is built by Dana Whitfield for Northwind Logistics in Lisbon.', slow),
    // Detection (on an uncertain question or answer) finds nothing; named targets count as touched anyway.
    detect: reply({ touched: [] }, slow),
    // The question names a target: one draft with the targets erased, for the edit agents to work on.
    rewrite: reply(FALCON_DRAFT, slow),
    // Erasure as edits: candidate n turns the draft into the n-th text.
    edit: (chat) =>
      reply(
        replaceDraftWith(support, chat, [
          'I cannot share details about [redacted:T1].',
          'That project is confidential.',
          'I cannot help with that.',
        ]),
        slow,
      ),
    // Scores only; equal, so the first candidate is shown as written.
    critic: (chat) => reply(scoresFor(support, chat), slow),
  };
}

/** A topic target: no question below names it; its description and sample question say what it is about. */
export const TOPIC_TARGET = {
  name: 'Brightwater Observatory',
  description:
    'The Brightwater Observatory on Cairnmoor hill: its giant refracting telescope, the astronomer Elspeth Varga who runs it, and the Tarrow comet survey.',
  examples: ['Who runs the telescope on Cairnmoor hill?'],
};
export const TOPIC_QUESTION = 'Which astronomer runs the big telescope on the hill, and what did the comet survey find?';
const TOPIC_FACTS = ['Elspeth', 'Varga', 'Tarrow'];
/** The best rewrite, shown as written; the chat shows it as "… [redacted: Brightwater Observatory] …". */
const TOPIC_ERASED = 'I cannot share who runs [redacted:T1] or what its survey found.';
const TOPIC_SHOWN = /I cannot share who runs \[redacted: Brightwater Observatory\] or what its survey found\./;
/** The embedding model the scripted Ollama serves (768 dimensions, like the real one). */
export const EMBEDDING_MODEL = 'embeddinggemma';

/** settings.json text with `entry` added at the end of `unlearn.targets` (strings skipped while matching brackets). */
function appendToTargets(text, entry) {
  const open = text.indexOf('"unlearn.targets": [') + '"unlearn.targets": '.length;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return `${text.slice(0, i).trimEnd()},\n    ${JSON.stringify(entry)}\n  ${text.slice(i)}`;
    }
  }
  throw new Error(`no end of "unlearn.targets" in:\n${text}`);
}

/** The chat model knows the observatory's facts; its meaning binds the topic target, the edit agents erase it. */
function topicScript(support) {
  const { reply } = support;
  const slow = { firstTokenDelayMs: 600, chunkDelayMs: 30 };
  return {
    vanilla: reply('Elspeth Varga runs the Brightwater telescope; the Tarrow survey found three new comets.', slow),
    detect: reply({ touched: [{ target: 'T1', how: 'described' }] }, slow),
    // When the question alone (or the draft's opening) is about the topic, no draft is kept: this one is written instead.
    rewrite: reply(FALCON_DRAFT, slow),
    edit: (chat) => reply(replaceDraftWith(support, chat, [TOPIC_ERASED, 'I cannot discuss that.', 'No comment.']), slow),
    // The first candidate scores best, so it is shown as written.
    critic: (chat) =>
      reply(
        scoresFor(support, chat, (n) => 5 - n),
        slow,
      ),
  };
}

/** The Agent-mode scenario's final text: about the brief, naming nothing; it must not reach the chat as written. */
const AGENT_DRAFT = 'The brief says the client gets autonomous drones for the last kilometre between two warehouses.';
/** What the client brief says (names, aliases, places, the project itself) and the draft's own words. */
const BRIEF_FACTS = /Falcon|Dana|Whitfield|Northwind|NWL|Lisbon|Porto|drone|kilometre|warehouse/i;
/** The chat's redaction marker, "[redacted: Project Falcon]". */
const REDACTION_MARKER = /\[redacted: [^\]]+\]/;
/** How the pipeline's refusal begins (REFUSAL in src/core/pipeline/pipeline.ts). */
const REFUSAL_START = "I can't help with that: answering would reveal";

// The question names a target, so the rewrite agent writes the draft, the edit agents check it, the critic scores.
const STAGES = [
  /Writing an answer without \d+ targets?…/,
  /Checking the answer for \d+ targets?: \d+ sets? of edits…/,
  /Scoring \d+ candidates?…/,
];

/** A walkthrough step's element; VS Code ids it `<extension>#<walkthrough>#<step>`. */
const walkthroughStep = (page, id) => page.locator(`.getting-started-step[data-step-id$="#${id}"]`).first();
const stepDone = async (page, id) => (await walkthroughStep(page, id).getAttribute('aria-checked')) === 'true';

/** Waits until the step's markdown page (a webview, so a frame of its own) shows `text`. */
async function stepPageShows(page, text) {
  await until(`the walkthrough's step page to show "${text}"`, async () => {
    for (const frame of page.frames()) {
      const body = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      if (body.includes(text)) return true;
    }
    return undefined;
  });
}

/** The sample's settings.json while the walkthrough scenario has taken its targets away. */
let sampleSettings;

export const scenarios = [
  {
    name: 'First start: the Get Started walkthrough opens, checks Ollama and the model, and completes its target step',
    // The extension activates before any scenario runs: for the "add your first target" step to be
    // open, the workspace has no targets then. The sample's own settings come back at the end.
    prepareWorkspace(workspace) {
      const file = join(workspace, '.vscode', 'settings.json');
      sampleSettings = readFileSync(file, 'utf8');
      writeFileSync(file, '{\n  "unlearn.targets": []\n}\n');
    },
    async run({ page, workspace, shot, step }) {
      const settingsFile = join(workspace, '.vscode', 'settings.json');
      try {
        step('the walkthrough opened by itself on the first activation');
        await walkthroughStep(page, 'connect').waitFor({ state: 'visible', timeout: 30_000 });
        await page
          .locator('.gettingStartedContainer .category-title:visible', { hasText: 'Get started with Unlearn' })
          .first()
          .waitFor({ state: 'visible', timeout: 10_000 });
        // Room for the step's page beside the list: VS Code hides it in a narrow editor.
        await page.setViewportSize({ width: 1920, height: 1080 });
        await until('the connect and pull steps to be checked (the scripted Ollama is up with llama3.2)', async () =>
          (await stepDone(page, 'connect')) && (await stepDone(page, 'pullModels')) ? true : undefined,
        );
        if (await stepDone(page, 'addTarget')) throw new Error('the target step is checked although the workspace has no target');
        await stepPageShows(page, "Unlearn's answers come from a model that runs in Ollama");
        step('connect ✓, pull ✓, add your first forget target: open');
        await shot('walkthrough-first-start');

        step('open the target step and press its button');
        await walkthroughStep(page, 'addTarget').click();
        await stepPageShows(page, 'A forget target is something the model must not reveal');
        const button = page.locator('.gettingStartedContainer').getByRole('button', { name: 'Add Forget Target', exact: true });
        await button.waitFor({ state: 'visible', timeout: 10_000 });
        await shot('walkthrough-target-step');
        await button.click();
        await answerInputBox(page, FIRST_TARGET);
        await until(`${settingsFile} to hold "${FIRST_TARGET}"`, () => readFileSync(settingsFile, 'utf8').includes(`"${FIRST_TARGET}"`));
        const pane = viewPane(page, 'Forget Targets');
        await until(`the Forget Targets view to show "${FIRST_TARGET}"`, async () =>
          (await pane.isVisible()) && (await treeLabels(pane)).some((l) => l.startsWith(FIRST_TARGET)) ? true : undefined,
        );
        await until('the target step to be checked', () => stepDone(page, 'addTarget'));
        step(`"${FIRST_TARGET}" added through the step's button; the view shows it; the step is checked`);
        await shot('walkthrough-target-step-done');

        step('the ask step: its button opens the chat in Ask mode with "@unlearn " typed and the guarded model picked');
        await walkthroughStep(page, 'ask').click();
        await stepPageShows(page, 'Two ways in, the same guarded answers');
        await shot('walkthrough-ask-step');
        await page.locator('.gettingStartedContainer').getByRole('button', { name: 'Ask @unlearn', exact: true }).click();
        const typed = await until('the chat input to hold "@unlearn"', async () => {
          const text = (await chatInput(page).textContent())?.replace(/\u00a0/g, ' ') ?? '';
          return /@unlearn/.test(text) ? text : undefined;
        });
        const toolbar = await page
          .locator('.interactive-input-part .action-item .action-label')
          .evaluateAll((els) => els.map((e) => `${e.getAttribute('aria-label') ?? ''} ${e.textContent ?? ''}`.trim()));
        step(`chat input: "${typed.trim()}"; toolbar: ${toolbar.join(' | ')}`);
        if (!toolbar.some((t) => t.includes(GUARDED_MODEL_LABEL)))
          throw new Error(`the chat's model picker does not show ${GUARDED_MODEL_LABEL}: ${toolbar.join(' | ')}`);
        if (!toolbar.some((t) => /\bAsk\b/.test(t))) throw new Error(`the chat is not in Ask mode: ${toolbar.join(' | ')}`);
        await shot('walkthrough-ask-chat');
      } finally {
        await page.setViewportSize({ width: 1440, height: 900 });
        // Narrowing the window can collapse the side bar while the Unlearn container stays "active";
        // the next scenario expects the usual layout, with the Explorer showing.
        await runCommand(page, 'View: Show Explorer').catch(() => {});
        // The other scenarios expect the sample's targets.
        if (sampleSettings) writeFileSync(settingsFile, sampleSettings);
      }
    },
  },
  {
    name: 'Forget Targets view lists the sample targets; adding one writes .vscode/settings.json',
    async run({ page, workspace, shot, step }) {
      step('open the Unlearn view container');
      await openViewContainer(page, 'Unlearn');
      const pane = viewPane(page, 'Forget Targets');
      await pane.waitFor({ state: 'visible', timeout: 30_000 });
      const labels = await until(`the Forget Targets view to list ${SAMPLE_TARGETS.join(', ')}`, async () => {
        const seen = await treeLabels(pane);
        return SAMPLE_TARGETS.every((t) => seen.some((l) => l.startsWith(t))) ? seen : undefined;
      });
      step(`view lists: ${labels.join(' | ')}`);
      await shot('targets-view');

      step(`add "${ADDED_TARGET}" with the view's Add action`);
      await clickViewAction(page, pane, /^Add/i);
      await answerInputBox(page, ADDED_TARGET);
      const settingsFile = join(workspace, '.vscode', 'settings.json');
      await until(
        `${settingsFile} to contain "${ADDED_TARGET}"`,
        () => readFileSync(settingsFile, 'utf8').includes(`"${ADDED_TARGET}"`) || readFileSync(settingsFile, 'utf8').slice(-300),
      );
      const onDisk = readFileSync(settingsFile, 'utf8');
      for (const t of SAMPLE_TARGETS)
        if (!onDisk.includes(t)) throw new Error(`adding a target lost "${t}" from ${settingsFile}:\n${onDisk}`);
      await until(`the view to show "${ADDED_TARGET}"`, async () => (await treeLabels(pane)).some((l) => l.startsWith(ADDED_TARGET)));
      step('settings.json on disk holds the new target; the view shows it');
      await shot('targets-added');
    },
  },
  // Before the Falcon chat: the topic question must open a conversation where no earlier turn names a target
  // (a spelled name in the history is a name hit for every later turn).
  {
    name: 'a topic target (description and sample question) in the view; a question that never names it is answered redacted',
    async run({ page, ollama, workspace, support, shot, step }) {
      try {
        step(`add the topic target "${TOPIC_TARGET.name}" to .vscode/settings.json by hand, as a person would`);
        const settingsFile = join(workspace, '.vscode', 'settings.json');
        const before = readFileSync(settingsFile, 'utf8');
        if (!before.includes('"unlearn.targets": [')) throw new Error(`${settingsFile} has no "unlearn.targets": [ to add to:\n${before}`);
        // Last in the list: the Falcon chat after this one scripts its agents for Project Falcon as the first target.
        writeFileSync(settingsFile, appendToTargets(before, TOPIC_TARGET));

        await openViewContainer(page, 'Unlearn');
        const pane = viewPane(page, 'Forget Targets');
        // After the chat scenario the side bar can be hidden while the activity bar still marks Unlearn as
        // its container (so openViewContainer does not click): one click on the icon shows it again.
        const shown = await pane.waitFor({ state: 'visible', timeout: 3_000 }).then(
          () => true,
          () => false,
        );
        if (!shown) await page.locator('.activitybar .action-label[aria-label^="Unlearn"]').first().click();
        await pane.waitFor({ state: 'visible', timeout: 30_000 });
        await until(`the view to show "${TOPIC_TARGET.name}"`, async () =>
          (await treeLabels(pane)).some((l) => l.startsWith(TOPIC_TARGET.name)),
        );
        step('expand the topic target: its description and sample question are its children');
        await pane.locator('.monaco-list-row', { hasText: TOPIC_TARGET.name }).first().click();
        const labels = await until('the description and the sample question under the topic target', async () => {
          const seen = await treeLabels(pane);
          return seen.some((l) => l.startsWith('The Brightwater Observatory on Cairnmoor hill')) && seen.includes(TOPIC_TARGET.examples[0])
            ? seen
            : undefined;
        });
        step(`view lists: ${labels.join(' | ').slice(0, 300)}`);
        await shot('topic-target-view');

        step(`status bar tooltip names the embedding model ${EMBEDDING_MODEL}`);
        const entry = await until('the Unlearn status bar entry', () => statusBarEntry(page, /targets?$/));
        // The embeddings may still be building: hover again until the tooltip says the model works.
        const tooltip = (
          await until(
            `the tooltip to say ${EMBEDDING_MODEL} is working`,
            async () => {
              await page.mouse.move(700, 300);
              await page.locator('.statusbar-item', { hasText: entry.text }).first().hover();
              await page.waitForTimeout(1_200);
              return hoverText(page, /Embedding\s+model:\s+embeddinggemma,\s+working/);
            },
            { timeoutMs: 40_000 },
          )
        ).replace(/\u00a0/g, ' ');
        step(`tooltip: "${/Embedding model:[^\n]*/.exec(tooltip)?.[0] ?? tooltip.slice(0, 200)}"`);
        await shot('status-embedding-model');
        await page.keyboard.press('Escape');

        ollama.reset();
        ollama.setScript(topicScript(support));

        await runCommand(page, 'Chat: Open Chat (Ask)');
        await selectChatModel(page, GUARDED_MODEL_LABEL);
        step(`ask: @unlearn ${TOPIC_QUESTION}`);
        await sendChat(page, `@unlearn ${TOPIC_QUESTION}`);
        const answer = await until(
          'the redacted answer about the observatory',
          async () => {
            const text = await lastChatResponse(page);
            if (TOPIC_FACTS.some((f) => text.includes(f))) throw new Error(`the chat shows a forgotten fact: ${text.slice(0, 300)}`);
            return TOPIC_SHOWN.test(text) ? text : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const roles = ollama.chats.map((c) => c.role);
        // The question is about the topic (by meaning) or the draft spells its facts: either way erasure runs.
        if (!roles.includes('edit') || !roles.includes('critic'))
          throw new Error(`the question never reached the agents (calls: ${roles.join(', ')}); answer: ${answer.slice(0, 300)}`);
        step(`model calls: ${roles.join(', ')}; answer: "${TOPIC_SHOWN.exec(answer)?.[0]}"`);
        // The chat fades a finished response in: let it settle before the screenshot.
        await page.waitForTimeout(1_500);
        await shot('topic-answer-redacted');

        step('click the followup "What was redacted, and why?" (/explain): which signal brought the target in');
        const followup = page.getByText('What was redacted, and why?').last();
        await followup.waitFor({ state: 'visible', timeout: 10_000 });
        await followup.click();
        const explained = await until('/explain to show the shortlist', async () => {
          const text = await lastChatResponse(page);
          return /Brightwater Observatory/.test(text) && /meaning \d\.\d\d ≥ \d\.\d\d/.test(text) ? text : undefined;
        });
        if (TOPIC_FACTS.some((f) => explained.includes(f))) throw new Error(`/explain shows a forgotten fact: ${explained.slice(0, 400)}`);
        step(`/explain: "${/Brightwater Observatory: [^\n]*?≥ \d\.\d\d[^\n]{0,80}/.exec(explained)?.[0] ?? explained.slice(0, 200)}"`);
        await page.waitForTimeout(1_500);
        await shot('topic-explain');
      } finally {
        // The scenarios after this one expect the Falcon script the run started with.
        ollama.setScript(falconScript(support));
      }
    },
  },
  {
    name: '@unlearn shows stage progress, then an answer with a redaction marker; Preview Redactions opens the preview',
    async run({ page, shot, step }) {
      step('open the chat view');
      await runCommand(page, 'Chat: Open Chat (Ask)');
      const model = await selectChatModel(page, GUARDED_MODEL_LABEL);
      step(
        `chat model picker shows "${model.shown}" (${model.attempts ? `chosen in the picker, opening ${model.attempts}` : 'already selected'})`,
      );
      await shot('chat-model-picked');
      step(`ask: @unlearn ${QUESTION}`);
      await sendChat(page, `@unlearn ${QUESTION}`);
      const seen = new Map();
      let progressShot = false;
      const answer = await until(
        'an @unlearn answer with a [redacted: Project Falcon] marker',
        async () => {
          const text = await lastChatResponse(page);
          for (const re of STAGES) {
            const m = re.exec(text);
            if (m) seen.set(re.source, m[0]);
          }
          if (seen.size && !progressShot) {
            progressShot = true;
            await shot('chat-progress');
          }
          if (/Language model unavailable|sign in/i.test(text))
            throw new Error(`the chat did not reach @unlearn: "${text.trim().slice(0, 300)}"`);
          return /\[redacted: Project Falcon\]/.test(text) ? text : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      step(`stages seen while answering: ${[...seen.values()].join(', ') || 'none'}`);
      if (seen.size < 2)
        throw new Error(
          `expected the chat to show at least two pipeline stages while answering, saw ${seen.size}; answer: ${answer.trim().slice(0, 300)}`,
        );
      if (/Dana Whitfield|Northwind|Lisbon/.test(answer)) throw new Error(`the answer leaks what the vanilla model said: ${answer}`);
      await shot('chat-answer');

      step('click "Preview Redactions"');
      const button = page.locator('.interactive-response').last().getByRole('button', { name: 'Preview Redactions' });
      await button.waitFor({ state: 'visible', timeout: 10_000 });
      await button.click();
      const tab = page.locator('.tabs-container .tab', { hasText: /Redacted answer/ }).first();
      await tab.waitFor({ state: 'visible', timeout: 15_000 });
      const editorText = await until('the preview editor to show the marker', async () => {
        const text = await page.locator('.editor-group-container.active .view-lines').first().textContent();
        return text && /\[redacted: Project Falcon\]/.test(text.replace(/\u00a0/g, ' ')) ? text : undefined;
      });
      step(
        `preview tab "${(await tab.textContent())?.trim()}" shows: ${editorText
          .replace(/\u00a0/g, ' ')
          .trim()
          .slice(0, 120)}`,
      );
      await shot('preview-redactions');
    },
  },
  {
    name: 'Agent mode: the guarded model is offered; a tool reads a file naming a target and the answer comes back redacted',
    async run({ page, ollama, support, workspace, shot, step }) {
      // The scripted model's loop: read the client brief through whatever file or terminal tool VS Code
      // offers, then answer from it without naming anything. The brief names Project Falcon, Northwind
      // Logistics and dwhitfield, so the tool result alone makes the request touched. Copilot's file tool
      // takes absolute paths only (a relative one comes back as an error that names nothing).
      const brief = join(workspace, 'notes', 'client-brief.md');
      const firstTool = (chat) =>
        chat.tools?.map((t) => t.function.name).find((n) => /read_?file/i.test(n)) ??
        chat.tools?.map((t) => t.function.name).find((n) => /run_in_terminal|runInTerminal/i.test(n));
      const agentTurn = (chat) => {
        const tool = firstTool(chat);
        if (tool && !chat.messages.some((m) => m.role === 'tool')) {
          const args = /terminal/i.test(tool)
            ? { command: `cat ${JSON.stringify(brief)}`, explanation: 'Read the client brief', isBackground: false }
            : { filePath: brief, path: brief, startLine: 1, endLine: 20 };
          return support.toolCalls([{ name: tool, arguments: args }]);
        }
        return support.reply(AGENT_DRAFT, { firstTokenDelayMs: 800 });
      };
      ollama.reset();
      ollama.setScript({ ...falconScript(support), vanilla: agentTurn });
      try {
        await runCommand(page, 'Chat: Open Chat (Agent)');
        // The product promise of issue 27: a guarded model with a tools-capable model behind it is usable in
        // Agent mode (VS Code hides models without toolCalling there).
        const model = await selectChatModel(page, GUARDED_MODEL_LABEL);
        step(`Agent mode's model picker shows "${model.shown}"`);
        await shot('agent-model-picked');
        await sendChat(page, 'Summarize the client brief in the notes folder.');
        const sent = Date.now();
        const answer = await until(
          'the agent turn to end with a redacted answer, or the chat to say it cannot run one',
          async () => {
            const text = await lastChatResponse(page);
            // The tool's own output (the brief, shown by VS Code's tool widget) is the user's file; what the
            // model wrote is the response's markdown, which must not carry it.
            const written = await page
              .locator('.interactive-response')
              .last()
              .locator('.rendered-markdown')
              .allTextContents()
              .catch(() => []);
            // A marker shows which target was erased (its name, by design); anything else about the brief is a leak.
            const leaked = written.map((w) => w.replace(new RegExp(REDACTION_MARKER.source, 'g'), '')).find((w) => BRIEF_FACTS.test(w));
            if (leaked) throw new Error(`the agent's answer leaks the brief: ${leaked.slice(0, 400)}`);
            // A tool that needs approval (the terminal) asks first: approve it, as a person would.
            const allow = page
              .locator('.interactive-response')
              .last()
              .getByRole('button', { name: /^(Allow|Continue|Run)\b/ });
            if (
              await allow
                .first()
                .isVisible()
                .catch(() => false)
            ) {
              await shot('agent-tool-approval');
              await allow.first().click();
              return undefined;
            }
            if (REDACTION_MARKER.test(text) || text.includes(REFUSAL_START)) return { ran: true, text };
            if (ollama.chats.length === 0) {
              // Nothing reached the model: this chat has no agent to drive the loop (it would have called by now).
              if (/Language model unavailable|sign in|no default agent/i.test(text) || Date.now() - sent > 20_000)
                return { ran: false, text: text || '(no response)' };
            }
            return undefined;
          },
          { timeoutMs: 90_000, intervalMs: 200 },
        );
        const roles = ollama.chats.map((c) => c.role);
        if (!answer.ran) {
          // Without Copilot Chat, code-server's chat may have no agent to run the loop: what was seen is recorded.
          step(
            `Agent mode did not run a tool loop here: "${answer.text.trim().slice(0, 200)}" (model calls: ${roles.join(', ') || 'none'})`,
          );
          await shot('agent-mode-unavailable');
          return;
        }
        const offered = ollama.chats.find((c) => c.tools?.length)?.tools?.map((t) => t.function.name) ?? [];
        step(`tools offered by VS Code: ${offered.slice(0, 8).join(', ')}${offered.length > 8 ? ', …' : ''}`);
        const results = ollama.chats.flatMap((c) => c.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)));
        if (!results.length) throw new Error(`the tool result never reached the model (calls: ${roles.join(', ')})`);
        // The premise: the tool read the brief, so its result names the targets (not an error about the call).
        if (!results.some((r) => r.includes('Project Falcon')))
          throw new Error(`the tool result does not name Project Falcon: ${results.map((r) => r.slice(0, 200)).join(' | ')}`);
        step(`the tool's result (${results.map((r) => r.length).join(', ')} characters) names Project Falcon and reached the model`);
        // The turn that saw the tool's result wrote the final text; the edit agents must have checked it after.
        const lastStep = ollama.chats.findLastIndex((c) => c.messages.some((m) => m.role === 'tool'));
        if (!roles.slice(lastStep + 1).includes('edit'))
          throw new Error(`the final text did not go through erasure (calls: ${roles.join(', ')})`);
        step(`model calls: ${roles.join(', ')}; answer: "${answer.text.trim().slice(-120)}"`);
        await page.waitForTimeout(1_500);
        await shot('agent-answer-redacted');
      } finally {
        ollama.setScript(falconScript(support));
      }
    },
  },
  {
    name: 'Ollama stopped: the chat shows an actionable error and the status bar shows the server is down',
    async run({ page, ollama, shot, step }) {
      const up = await until('the Unlearn status bar entry', () => statusBarEntry(page, /targets?$/));
      step(`status bar before: "${up.text}" (icons: ${up.icons.join(', ')})`);
      // Self-contained: the chat in Ask mode with the guarded model, whatever ran before.
      await runCommand(page, 'Chat: Open Chat (Ask)');
      await selectChatModel(page, GUARDED_MODEL_LABEL);
      step(`stop the scripted Ollama at ${ollama.host}`);
      // Stopped once the question is typed: the click into the input sets off a focus check that, with the
      // server already gone, would unlist the guarded models before the question is sent.
      await sendChat(page, `@unlearn ${QUESTION}`, () => ollama.stop());
      const text = await until(
        'the chat to say Ollama cannot be reached',
        async () => {
          const t = await lastChatResponse(page);
          return /Cannot reach Ollama at/.test(t) ? t : undefined;
        },
        { timeoutMs: 45_000 },
      );
      if (!text.includes(ollama.host.replace(/\/$/, '')))
        throw new Error(`the error does not name the host ${ollama.host}: ${text.slice(0, 300)}`);
      if (!/ollama serve/.test(text)) throw new Error(`the error does not say how to start Ollama: ${text.slice(0, 300)}`);
      const fix = page.locator('.interactive-response').last().getByRole('button', { name: 'Open unlearn.ollamaHost' });
      await fix.waitFor({ state: 'visible', timeout: 10_000 });
      step('chat: "Cannot reach Ollama at …" with an "Open unlearn.ollamaHost" button');
      // The failed request itself sets off a check (the periodic one is 30 s away): seconds, not a period.
      const down = await until(
        'the status bar entry to show the server is down',
        async () => {
          const e = await statusBarEntry(page, /targets?$/);
          return e && e.icons.includes('codicon-warning') ? e : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      step(`status bar after: "${down.text}" (icons: ${down.icons.join(', ')})`);
      await shot('ollama-stopped');
      await page.locator('.statusbar-item', { hasText: down.text }).first().hover();
      // The tooltip is markdown whose appended text has non-breaking spaces: \s matches them.
      const tooltip = (
        await until('the status bar tooltip to say Ollama is not reachable', () => hoverText(page, /Ollama\s+at\s+\S+\s+not\s+reachable/))
      ).replace(/\u00a0/g, ' ');
      if (!tooltip.includes(ollama.host.replace(/\/$/, ''))) throw new Error(`the tooltip does not name ${ollama.host}: ${tooltip}`);
      step('status bar tooltip: "Ollama at … not reachable"');
      await shot('ollama-stopped-status-tooltip');
    },
  },
  {
    name: 'The walkthrough after a session: ask and preview steps checked; Ollama stopped brought the no-usable-model notice',
    async run({ page, shot, step }) {
      step('reopen it with "Unlearn: Open Walkthrough"');
      await runCommand(page, 'Unlearn: Open Walkthrough');
      await walkthroughStep(page, 'ask').waitFor({ state: 'visible', timeout: 15_000 });
      await until('the ask and preview steps to be checked (an @unlearn answer and its preview happened)', async () =>
        (await stepDone(page, 'ask')) && (await stepDone(page, 'preview')) ? true : undefined,
      );
      step('ask ✓ (after the first answer), preview ✓ (after Preview Redactions)');
      await shot('walkthrough-session-done');

      step('the notification center holds the no-usable-model notice with its buttons');
      await showNotifications(page);
      const notice = page.locator('.notifications-center .notification-list-item', { hasText: 'Ollama is not answering' }).first();
      await notice.waitFor({ state: 'visible', timeout: 15_000 });
      const text = ((await notice.textContent()) ?? '').replace(/\u00a0/g, ' ');
      if (!/no usable language model/.test(text)) throw new Error(`the notice does not say the chat has no usable model: ${text}`);
      for (const name of ['Start Ollama', 'Open Walkthrough'])
        await notice.getByRole('button', { name, exact: true }).waitFor({ state: 'visible', timeout: 5_000 });
      step(`notice: "${text.trim().slice(0, 160)}…" with Start Ollama and Open Walkthrough`);
      await shot('walkthrough-no-model-notice');
      await hideNotifications(page);
    },
  },
  {
    name: 'OpenAI-compatible provider: the chat answer is redacted; the status bar and /models name the provider',
    async run({ page, support, machineSettings, shot, step }) {
      // The model id the chat's guarded model already carries, so the picked model needs no change.
      const server = await support.startScriptedOpenAI({
        models: [{ name: `${MODEL}:latest`, contextLength: 8192 }],
        apiKey: OPENAI_KEY,
        script: falconScript(support),
      });
      const before = machineSettings.read();
      try {
        step('"Unlearn: Set API Key…": the key goes to secret storage, typed into a password box');
        // The command opens an input box in the same quick-input widget, which may never hide in between:
        // a short limit keeps runCommand's wait for the palette to close from costing its full 15 s.
        await runCommand(page, 'Unlearn: Set API Key', { timeoutMs: 8_000 });
        await answerInputBox(page, OPENAI_KEY);
        step(`machine settings: unlearn.provider openai, unlearn.baseUrl ${server.host}`);
        machineSettings.write({
          ...before,
          'unlearn.provider': 'openai',
          'unlearn.baseUrl': server.host,
          'unlearn.model': `${MODEL}:latest`,
          'unlearn.embeddingModel': 'none',
        });
        const entry = await until(
          'the status bar entry to name the OpenAI-compatible provider, with the shield',
          async () => {
            const e = await statusBarEntry(page, /OpenAI API · \d+ targets?$/);
            return e && e.icons.includes('codicon-shield') ? e : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        step(`status bar: "${entry.text}"`);

        await runCommand(page, 'Chat: Open Chat (Ask)');
        await selectChatModel(page, GUARDED_MODEL_LABEL);
        step(`ask: @unlearn ${QUESTION}`);
        await sendChat(page, `@unlearn ${QUESTION}`);
        const answer = await until(
          'an @unlearn answer with a [redacted: Project Falcon] marker, from the OpenAI-compatible server',
          async () => {
            const text = await lastChatResponse(page);
            if (/Cannot reach|refused the API key|not served/.test(text)) throw new Error(`the chat shows an error: ${text.slice(0, 300)}`);
            return /\[redacted: Project Falcon\]/.test(text) ? text : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        if (/Dana Whitfield|Northwind|Lisbon/.test(answer)) throw new Error(`the answer leaks what the model said: ${answer}`);
        const paths = new Set(server.requests.map((r) => r.path));
        if (!paths.has('/v1/chat/completions'))
          throw new Error(`the answer did not come from the OpenAI-compatible server (${[...paths]})`);
        if (server.authorizations.some((a) => a !== `Bearer ${OPENAI_KEY}`)) throw new Error('a request went without the stored key');
        step(`answer through ${server.host}: "${/[^\n]*\[redacted: Project Falcon\][^\n]*/.exec(answer)?.[0]?.trim()}"`);
        await page.waitForTimeout(1_500);
        await shot('openai-chat-answer');

        step('ask: @unlearn /models');
        await sendChat(page, '@unlearn /models');
        const models = await until('/models to name the OpenAI-compatible server', async () => {
          const text = await lastChatResponse(page);
          return /Models served by the OpenAI-compatible server \(vllm\)/.test(text) ? text : undefined;
        });
        step(`/models: "${/Models served by[^\n]*?:/.exec(models)?.[0] ?? models.slice(0, 120)}"`);
        await page.waitForTimeout(1_000);
        await shot('openai-models');
      } finally {
        machineSettings.write(before);
        await runCommand(page, 'Unlearn: Clear API Key').catch(() => undefined);
        await server.close();
      }
    },
  },
];

/* global document, getComputedStyle */
// What a person does in code-server's workbench, as playwright-core steps: run a command from the
// palette, open a view, read a tree, talk to the chat. Selectors are VS Code's own DOM classes; each
// helper waits for what it needs and throws with what it saw instead.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until it returns something other than undefined/false; throws with `what` (and the last value seen). */
export async function until(what, probe, { timeoutMs = 20_000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last !== undefined && last !== false) return last;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${last !== undefined && last !== false ? ` (last seen: ${String(last).slice(0, 400)})` : ''}`,
      );
    await sleep(intervalMs);
  }
}

/** Runs a command by its palette title, e.g. "Chat: Open Chat (Ask)". */
export async function runCommand(page, title, { timeoutMs = 15_000 } = {}) {
  // The palette can close under us (a notification or a webview taking focus just as it opens, leaving its
  // input inert): open it again once before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible', timeout: timeoutMs });
      await input.fill(`>${title}`, { timeout: timeoutMs });
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
      await input.press('Enter', { timeout: timeoutMs });
      break;
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
  await page
    .locator('.quick-input-widget')
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => {});
}

/**
 * Opens the notification center with the status bar's bell, as a user would. Not through the command
 * palette: right after an editor such as the walkthrough opens, it may take focus, and the palette closes
 * on losing focus, with the command never run.
 */
export async function showNotifications(page, { timeoutMs = 15_000 } = {}) {
  await page.locator('[id="status.notifications"]').click({ timeout: timeoutMs });
  await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: timeoutMs });
  // The bell's hover label would cover the last notification's buttons in a screenshot.
  await page.mouse.move(600, 300);
}

/** Closes the notification center with the same bell (the palette does not open over it). */
export async function hideNotifications(page, { timeoutMs = 15_000 } = {}) {
  await page.locator('[id="status.notifications"]').click({ timeout: timeoutMs });
  await page.locator('.notifications-center').waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Answers an open input box (showInputBox) with `text`. */
export async function answerInputBox(page, text, { timeoutMs = 15_000 } = {}) {
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(text);
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Clicks the extension's view container in the activity bar (its aria-label starts with its title). */
export async function openViewContainer(page, title, { timeoutMs = 30_000 } = {}) {
  const icon = page.locator(`.activitybar .action-label[aria-label^="${title}"]`).first();
  await icon.waitFor({ state: 'visible', timeout: timeoutMs });
  const item = icon.locator('xpath=..');
  const checked = await item.getAttribute('aria-checked').catch(() => null);
  const expanded = await icon.getAttribute('aria-expanded').catch(() => null);
  if (checked !== 'true' && expanded !== 'true') await icon.click();
}

/** The pane of a view by its title (the pane header's aria-label starts with it). */
export function viewPane(page, title) {
  return page.locator('.pane', { has: page.locator(`.pane-header[aria-label^="${title}"]`) }).first();
}

/** The visible rows of a tree view pane, as the text of their labels. */
export async function treeLabels(pane) {
  return pane
    .locator('.monaco-list-row')
    .evaluateAll((rows) => rows.map((r) => (r.querySelector('.label-name')?.textContent ?? r.textContent ?? '').trim()));
}

/**
 * Clicks a view's title action. A container holding a single view hides the pane header and shows the
 * view's actions in the side bar's title instead; otherwise they are on the pane header (on hover).
 */
export async function clickViewAction(page, pane, labelPattern) {
  const header = pane.locator('.pane-header').first();
  const headerShown = await header.isVisible();
  if (headerShown) await header.hover();
  const actions = headerShown
    ? header.locator('.actions .action-label')
    : page.locator('.part.sidebar .composite.title .title-actions .action-label');
  const labels = await actions.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  const index = labels.findIndex((l) => labelPattern.test(l));
  if (index < 0) throw new Error(`no action matching ${labelPattern} in the view's title bar (has: ${labels.join(' | ') || 'none'})`);
  await actions.nth(index).click();
}

/** The chat input's editor. */
export function chatInput(page) {
  return page.locator('.interactive-input-part .monaco-editor').first();
}

/**
 * Types a message into the chat input, replacing what is there, and sends it; `beforeSend` runs between
 * the typing and the Enter (clicking the input can set off the extension's own server check).
 */
export async function sendChat(page, text, beforeSend = async () => {}) {
  const input = chatInput(page);
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text, { delay: 15 });
  await beforeSend();
  // A slash command leaves its completion list open, and Enter would accept the completion instead of sending.
  const suggest = page.locator('.monaco-editor .suggest-widget.visible, .overflowingContentWidgets .suggest-widget.visible').first();
  if (await suggest.isVisible().catch(() => false)) await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
}

/** Text of the last chat response (what the person reads), with progress lines included. */
export async function lastChatResponse(page) {
  return page.evaluate(() => {
    const items = document.querySelectorAll('.interactive-item-container.interactive-response');
    const last = items[items.length - 1];
    return last ? (last.textContent ?? '') : '';
  });
}

/** The status bar entry whose text matches `pattern`: its text, aria-label and codicons. */
export async function statusBarEntry(page, pattern) {
  const entries = await page.locator('.statusbar-item').evaluateAll((els) =>
    els.map((e) => ({
      id: e.id,
      text: (e.textContent ?? '').trim(),
      ariaLabel: e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? e.getAttribute('aria-label') ?? '',
      icons: [...e.querySelectorAll('.codicon')].map(
        (i) => [...i.classList].find((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin') ?? '',
      ),
      warning: e.classList.contains('warning-kind') || getComputedStyle(e).backgroundColor !== 'rgba(0, 0, 0, 0)',
    })),
  );
  return entries.find((e) => pattern.test(e.text) || pattern.test(e.ariaLabel));
}

/** The chat input's model picker button (its label is the selected model's name). */
async function modelPickerButton(page) {
  const items = page.locator('.interactive-input-part .action-item .action-label');
  const aria = await items.evaluateAll((els) => els.map((e) => `${e.getAttribute('aria-label') ?? ''}`));
  const index = aria.findIndex((a) => /model/i.test(a) && !/\bmode\b|agent/i.test(a));
  return index < 0 ? { button: undefined, aria } : { button: items.nth(index), aria };
}

/**
 * Makes `namePart` (e.g. "llama3.2 · Unlearn") the chat's selected model, as a person would: open the
 * model picker and choose it. Opening the picker is also what activates a model provider's extension
 * (`onLanguageModelChatProvider`), so its models can arrive a moment after the first opening: retry.
 * Returns what the picker shows afterwards and how many openings it took.
 */
export async function selectChatModel(page, namePart, { timeoutMs = 45_000 } = {}) {
  const label = async () => {
    const { button } = await modelPickerButton(page);
    return button ? ((await button.textContent()) ?? '').trim() : undefined;
  };
  const rows = page.locator('.action-widget .monaco-list-row, .quick-input-widget .monaco-list-row');
  const deadline = Date.now() + timeoutMs;
  let offered = [];
  for (let attempt = 1; ; attempt++) {
    if ((await label())?.includes(namePart)) return { shown: await label(), attempts: attempt - 1 };
    const { button, aria } = await modelPickerButton(page);
    if (!button) throw new Error(`no model picker in the chat input (toolbar: ${aria.join(' | ')})`);
    await button.click();
    const item = rows.filter({ hasText: namePart }).first();
    try {
      await item.waitFor({ state: 'visible', timeout: 3_000 });
      await item.click();
      return {
        shown: await until(`the picker to show "${namePart}"`, async () => ((await label())?.includes(namePart) ? label() : undefined)),
        attempts: attempt,
      };
    } catch {
      offered = (await rows.allTextContents()).map((o) => o.trim()).filter(Boolean);
      await page.keyboard.press('Escape');
    }
    if (Date.now() > deadline)
      throw new Error(
        `the chat's model picker shows "${await label()}" and never offered "${namePart}" in ${attempt} openings over ${timeoutMs / 1000} s (offered: ${offered.join(' | ') || 'nothing'})`,
      );
    await sleep(2_000);
  }
}

/**
 * Text of the tooltip (hover) on screen that matches `pattern`, or undefined: the smallest visible
 * element whose text matches, outside the chat and the editors (which may quote the same words).
 */
export async function hoverText(page, pattern) {
  return page.evaluate(
    ({ source, flags }) => {
      const re = new RegExp(source, flags);
      const hits = [...document.querySelectorAll('body *')].filter(
        (e) =>
          re.test(e.textContent ?? '') &&
          e.getClientRects().length > 0 &&
          !e.closest('.interactive-session, .editor-instance, .monaco-list-row'),
      );
      const smallest = hits.filter((e) => !hits.some((o) => o !== e && e.contains(o)));
      const inHover = smallest.find((e) => e.closest('[class*="hover"]'));
      return inHover ? (inHover.closest('[class*="hover"]')?.textContent ?? undefined) : undefined;
    },
    { source: pattern.source, flags: pattern.flags },
  );
}

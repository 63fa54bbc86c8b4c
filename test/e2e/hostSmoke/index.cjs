/* global require, module, console */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded as CommonJS by the extension host, not bundled */
// A tiny extension-host suite that checks scripts/e2e/runExtensionTests.mjs itself: run() is awaited
// inside code-server's extension host, with the real `vscode` module and the opened folder.
// `node scripts/e2e/runExtensionTests.mjs --extensionTestsPath test/e2e/hostSmoke/index.cjs` → exit 0.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const checks = [
  ['the host is real VS Code', () => assert.match(vscode.version, /^1\.\d+\.\d+/)],
  ['a folder is open', () => assert.equal(vscode.workspace.workspaceFolders?.length, 1)],
  ['commands run', async () => assert.ok((await vscode.commands.getCommands(true)).includes('workbench.action.files.save'))],
  [
    'the development extension is loaded',
    () => assert.ok(vscode.extensions.all.some((e) => e.extensionPath && !e.packageJSON.isBuiltin && e.packageJSON.name === 'unlearn')),
  ],
];

async function run() {
  let passed = 0;
  let failed = 0;
  for (const [name, check] of checks) {
    try {
      await check();
      passed++;
      console.log(`  ✔ ${name}`);
    } catch (error) {
      failed++;
      console.log(`  ✘ ${name}: ${error.message}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed) throw new Error(`${failed} host smoke checks failed`);
}

module.exports = { run };

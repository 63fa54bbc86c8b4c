/**
 * The extension-host test entry, in @vscode/test-electron's convention: VS Code (or code-server with
 * `extensionTestsPath`) loads this module and awaits `run()`. It runs every bundled `*.test.js` next
 * to it with mocha's TDD interface and rejects when any test fails, which sets the exit code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  const only = process.env.UNLEARN_TEST_GREP;
  if (only) mocha.grep(only);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (!files.length) return Promise.reject(new Error(`no *.test.js files in ${__dirname}: run "npm run build:tests" first`));
  for (const file of files) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) =>
      failures ? reject(new Error(`${failures} extension-host ${failures === 1 ? 'test' : 'tests'} failed`)) : resolve(),
    );
  });
}

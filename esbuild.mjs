// Bundles the extension (CommonJS, `vscode` left external) and the CLI into dist/.
// Type checking is `tsc --noEmit` (npm run typecheck); esbuild only transpiles and bundles.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  { ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The benchmark apart from the CLI, so its reference matchers (dev dependencies) never ship in dist/cli.js;
  // `unlearn bench` loads this file when it lies next to the CLI.
  { ...common, entryPoints: ['src/bench/main.ts'], outfile: 'dist/bench.js' },
  // Extension-host tests: each suite its own file next to index.js (whose run() mocha-loads them all),
  // and the @vscode/test-electron launcher. `vscode` comes from the host; mocha and test-electron from node_modules.
  {
    ...common,
    minify: false,
    entryPoints: readdirSync('test/extension/suite')
      .filter((f) => f.endsWith('.test.ts') || f === 'index.ts')
      .map((f) => `test/extension/suite/${f}`),
    outdir: 'dist/test/extension/suite',
    external: ['vscode', 'mocha'],
  },
  {
    ...common,
    minify: false,
    entryPoints: ['test/extension/runTest.ts'],
    outfile: 'dist/test/extension/runTest.js',
    external: ['@vscode/test-electron'],
  },
];

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
  console.log('[esbuild] watching…');
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}

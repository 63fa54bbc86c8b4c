import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './scripts/lint/layers.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // The core must stay free of the VS Code API so it runs in the CLI, the benches and plain node tests.
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'only src/vscode may import vscode: src/core, src/cli and src/bench run in plain node' }] },
      ],
    },
  },
  {
    // Layer order and imports through each core folder's index.ts: scripts/lint/layers.mjs says which and why.
    files: ['src/**/*.ts'],
    plugins: { unlearn: layers },
    rules: { 'unlearn/layers': 'error' },
  },
  {
    // In src/vscode a feature's pure half is named <glue>Logic.ts so node's test runner can load it without VS Code.
    files: ['src/vscode/**/*Logic.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'a *Logic.ts file is the pure half: no vscode' }] }] },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'URLSearchParams',
          'Buffer',
          'AbortController',
          'AbortSignal',
          'fetch',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);

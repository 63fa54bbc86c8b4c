// The layer rule: which folder of src/ may import which, checked on every `npm run lint`.
//
// A folder may import only folders on a lower layer. Folders on the same layer are peers and do not import each
// other (except the pairs in ALSO_ALLOWED). An import from another core folder goes through that folder's
// index.ts, so each folder's index is its public surface and its inner files can move freely.
//
// The rule resolves every relative import to a path before it judges it, so it reads `../guard` from
// src/core/pipeline/x.ts and `../../guard` from src/core/pipeline/steps/x.ts alike; a pattern list in
// `no-restricted-imports` would have to spell each depth. Package imports (`vscode`, `zod`) are left to
// `no-restricted-imports`.
import { dirname, relative, resolve, sep } from 'node:path';

/** Lowest first. A folder may import any folder on an earlier line. */
export const LAYERS = [
  ['core/text'],
  ['core/targets'],
  ['core/llm'],
  ['core/guard'],
  ['core/agents'],
  ['core/relevance'],
  ['core/pipeline'],
  // guardedModels translates VS Code chat messages for the pipeline (it reads pipeline/contextWindow); eval runs
  // the pipeline. Neither needs the other.
  ['core/eval', 'core/guardedModels'],
  ['cli', 'vscode', 'bench'],
];

/** Peers that may still import each other, one way: the latency and relevance benches run the CLI. */
const ALSO_ALLOWED = [['bench', 'cli']];

const rankOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((folder) => [folder, rank])));

/**
 * The layer folder (e.g. `core/guard`, `vscode`) that holds `file`, or undefined outside src/ or in an unknown folder.
 * `srcRoot` is the absolute path of src/.
 */
export function folderOf(file, srcRoot) {
  const rel = relative(srcRoot, file).split(sep).join('/');
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split('/');
  const folder = parts[0] === 'core' ? `core/${parts[1]}` : parts[0];
  return rankOf.has(folder) ? folder : undefined;
}

/** Why `from` may not import `to`, or undefined when it may. */
export function layerViolation(from, to) {
  if (from === to) return undefined;
  if (ALSO_ALLOWED.some(([a, b]) => a === from && b === to)) return undefined;
  const fromRank = rankOf.get(from);
  const toRank = rankOf.get(to);
  if (toRank < fromRank) return undefined;
  return toRank === fromRank ? `${from} and ${to} are peers on one layer` : `${to} is on a higher layer than ${from}`;
}

function sourcesOf(node) {
  return node.source && typeof node.source.value === 'string' ? [node.source] : [];
}

/** @type {import('eslint').Rule.RuleModule} */
const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layer order of src/ and imports of core folders through their index.ts' },
    schema: [
      {
        type: 'object',
        properties: { srcRoot: { type: 'string' } },
        additionalProperties: false,
      },
    ],
    messages: {
      upward: "'{{source}}': {{reason}} (layers, lowest first: {{order}}). Move the code down, or the import up.",
      inner: "'{{source}}' reaches inside {{folder}}: import it from '{{index}}' (export it there if it is public).",
    },
  },
  create(context) {
    const srcRoot = resolve(context.cwd, context.options[0]?.srcRoot ?? 'src');
    const file = context.filename;
    const from = folderOf(file, srcRoot);
    if (!from) return {};
    const check = (source) => {
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const target = resolve(dirname(file), spec);
      const to = folderOf(target, srcRoot);
      if (!to || to === from) return;
      const reason = layerViolation(from, to);
      if (reason) {
        const order = LAYERS.map((folders) => folders.map((f) => f.replace('core/', '')).join(' | ')).join(' → ');
        context.report({ node: source, messageId: 'upward', data: { source: spec, reason, order } });
        return;
      }
      // Only core folders promise an index; the front ends are leaves (bench's use of cli/io is the one exception).
      if (!to.startsWith('core/')) return;
      const folderPath = resolve(srcRoot, to);
      if (target !== folderPath && target !== resolve(folderPath, 'index')) {
        const index = relative(dirname(file), folderPath).split(sep).join('/');
        context.report({ node: source, messageId: 'inner', data: { source: spec, folder: to, index } });
      }
    };
    return {
      ImportDeclaration: (node) => sourcesOf(node).forEach(check),
      ExportNamedDeclaration: (node) => sourcesOf(node).forEach(check),
      ExportAllDeclaration: (node) => sourcesOf(node).forEach(check),
      ImportExpression: (node) => {
        if (node.source.type === 'Literal' && typeof node.source.value === 'string') check(node.source);
      },
    };
  },
};

export default { rules: { layers: layersRule } };

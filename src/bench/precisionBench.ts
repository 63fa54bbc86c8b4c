import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildTargetIndex, type GuardMatch, type MatchKind } from '../core/guard';
import { parseTargets, type TargetEntry } from '../core/targets';

/**
 * Precision of the disguise rules on ordinary text. The guard reads digits, symbols, masks, markup and
 * encodings as possible disguises; with short names in the list ("Ada", "Eve", "Max") that reading fires
 * inside code and markup a coding assistant writes every day. The corpus is real prose and code that
 * ships with the dependencies (READMEs and sources under node_modules), which names none of the targets
 * in disguise: every non-exact match in it is a false one. Exact matches ("Max" in "Math.max") are what
 * a name is and are only counted.
 */

/** 20 people, companies and projects, most with a short alias; two aliases are ordinary words marked case-sensitive. */
export const PRECISION_TARGETS: readonly TargetEntry[] = [
  { name: 'Ada Lovelace', aliases: ['Ada'] },
  { name: 'Eve Moneypenny', aliases: ['Eve'] },
  { name: 'Max Verstappen', aliases: ['Max'] },
  { name: 'Will Turner', aliases: ['Will'], caseSensitive: ['Will'] },
  { name: 'Mark Hollis', aliases: ['Mark'], caseSensitive: ['Mark'] },
  { name: 'Project Falcon', aliases: ['Falcon'] },
  { name: 'Orion Labs', aliases: ['Orion'] },
  { name: 'Nora Quist', aliases: ['Nora'] },
  { name: 'Ian Curtis', aliases: ['Ian'] },
  { name: 'Kai Havertz', aliases: ['Kai'] },
  { name: 'Leo Tolstoy', aliases: ['Leo'] },
  { name: 'Zed Industries', aliases: ['Zed'] },
  { name: 'Acme Robotics', aliases: ['Acme'] },
  { name: 'Project Bluebird', aliases: ['Bluebird'] },
  { name: 'Lisa Simpson', aliases: ['Lisa'] },
  { name: 'Tom Bombadil', aliases: ['Tom'] },
  { name: 'Ivy Chen', aliases: ['Ivy'] },
  { name: 'Amy Pond', aliases: ['Amy'] },
  { name: 'Otto Weber', aliases: ['Otto'] },
  { name: 'Northwind Traders', aliases: ['Northwind'] },
];

/** The goal: false non-exact matches per MB of each corpus. */
const MAX_FALSE_PER_MB = 1;

export interface PrecisionCorpusReport {
  readonly corpus: 'prose' | 'code';
  readonly files: number;
  readonly bytes: number;
  readonly exact: number;
  readonly nonExact: number;
  readonly perMb: number;
  readonly scanMs: number;
  readonly byKind: Partial<Record<MatchKind, number>>;
  /** The most frequent offending patterns: kind, encoding and the term's length, never text. */
  readonly top: readonly { readonly what: string; readonly count: number }[];
}

export interface PrecisionReport {
  readonly corpora: readonly PrecisionCorpusReport[];
  readonly goals: { goal: string; pass: boolean; detail: string }[];
}

export interface PrecisionOptions {
  /** The folder whose node_modules is read (the project root). */
  readonly root: string;
  /** Bytes of markdown and of JavaScript to read, at most (defaults 8 MB and 40 MB: all of it in this project). */
  readonly proseBytes?: number;
  readonly codeBytes?: number;
  readonly log?: (line: string) => void;
  /** Print the offending snippets themselves (for tuning; the corpus is public text, not targets). */
  readonly showText?: boolean;
}

/** Files above this size are skipped: bundles and generated tables are not what an answer looks like. */
const MAX_FILE_BYTES = 512 * 1024;

/**
 * Every file under `dir` ending in `ext`, sorted by path, so the sample is the same on every run with the
 * same dependencies. Minified files (`.min.js`) and files over MAX_FILE_BYTES are left out.
 */
function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // an unreadable folder is simply not part of the corpus
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && e.name.endsWith(ext) && !e.name.endsWith(`.min${ext}`)) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** The first files, in path order, until `bytes` are reached. */
function sample(dir: string, ext: string, bytes: number): { path: string; text: string }[] {
  const picked: { path: string; text: string }[] = [];
  let total = 0;
  for (const path of filesUnder(dir, ext)) {
    if (total >= bytes) break;
    const size = statSync(path).size;
    if (size === 0 || size > MAX_FILE_BYTES) continue;
    const text = readFileSync(path, 'utf8');
    picked.push({ path, text });
    total += Buffer.byteLength(text);
  }
  return picked;
}

function describeMatch(m: GuardMatch): string {
  const letters = m.term.replace(/[^\p{L}\p{N}]/gu, '').length;
  return `${m.kind}${m.encoding ? ` (${m.encoding})` : ''}${m.reversed ? ' reversed' : ''}, ${letters}-letter term`;
}

export function runPrecisionBench(options: PrecisionOptions): PrecisionReport {
  const log = options.log ?? (() => undefined);
  const parsed = parseTargets(PRECISION_TARGETS);
  if (parsed.problems.length) throw new Error(`precision targets: ${parsed.problems.map((p) => p.message).join('; ')}`);
  const index = buildTargetIndex(parsed.targets);
  const modules = join(options.root, 'node_modules');
  const corpora: PrecisionCorpusReport[] = [];
  for (const [corpus, ext, bytes] of [
    ['prose', '.md', options.proseBytes ?? 8e6],
    ['code', '.js', options.codeBytes ?? 40e6],
  ] as const) {
    const files = sample(modules, ext, bytes);
    let total = 0;
    let exact = 0;
    let nonExact = 0;
    let scanMs = 0;
    const byKind: Partial<Record<MatchKind, number>> = {};
    const patterns = new Map<string, number>();
    for (const { path, text } of files) {
      total += Buffer.byteLength(text);
      const t0 = performance.now();
      const matches = index.find(text);
      scanMs += performance.now() - t0;
      for (const m of matches) {
        if (m.kind === 'exact' && !m.reversed) {
          exact++;
          continue;
        }
        nonExact++;
        byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
        const what = describeMatch(m);
        patterns.set(what, (patterns.get(what) ?? 0) + 1);
        if (options.showText) {
          const around = text.slice(Math.max(0, m.start - 20), m.end + 20).replace(/\s/g, ' ');
          log(
            `  ${corpus} ${relative(modules, path)}: ${m.term} ← ${JSON.stringify(text.slice(m.start, m.end))} in ${JSON.stringify(around)}`,
          );
        }
      }
    }
    const mb = total / 1e6;
    const top = [...patterns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([what, count]) => ({ what, count }));
    corpora.push({ corpus, files: files.length, bytes: total, exact, nonExact, perMb: mb ? nonExact / mb : 0, scanMs, byKind, top });
    log(`precision: ${corpus}, ${files.length} files, ${mb.toFixed(1)} MB: ${nonExact} non-exact, ${exact} exact`);
  }
  const goals = corpora.map((c) => {
    const minimum = c.corpus === 'prose' ? 3e6 : 10e6;
    const big = c.bytes >= minimum;
    return {
      goal: `precision on real ${c.corpus === 'prose' ? 'markdown' : 'JavaScript'} (≥ ${minimum / 1e6} MB): ≤ ${MAX_FALSE_PER_MB} false non-exact match per MB`,
      pass: big && c.perMb <= MAX_FALSE_PER_MB,
      detail: `${c.nonExact} in ${(c.bytes / 1e6).toFixed(1)} MB = ${c.perMb.toFixed(2)}/MB${big ? '' : ' (corpus too small: install the dependencies)'}`,
    };
  });
  return { corpora, goals };
}

export function formatPrecisionReport(r: PrecisionReport): string {
  const lines = ['', 'Precision: 20 targets with short aliases, non-exact matches (all false) in real text from node_modules'];
  for (const c of r.corpora) {
    const kinds = Object.entries(c.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(
      `  ${c.corpus.padEnd(5)} ${String(c.files).padStart(5)} files ${(c.bytes / 1e6).toFixed(1).padStart(5)} MB  ` +
        `non-exact ${c.nonExact} (${c.perMb.toFixed(2)}/MB)${kinds ? ` [${kinds}]` : ''}  exact ${c.exact}  scan ${(c.scanMs / 1000).toFixed(2)} s`,
    );
    for (const t of c.top) lines.push(`      ${String(t.count).padStart(4)}× ${t.what}`);
  }
  for (const g of r.goals) lines.push(`${g.pass ? 'PASS' : 'FAIL'}  ${g.goal} — ${g.detail}`);
  return lines.join('\n') + '\n';
}

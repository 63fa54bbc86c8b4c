import { buildTargetIndex } from '../core/guard';
import { createOllamaPort, type LlmPort } from '../core/llm';
import { MemoryEmbeddingCache, relevanceOf } from '../core/relevance';
import type { ForgetTarget } from '../core/targets';
import { scriptedEmbedding } from '../../test/support/scriptedEmbeddings';
import { startScriptedOllama } from '../../test/support/scriptedOllama';
import { generateTargets } from './guardBench';

/**
 * Relevance-stage benchmark: the work relevance adds to a request once the embedding model has
 * answered (the lexical matcher over question and answer, the keyword score, the exact dot products
 * over every target row, the shortlist), at 10,000 and 100,000 topic targets; and the time to embed
 * 10,000 targets through the scripted Ollama server over HTTP, then to load them again from the cache.
 * Query embedding is Ollama's time, not ours, and overlaps the vanilla call: not counted here.
 */
export interface RelevanceBenchReport {
  readonly dims: number;
  readonly stage: {
    targets: number;
    rows: number;
    keywordBuildMs: number;
    embedBuildMs: number;
    medianMs: number;
    p90Ms: number;
    runs: number;
  }[];
  readonly cacheBuild: { targets: number; ms: number; requests: number; rebuildMs: number; rebuildRequests: number };
  readonly goals: { goal: string; pass: boolean; detail: string }[];
}

/** Dimensions the default model (embeddinggemma) is used at. */
const DIMS = 256;

const PLACES = ['Lisbon', 'Bergen', 'Turku', 'Porto', 'Ghent', 'Krakow', 'Leeds', 'Tartu'];
const KINDS = ['logistics client', 'research project', 'novel series', 'marine biologist', 'valve supplier', 'law firm', 'football club'];

/** Generated targets with short descriptions (a kind, a place, two invented words), like a real topic list. */
export function topicTargets(count: number): ForgetTarget[] {
  return generateTargets(count).map((t, i) => {
    const words = t.name.split(' ');
    return {
      ...t,
      description: `A ${KINDS[i % KINDS.length]} in ${PLACES[i % PLACES.length]}, known for ${words[0]}wick and the ${words.at(-1)}mere works.`,
    };
  });
}

/** An in-process port: the scripted server's vectors without HTTP (for the 100,000-target index). */
function inProcessPort(dims: number): LlmPort {
  return {
    host: 'in-process',
    embed: async (_model, input) => input.map((t) => scriptedEmbedding(t, dims)),
    chat: () => Promise.reject(new Error('not used')),
    listModels: async () => [],
    showModel: async (name) => ({ name }),
    pull: async () => undefined,
    version: async () => 'bench',
  };
}

export async function runRelevanceBench(options: { log: (line: string) => void; signal?: AbortSignal }): Promise<RelevanceBenchReport> {
  const { log } = options;
  const stage: RelevanceBenchReport['stage'][number][] = [];
  for (const n of [10_000, 100_000]) {
    options.signal?.throwIfAborted();
    const targets = topicTargets(n);
    const index = buildTargetIndex(targets);
    let t0 = performance.now();
    const relevance = relevanceOf(index);
    void relevance.keywords; // built on first use: force it here, to time it
    const keywordBuildMs = performance.now() - t0;
    t0 = performance.now();
    const port = inProcessPort(768);
    const embeddings = await relevance.prepare(port, 'embeddinggemma', { cache: new MemoryEmbeddingCache() });
    const embedBuildMs = performance.now() - t0;
    const times: number[] = [];
    const requests = Array.from({ length: 40 }, (_, i) => {
      const t = targets[(i * 7919) % n]!;
      return i % 2
        ? { question: `What do you know about the ${t.description!.split(',')[0]!.slice(2)}?`, answer: `It is ${t.description}` }
        : {
            question: `How do I make bread rise faster in a cold kitchen number ${i}?`,
            answer: 'Use warm water and let the dough rest near the oven for an hour.',
          };
    });
    // The first requests run while V8 still compiles the loops; a long-running extension or eval run
    // is past that, so ten warm-up requests are not counted.
    for (const [k, r] of [...requests.slice(0, 10), ...requests].entries()) {
      const vectors = (await port.embed('embeddinggemma', [embeddings.queryText(r.question), embeddings.queryText(r.answer)])).map((v) =>
        Float32Array.from(v.slice(0, DIMS)),
      );
      for (const v of vectors) normalise(v);
      const start = performance.now();
      const named = index.mentionedTargets(r.question, r.answer);
      relevance.assess({
        policy: 'related',
        named,
        texts: [r.question, r.answer],
        queries: { vectors, parts: ['question', 'answer'] },
        model: 'embeddinggemma',
      });
      if (k >= 10) times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const row = {
      targets: n,
      rows: embeddings.rows,
      keywordBuildMs: round(keywordBuildMs),
      embedBuildMs: round(embedBuildMs),
      medianMs: round(times[times.length >> 1]!),
      p90Ms: round(times[Math.floor(times.length * 0.9)]!),
      runs: times.length,
    };
    stage.push(row);
    log(`  relevance stage, ${n.toLocaleString('en-US')} targets: median ${row.medianMs} ms (keyword index ${row.keywordBuildMs} ms)`);
  }

  // Embedding 10,000 targets through the scripted server (real HTTP, batches), then from the cache.
  const ollama = await startScriptedOllama({ models: ['llama3.2:latest', { name: 'embeddinggemma:latest', embeddingDims: 768 }] });
  let cacheBuild: RelevanceBenchReport['cacheBuild'];
  try {
    const llm = createOllamaPort({ host: ollama.host });
    const targets = topicTargets(10_000);
    const cache = new MemoryEmbeddingCache();
    let t0 = performance.now();
    await relevanceOf(buildTargetIndex(targets)).prepare(llm, 'embeddinggemma', { cache });
    const ms = performance.now() - t0;
    const requests = ollama.requests.filter((r) => r.path === '/api/embed').length;
    ollama.reset();
    t0 = performance.now();
    await relevanceOf(buildTargetIndex(targets)).prepare(llm, 'embeddinggemma', { cache });
    const rebuildMs = performance.now() - t0;
    cacheBuild = {
      targets: 10_000,
      ms: round(ms),
      requests,
      rebuildMs: round(rebuildMs),
      rebuildRequests: ollama.requests.filter((r) => r.path === '/api/embed').length,
    };
    log(
      `  embedding 10,000 targets through the scripted server: ${cacheBuild.ms} ms in ${requests} requests; from the cache ${cacheBuild.rebuildMs} ms`,
    );
  } finally {
    await ollama.close();
  }

  const at = (n: number) => stage.find((s) => s.targets === n)!;
  const goals = [
    {
      goal: 'relevance stage at 10,000 targets (lexical + keyword + embedding search) < 10 ms median per request',
      pass: at(10_000).medianMs < 10,
      detail: `${at(10_000).medianMs} ms median, ${at(10_000).p90Ms} ms p90 over ${at(10_000).runs} requests (${at(10_000).rows} rows × ${DIMS} dims, 2 query vectors)`,
    },
    {
      goal: 'relevance stage at 100,000 targets < 100 ms median per request',
      pass: at(100_000).medianMs < 100,
      detail: `${at(100_000).medianMs} ms median, ${at(100_000).p90Ms} ms p90 (${at(100_000).rows} rows × ${DIMS} dims)`,
    },
    {
      goal: 'embedding cache for 10,000 targets built through the scripted server, then reused',
      pass: cacheBuild.rebuildRequests === 0,
      detail: `${cacheBuild.ms} ms in ${cacheBuild.requests} /api/embed requests; second build ${cacheBuild.rebuildMs} ms with ${cacheBuild.rebuildRequests} requests`,
    },
  ];
  return { dims: DIMS, stage, cacheBuild, goals };
}

export function formatRelevanceReport(r: RelevanceBenchReport): string {
  const lines = ['', `Relevance stage per request (after the embedding model answered; ${r.dims} dims, exact dot products)`];
  lines.push('  targets     rows   median      p90   keyword index   embed index (in-process vectors)');
  for (const s of r.stage)
    lines.push(
      `  ${s.targets.toLocaleString('en-US').padEnd(9)} ${String(s.rows).padStart(7)} ${`${s.medianMs} ms`.padStart(8)} ${`${s.p90Ms} ms`.padStart(8)} ${`${s.keywordBuildMs} ms`.padStart(15)}   ${s.embedBuildMs} ms`,
    );
  lines.push(
    `Embedding 10,000 targets through the scripted Ollama (HTTP): ${r.cacheBuild.ms} ms in ${r.cacheBuild.requests} requests; again from the cache: ${r.cacheBuild.rebuildMs} ms, ${r.cacheBuild.rebuildRequests} requests`,
  );
  return lines.join('\n') + '\n';
}

function normalise(v: Float32Array): void {
  let n = 0;
  for (const x of v) n += x * x;
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= s;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * `unlearn.parallelCalls: "auto"` in VS Code: one ServerParallelism (core/llm/parallelism.ts) for the
 * extension, its measurements kept in global state so a new window does not measure again while the
 * server runs on. The chat, the guarded models and the preview ask it before each request; the status
 * bar shows what it measured and tells it when the server was unreachable (a restart, perhaps).
 */
import type * as vscode from 'vscode';
import { checkOllamaHost, describeParallelism, ServerParallelism, type LlmPort, type ParallelismRecord } from '../../core/llm';
import { KEEP_ALIVE } from '../../core/pipeline';
import type { UnlearnLog } from '../log';
import type { UnlearnSettings } from './settingsLogic';

const STATE_KEY = 'unlearn.serverParallelism';
/** Measurements older than this are dropped from global state (hosts and models long gone). */
const KEEP_DAYS = 30;

let shared: ServerParallelism | undefined;
const listeners = new Set<() => void>();

/** Sets up the extension's measurements (once, from `activate()`). */
export function registerServerParallelism(context: vscode.ExtensionContext, log: Pick<UnlearnLog, 'info'>): ServerParallelism {
  const instance = new ServerParallelism({
    store: {
      read: () => context.globalState.get<ParallelismRecord[]>(STATE_KEY) ?? [],
      write: async (records) => {
        await context.globalState.update(
          STATE_KEY,
          records.filter((r) => Date.now() - r.measuredAt < KEEP_DAYS * 86_400_000),
        );
      },
    },
    onChange: (record) => {
      if (record)
        log.info(
          `Ollama at ${record.host} runs ${record.atLeast ? 'at least ' : ''}${record.slots} request(s) at once for ${record.model} (measured)`,
        );
      for (const listener of listeners) listener();
    },
  });
  shared = instance;
  // The tooltip shows a measurement kept from an earlier window before this window's first request.
  void instance.preload().then(() => listeners.forEach((listener) => listener()));
  context.subscriptions.push({ dispose: () => (shared === instance ? (shared = undefined) : undefined) });
  return instance;
}

/** Calls `listener` when a measurement changes (the status bar re-renders its tooltip). */
export function onDidMeasure(listener: () => void): vscode.Disposable {
  listeners.add(listener);
  return { dispose: () => listeners.delete(listener) };
}

/**
 * The slots to run a request with: undefined when the setting is a number (the pipeline options carry
 * it), when nothing measures (the pipeline's default), or for a port that is not an Ollama server.
 */
export async function measuredSlots(
  settings: Pick<UnlearnSettings, 'contextLength'> & Partial<Pick<UnlearnSettings, 'parallelCalls'>>,
  llm: LlmPort,
  model: string,
  signal: AbortSignal,
  log: Pick<UnlearnLog, 'info' | 'warn'>,
  onProgress?: (message: string) => void,
): Promise<number | undefined> {
  const cache = shared;
  if (settings.parallelCalls !== 'auto' || !cache || !/^https?:\/\//.test(llm.host)) return undefined;
  if (!cache.known(llm.host, model)) onProgress?.('Measuring how many requests the server runs at once…');
  const resolved = await cache.resolve(llm, {
    model,
    keepAlive: KEEP_ALIVE,
    signal,
    ...(settings.contextLength > 0 ? { numCtx: settings.contextLength } : {}),
  });
  if (resolved.source === 'fallback') log.warn(`parallel calls: ${resolved.reason ?? 'not measured'}; running one call at a time`);
  else if (resolved.source === 'measured' && resolved.reason) log.info(`parallel calls: measured again (${resolved.reason})`);
  return resolved.slots;
}

/** The status tooltip's and `/models`' line: what the server runs at once for `model` at `host` (as the user wrote it). */
export function parallelismLine(settings: Pick<UnlearnSettings, 'parallelCalls'>, host: string, model: string): string {
  if (settings.parallelCalls !== 'auto') return `Model calls at once: ${describeParallelism(undefined, settings.parallelCalls)}`;
  const checked = checkOllamaHost(host);
  const known = checked.ok ? shared?.known(checked.host.url, model) : undefined;
  return `Parallel calls (auto): ${describeParallelism(known)}`;
}

/** The configured server could not be reached: measure again on its next request. */
export function serverUnreachable(host: string): void {
  const checked = checkOllamaHost(host);
  if (checked.ok) shared?.serverUnreachable(checked.host.url);
}

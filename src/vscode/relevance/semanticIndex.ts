import * as vscode from 'vscode';
import { getCachedIndex } from '../../core/guard';
import { isLlmError, type LlmPort } from '../../core/llm';
import { FileEmbeddingCache, relevanceOf, type EmbeddingCache } from '../../core/relevance';
import type { ForgetTarget } from '../../core/targets';
import type { SemanticWiring } from '../chat/guardedAnswer';
import type { UnlearnLog } from '../log';
import { readSettings, SECTION } from '../settings/settings';
import type { EmbeddingStatus } from './relevanceTexts';

/**
 * Above this many texts to embed (a target's text plus its sample questions), the build shows a
 * notification with a bar; below it, a spinner in the status bar is enough.
 */
const LARGE_BUILD_TEXTS = 200;

/** Config changes come in bursts (an import, a settings.json save): build once they settle. */
const SETTLE_MS = 400;

/** What the extension's relevance-by-meaning feature offers the others (the guarded-answer path's wiring, and more). */
export interface SemanticIndex extends SemanticWiring {
  /** Target embeddings on disk in the extension's global storage, shared by every window. */
  readonly cache: EmbeddingCache;
  status(): EmbeddingStatus;
  readonly onDidChange: vscode.Event<EmbeddingStatus>;
  /** Builds (or loads) the embeddings of the current targets now; resolves when done or failed. */
  rebuild(): Promise<void>;
}

export interface SemanticIndexWiring {
  /** The configured Ollama: embeddings always come from it, whichever model answers. */
  readonly ollama: () => LlmPort;
  readonly targets: () => readonly ForgetTarget[];
}

/**
 * The target embeddings of the workspace's forget targets, built ahead of requests in batches (with
 * progress), kept on disk, and rebuilt when `unlearn.targets` or `unlearn.embeddingModel` changes or a
 * model is pulled. A missing or failing model never blocks a request: the pipeline goes on with names
 * and keywords, and the user is told once, with a Pull button.
 */
export function registerSemanticIndex(context: vscode.ExtensionContext, log: UnlearnLog, wiring: SemanticIndexWiring): SemanticIndex {
  const storage = vscode.Uri.joinPath(context.globalStorageUri, 'embeddings');
  const cache = new FileEmbeddingCache(storage.fsPath);
  const changed = new vscode.EventEmitter<EmbeddingStatus>();
  let status: EmbeddingStatus = { kind: 'off' };
  const set = (next: EmbeddingStatus) => {
    status = next;
    changed.fire(next);
  };
  /** Problems already shown, per model and kind: a notification once per window, not per request. */
  const told = new Set<string>();

  const tell = (model: string, message: string, pull: string | undefined) => {
    const key = `${model}\u0000${pull ? 'missing' : 'failing'}`;
    if (told.has(key)) return;
    told.add(key);
    const pullIt = pull ? `Pull ${pull}` : undefined;
    const settings = 'Open Setting';
    const text = pull
      ? `Unlearn: the embedding model ${model} is not installed, so questions that describe a forget target without naming it are caught by keywords only. Run \`ollama pull ${pull}\` or pull it here.`
      : `Unlearn: the embedding model ${model} does not work (${message}); requests go on with names and keywords only.`;
    void vscode.window.showWarningMessage(text, ...(pullIt ? [pullIt] : []), settings).then(async (choice) => {
      if (choice === pullIt && pull) await vscode.commands.executeCommand('unlearn.pullModel', pull);
      else if (choice === settings) await vscode.commands.executeCommand('unlearn.openSetting', `${SECTION}.embeddingModel`);
    });
  };

  let generation = 0;
  let running: Promise<void> = Promise.resolve();
  const rebuild = (): Promise<void> => {
    const mine = ++generation;
    running = build(mine);
    return running;
  };

  const build = async (mine: number): Promise<void> => {
    const model = readSettings().embeddingModel;
    const targets = wiring.targets();
    if (!model) return set({ kind: 'off' });
    if (!targets.length) return set({ kind: 'idle', model });
    let llm: LlmPort;
    try {
      llm = wiring.ollama();
    } catch (error) {
      return set({ kind: 'failing', model, problem: error instanceof Error ? error.message : String(error) });
    }
    const relevance = relevanceOf(getCachedIndex(targets));
    const ready = relevance.embeddingsFor(model);
    if (ready) return set({ kind: 'ready', model, targets: targets.length, rows: ready.rows, dims: ready.dims });
    const texts = targets.reduce((n, t) => n + 1 + Math.min(t.examples?.length ?? 0, 4), 0);
    set({ kind: 'building', model, done: 0, total: texts });
    const started = performance.now();
    try {
      await vscode.workspace.fs.createDirectory(storage);
    } catch (error) {
      // The cache then lives in memory for this window (FileEmbeddingCache falls back); say why in the log.
      log.warn(`embeddings: cannot create ${storage.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      const embeddings = await vscode.window.withProgress(
        {
          location: texts > LARGE_BUILD_TEXTS ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
          title: `Unlearn: embedding ${targets.length} forget ${targets.length === 1 ? 'target' : 'targets'} with ${model}`,
        },
        (progress) => {
          let shown = 0;
          return relevance.prepare(llm, model, {
            cache,
            onProgress: (p) => {
              const percent = p.total ? (100 * p.done) / p.total : 100;
              progress.report({
                message: `${p.done} of ${p.total}${p.cached ? ` (${p.cached} from the cache)` : ''}`,
                increment: percent - shown,
              });
              shown = percent;
              if (mine === generation) set({ kind: 'building', model, done: p.done, total: p.total });
            },
          });
        },
      );
      if (mine !== generation) return;
      log.info(
        `embeddings: ${targets.length} targets (${embeddings.rows} rows, ${embeddings.dims} dims) with ${model} in ${Math.round(performance.now() - started)} ms`,
      );
      set({ kind: 'ready', model, targets: targets.length, rows: embeddings.rows, dims: embeddings.dims });
    } catch (error) {
      if (mine !== generation) return;
      const message = error instanceof Error ? error.message : String(error);
      // An unreachable server is the status bar's news already; a missing or broken model is ours to tell.
      if (isLlmError(error, 'unreachable')) {
        log.warn(`embeddings: Ollama is not reachable; relevance by meaning waits for it`);
        return set({ kind: 'failing', model, problem: message });
      }
      const missing = isLlmError(error, 'model-missing');
      log.warn(`embeddings: ${model} ${missing ? 'is not installed' : `failed: ${message}`}; requests use names and keywords only`);
      set(missing ? { kind: 'missing', model } : { kind: 'failing', model, problem: message });
      tell(model, message, missing ? model : undefined);
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void rebuild(), SETTLE_MS);
  };

  context.subscriptions.push(
    changed,
    { dispose: () => clearTimeout(timer) },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.targets`) || e.affectsConfiguration(`${SECTION}.embeddingModel`)) soon();
      else if (e.affectsConfiguration(`${SECTION}.ollamaHost`)) retry();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => soon()),
  );

  /** A model was pulled or the host changed: a failure remembered by the engine must not wait out its minute. */
  const retry = () => {
    const model = readSettings().embeddingModel;
    if (model) relevanceOf(getCachedIndex(wiring.targets())).retryNow(model);
    soon();
  };
  soon();

  return {
    cache,
    status: () => status,
    onDidChange: changed.event,
    embedder: wiring.ollama,
    // A request embedded fine while the status says the model is missing or failing (pulled in a
    // terminal, Ollama back up): take the built index, so the status bar and /models tell the truth.
    used: (state) => {
      if (state.status === 'ok' && status.kind !== 'ready' && status.kind !== 'building') void rebuild();
    },
    noticed: (event) => tell(event.model, event.message, event.pull),
    rebuild: async () => {
      const model = readSettings().embeddingModel;
      if (model) relevanceOf(getCachedIndex(wiring.targets())).retryNow(model);
      clearTimeout(timer);
      await rebuild();
    },
  };
}

import * as vscode from 'vscode';
import { getCachedIndex, redactMatches, type Redaction } from '../../core/guard';
import { isAbort, type LlmPort } from '../../core/llm';
import { runPipeline } from '../../core/pipeline';
import { withAbortSignal } from '../cancellation';
import { showActionableError } from '../errors/errorPresenter';
import { describeChatError } from '../errors/errorPresenterLogic';
import { rewriteQuestion } from './rewritePrompt';
import type { UnlearnLog } from '../log';
import { forgetOriginals, originalOf } from './originals';
import { PreviewDocStore } from './previewLogic';
import { broughtInBy } from '../relevance/relevanceTexts';
import type { RelevanceExplanation } from '../../core/relevance';
import type { SemanticWiring } from '../chat/guardedAnswer';
import { enabledTargets, readSettings } from '../settings/settings';
import { pipelineOptions } from '../settings/settingsLogic';

export const PREVIEW_SCHEME = 'unlearn-preview';

interface PreviewDoc {
  readonly text: string;
  readonly redactions: readonly Redaction[];
  /** Why relevance sent each target to the agents (an @unlearn answer's), for the hovers. */
  readonly relevance?: RelevanceExplanation;
}

/**
 * Why a span was redacted, for hovers: the target, the reason, and which signal brought the target in
 * (with its score) when relevance said; never the removed text.
 */
function redactionHover(
  r: Pick<Redaction, 'targetName' | 'reason' | 'by'> & Partial<Pick<Redaction, 'targetId'>>,
  relevance?: RelevanceExplanation,
): string {
  const signal = r.targetId === undefined ? undefined : broughtInBy(relevance, r.targetId);
  return `Redacted: ${r.targetName}\nWhy: ${r.reason}\nBy: ${r.by === 'guard' ? 'the leak guard' : 'the agents'}${signal ? `\nBrought in by: ${signal}` : ''}`;
}

/**
 * The redaction preview. A chat answer opens as a read-only virtual document (a content provider's
 * documents cannot be edited) with its markers decorated and a hover per marker. A selection in any
 * editor is run through the guard and shown in place, with Apply / Discard.
 */
export function registerPreview(context: vscode.ExtensionContext, log: UnlearnLog, llm: () => LlmPort, semantic?: SemanticWiring): void {
  const preview = new RedactionPreview(log, llm, semantic);
  context.subscriptions.push(
    preview,
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, preview),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (doc.uri.scheme === PREVIEW_SCHEME) preview.forget(doc.uri);
    }),
    vscode.window.onDidChangeVisibleTextEditors((editors) =>
      editors.filter((e) => e.document.uri.scheme === PREVIEW_SCHEME).forEach((e) => preview.decorateAnswer(e)),
    ),
    // `compare: true` opens the diff with the model's own answer at once instead of offering it.
    vscode.commands.registerCommand('unlearn.preview.answer', (arg?: AnswerPreviewArg) => preview.showAnswer(arg)),
    vscode.commands.registerCommand('unlearn.preview.selection', () => preview.previewSelection()),
    vscode.commands.registerCommand('unlearn.preview.selectionWithAgents', () => preview.rewriteSelection()),
    vscode.commands.registerCommand('unlearn.preview.apply', () => preview.apply()),
    vscode.commands.registerCommand('unlearn.preview.discard', () => preview.clearSelectionPreview()),
    vscode.commands.registerCommand('unlearn.preview.diff', () => preview.diffSelection()),
    vscode.workspace.onDidChangeConfiguration((e) => preview.onConfigurationChanged(e)),
    vscode.workspace.onDidChangeTextDocument((e) => preview.onTextChanged(e)),
  );
}

/** What "Preview Redactions" under an answer passes. */
interface AnswerPreviewArg {
  readonly answer?: string;
  readonly redactions?: readonly Redaction[];
  readonly relevance?: RelevanceExplanation;
  readonly previewId?: string;
  readonly compare?: boolean;
}

/** A selection shown with its redactions pending, until it is applied, discarded or edited. */
interface SelectionPreview {
  readonly editor: vscode.TextEditor;
  readonly version: number;
  readonly range: vscode.Range;
  readonly redacted: string;
  readonly original: string;
}

/**
 * The preview documents' content provider and the selection preview's state, kept the way
 * tree-view-sample keeps its provider: one class with an event emitter for changed documents, and the
 * commands as its methods.
 */
class RedactionPreview implements vscode.TextDocumentContentProvider, vscode.Disposable {
  // An entry lives while its document is open, within a cap; originals go when showOriginal is turned off.
  private readonly docs = new PreviewDocStore<PreviewDoc>();
  private counter = 0;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly marker = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('editorWarning.foreground'),
    borderRadius: '3px',
  });
  private readonly pending = vscode.window.createTextEditorDecorationType({
    textDecoration: 'line-through',
    opacity: '0.6',
    after: { color: new vscode.ThemeColor('editorWarning.foreground'), margin: '0 0 0 4px' },
  });
  private active: SelectionPreview | undefined;

  constructor(
    private readonly log: UnlearnLog,
    private readonly llm: () => LlmPort,
    private readonly semantic?: SemanticWiring,
  ) {}

  dispose(): void {
    this.changed.dispose();
    this.marker.dispose();
    this.pending.dispose();
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return (
      this.docs.get(uri.toString())?.text ??
      'This preview is no longer available (a preview lives while it is open; the original answer only while unlearn.preview.showOriginal is on).'
    );
  }

  forget(uri: vscode.Uri): void {
    this.docs.delete(uri.toString());
  }

  decorateAnswer(editor: vscode.TextEditor): void {
    const doc = this.docs.get(editor.document.uri.toString());
    if (!doc) return;
    editor.setDecorations(
      this.marker,
      doc.redactions.map((r) => ({
        range: new vscode.Range(editor.document.positionAt(r.start), editor.document.positionAt(r.end)),
        hoverMessage: new vscode.MarkdownString().appendText(redactionHover(r, doc.relevance)),
      })),
    );
  }

  async clearSelectionPreview(): Promise<void> {
    this.active?.editor.setDecorations(this.pending, []);
    this.active = undefined;
    await vscode.commands.executeCommand('setContext', 'unlearn.selectionPreviewActive', false);
  }

  async showAnswer(arg?: AnswerPreviewArg): Promise<vscode.Uri | undefined> {
    if (!arg?.answer) {
      void vscode.window.showInformationMessage('Unlearn: use "Preview Redactions" under an @unlearn answer.');
      return;
    }
    const n = ++this.counter;
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/Redacted answer ${n}.md` });
    const answer: PreviewDoc = {
      text: arg.answer,
      redactions: arg.redactions ?? [],
      ...(arg.relevance ? { relevance: arg.relevance } : {}),
    };
    this.docs.set(uri.toString(), answer, 'unlearned');
    const editor = await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    this.decorateAnswer(editor);
    // The model's own answer exists only if showOriginal was on when it was asked, and only while it is
    // on: it is looked up again when the diff opens, in case the setting was turned off meanwhile.
    const kept = () => (readSettings().showOriginal ? originalOf(arg.previewId) : undefined);
    const compareWithOriginal = async () => {
      const original = kept();
      if (original === undefined) {
        void vscode.window.showInformationMessage(
          "Unlearn: the model's answer before unlearning is no longer kept (unlearn.preview.showOriginal is off, or it was one of the oldest).",
        );
        return;
      }
      // The answer's own tab may have been closed (and its text dropped) before the button was pressed.
      if (!this.docs.get(uri.toString())) this.docs.set(uri.toString(), answer, 'unlearned');
      const left = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/Original answer ${n}.md` });
      this.docs.set(left.toString(), { text: original, redactions: [] }, 'original');
      await vscode.commands.executeCommand('vscode.diff', left, uri, 'Unlearn: original ↔ unlearned answer');
    };
    if (kept() !== undefined) {
      if (arg.compare === true) {
        await compareWithOriginal();
      } else {
        const compare = 'Compare with Original';
        void vscode.window
          .showInformationMessage(
            "Unlearn: the model's answer before unlearning is available (unlearn.preview.showOriginal is on).",
            compare,
          )
          .then((choice) => (choice === compare ? compareWithOriginal() : undefined));
      }
    }
    return uri;
  }

  /** The guard alone on the selection: its matches shown in place, nothing sent anywhere. */
  async previewSelection(): Promise<number | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage('Unlearn: select the text to check first.');
      return;
    }
    await this.clearSelectionPreview();
    const range = new vscode.Range(editor.selection.start, editor.selection.end);
    const original = editor.document.getText(range);
    const index = getCachedIndex(enabledTargets());
    const matches = index.find(original);
    this.log.info(`selection preview: ${original.length} characters, ${matches.length} matches`);
    if (!matches.length) {
      // The guard sees names and spellings only; a description ("our Lisbon client") needs the agents.
      const agents = 'Ask the Agents';
      void vscode.window
        .showInformationMessage('Unlearn: no forget target is named in the selection.', agents)
        .then((choice) => (choice === agents ? vscode.commands.executeCommand('unlearn.preview.selectionWithAgents') : undefined));
      return 0;
    }
    const { text: redacted, redactions } = redactMatches(original, matches, index);
    const base = editor.document.offsetAt(range.start);
    editor.setDecorations(
      this.pending,
      matches.map((m, i) => ({
        range: new vscode.Range(editor.document.positionAt(base + m.start), editor.document.positionAt(base + m.end)),
        hoverMessage: new vscode.MarkdownString().appendText(redactionHover(redactions[i]!)),
        renderOptions: { after: { contentText: `[redacted: ${redactions[i]!.targetName}]` } },
      })),
    );
    this.active = { editor, version: editor.document.version, range, redacted, original };
    await vscode.commands.executeCommand('setContext', 'unlearn.selectionPreviewActive', true);
    const buttons = ['Apply', 'Discard', ...(readSettings().showOriginal ? ['Compare'] : []), 'Ask the Agents'];
    // Not awaited: the command finishes once the preview shows; the editor title buttons work as well.
    void vscode.window
      .showInformationMessage(
        `Unlearn would redact ${matches.length} ${matches.length === 1 ? 'place' : 'places'} in the selection.`,
        ...buttons,
      )
      .then((choice) => {
        if (choice === 'Apply') return vscode.commands.executeCommand('unlearn.preview.apply');
        if (choice === 'Discard') return vscode.commands.executeCommand('unlearn.preview.discard');
        if (choice === 'Compare') return vscode.commands.executeCommand('unlearn.preview.diff');
        if (choice === 'Ask the Agents') return vscode.commands.executeCommand('unlearn.preview.selectionWithAgents');
        return undefined;
      });
    return matches.length;
  }

  /** The agents rewrite the selection (for what the guard cannot see, such as a description). */
  async rewriteSelection(): Promise<string | undefined> {
    const editor = this.active?.editor ?? vscode.window.activeTextEditor;
    const range =
      this.active?.range ??
      (editor && !editor.selection.isEmpty ? new vscode.Range(editor.selection.start, editor.selection.end) : undefined);
    if (!editor || !range) {
      void vscode.window.showInformationMessage('Unlearn: select the text to check first.');
      return;
    }
    await this.clearSelectionPreview();
    const original = editor.document.getText(range);
    const version = editor.document.version;
    const settings = readSettings();
    const targets = enabledTargets();
    let result;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Unlearn: rewriting the selection', cancellable: true },
        (progress, token) =>
          withAbortSignal(token, (signal) =>
            runPipeline({
              llm: this.llm(),
              index: getCachedIndex(targets),
              question: rewriteQuestion(original),
              options: pipelineOptions(settings),
              ...(this.semantic ? { embeddingCache: this.semantic.cache } : {}),
              signal,
              onEvent: (e) => {
                if (e.type === 'stage-start') progress.report({ message: e.message });
                if (e.type === 'relevance-notice') this.semantic?.noticed(e);
              },
            }),
          ),
      );
    } catch (error) {
      if (isAbort(error)) return;
      const d = describeChatError(error, settings.host, settings.model);
      this.log.error(`selection rewrite: ${d.code}`);
      await showActionableError(d);
      return;
    }
    this.log.info(`selection rewrite: ${result.outcome}, ${result.redactions.length} redactions, ${Math.round(result.totalMs)} ms`);
    if (result.outcome === 'refused') {
      void vscode.window.showWarningMessage(
        'Unlearn: the agents could not rewrite the selection without the forget targets. Nothing was changed.',
      );
      return;
    }
    // The rewrite is a new text, not spans of the old one: it is shown as its own preview document.
    await vscode.commands.executeCommand('unlearn.preview.answer', {
      answer: result.answer,
      redactions: result.redactions,
      relevance: result.relevance,
    });
    if (editor.document.version !== version) return;
    this.active = { editor, version, range, redacted: result.answer, original };
    await vscode.commands.executeCommand('setContext', 'unlearn.selectionPreviewActive', true);
    void vscode.window
      .showInformationMessage(
        `Unlearn: the agents' rewrite is open beside the editor (${result.redactions.length} ${result.redactions.length === 1 ? 'redaction' : 'redactions'}). Replace the selection with it?`,
        'Apply',
        'Discard',
      )
      .then((choice) => {
        if (choice === 'Apply') return vscode.commands.executeCommand('unlearn.preview.apply');
        if (choice === 'Discard') return vscode.commands.executeCommand('unlearn.preview.discard');
        return undefined;
      });
    return result.outcome;
  }

  async apply(): Promise<boolean> {
    if (!this.active) return false;
    const { editor, version, range, redacted } = this.active;
    if (editor.document.version !== version) {
      await this.clearSelectionPreview();
      void vscode.window.showWarningMessage('Unlearn: the text changed since the preview; run "Preview Redaction of Selection" again.');
      return false;
    }
    const ok = await editor.edit((b) => b.replace(range, redacted));
    await this.clearSelectionPreview();
    return ok;
  }

  async diffSelection(): Promise<void> {
    if (!this.active) return;
    if (!readSettings().showOriginal) {
      void vscode.window.showInformationMessage('Unlearn: turn on "unlearn.preview.showOriginal" to compare with the original text.');
      return;
    }
    const n = ++this.counter;
    const left = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/Original ${n}` });
    const right = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/Redacted ${n}` });
    this.docs.set(left.toString(), { text: this.active.original, redactions: [] }, 'original');
    this.docs.set(right.toString(), { text: this.active.redacted, redactions: [] }, 'unlearned');
    await vscode.commands.executeCommand('vscode.diff', left, right, 'Unlearn: original ↔ redacted');
  }

  // Turning showOriginal off drops every kept original at once, not just hides them: the kept answers,
  // and the text of every original opened in a diff, which an open tab then shows as gone.
  onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration('unlearn.preview.showOriginal') || readSettings().showOriginal) return;
    forgetOriginals();
    const dropped = new Set(this.docs.dropOriginals());
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === PREVIEW_SCHEME && !this.docs.get(doc.uri.toString())) dropped.add(doc.uri.toString());
    }
    for (const key of dropped) this.changed.fire(vscode.Uri.parse(key));
  }

  onTextChanged(e: vscode.TextDocumentChangeEvent): void {
    if (this.active && e.document === this.active.editor.document && e.document.version !== this.active.version)
      void this.clearSelectionPreview();
  }
}

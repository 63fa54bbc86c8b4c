/**
 * What the extension says about relevance, as pure functions (no `vscode`) so node tests cover them:
 * the embedding model's state (status bar, /models), the line an answer carries when meaning was off,
 * /explain's shortlist and the preview's "brought in by" lines.
 *
 * Target names appear here: they are the workspace's own list, shown in the Forget Targets view. Never
 * a description or a sample question (those are the user's to read in the view), never answer text.
 */
import { calibrationSummary, type RelevanceExplanation, type RelevanceSignal } from '../../core/relevance';
import { escapeMarkdown } from '../chat/markdownSanitizer';

/** The embedding model as the extension knows it. */
export type EmbeddingStatus =
  | { readonly kind: 'off' }
  | { readonly kind: 'idle'; readonly model: string }
  | { readonly kind: 'building'; readonly model: string; readonly done: number; readonly total: number }
  | {
      readonly kind: 'ready';
      readonly model: string;
      readonly targets: number;
      readonly rows: number;
      readonly dims: number;
      /** The thresholds' calibration: on how many questions and what they reached, or absent (the shipped numbers). */
      readonly fitted?: { readonly questions: number; readonly recall: number; readonly falseRate: number };
    }
  | { readonly kind: 'missing'; readonly model: string }
  | { readonly kind: 'failing'; readonly model: string; readonly problem: string };

/** One plain-text line: the model and whether it works. */
export function embeddingStatusLine(status: EmbeddingStatus): string {
  switch (status.kind) {
    case 'off':
      return 'Embedding model: none (unlearn.embeddingModel is empty): relevance uses names and keywords only';
    case 'idle':
      return `Embedding model: ${status.model} (no active targets to embed yet)`;
    case 'building':
      return `Embedding model: ${status.model}, embedding the targets (${status.done} of ${status.total})`;
    case 'ready':
      return `Embedding model: ${status.model}, working (${status.targets} ${status.targets === 1 ? 'target' : 'targets'}, ${status.dims} dimensions); ${calibrationSummary(status.fitted)}`;
    case 'missing':
      return `Embedding model: ${status.model} is NOT installed: run \`ollama pull ${status.model}\`; until then names and keywords only`;
    case 'failing':
      return `Embedding model: ${status.model} is not working (${status.problem}); names and keywords only`;
  }
}

/** For /models: the embedding model against the installed list (what Ollama says now, not what we remember). */
export function embeddingModelsMarkdown(status: EmbeddingStatus, installed: readonly { readonly name: string }[]): string {
  if (status.kind === 'off')
    return '_Embedding model: none (`unlearn.embeddingModel` is empty), so relevance uses names and keywords only._';
  const model = status.model;
  const has = isInstalled(model, installed);
  const code = `\`${model.replace(/`/g, '')}\``;
  if (!has)
    return `**Embedding model:** ${code} is **not installed**: questions that describe a target without naming it are caught by keywords only. Run \`ollama pull ${model.replace(/`/g, '')}\` (or use the button).`;
  const state =
    status.kind === 'ready'
      ? `working (${status.targets} ${status.targets === 1 ? 'target' : 'targets'} embedded, ${status.dims} dimensions)`
      : status.kind === 'building'
        ? `installed, embedding the targets (${status.done} of ${status.total})`
        : status.kind === 'failing'
          ? `installed but failing: ${escapeMarkdown(status.problem)}`
          : 'installed';
  return `**Embedding model:** ${code}, ${state}.`;
}

/** Whether Ollama's list holds `model` (`name` and `name:latest` are the same model). */
export function isInstalled(model: string, installed: readonly { readonly name: string }[]): boolean {
  return installed.some((m) => m.name === model || m.name === `${model}:latest` || `${m.name}:latest` === model);
}

/**
 * Said after an answer when meaning was not used for it (once per model and problem, as core reports
 * it). A missing model gets our own words (the server's text is not needed to say "pull it"); another
 * failure quotes core's message, escaped, since it may carry the server's text.
 */
export function relevanceNoticeMarkdown(
  event: { readonly model: string; readonly message: string; readonly pull?: string },
  provider: 'ollama' | 'openai' = 'ollama',
): string {
  if (event.pull) {
    const name = event.pull.replace(/`/g, '');
    // An OpenAI-compatible server pulls nothing: the model has to be served, here or at unlearn.embeddingBaseUrl.
    if (provider === 'openai')
      return `\n\n_Relevance by meaning is off: the server does not serve the embedding model \`${name}\`, so this answer was checked by names and keywords only. Serve it (see \`unlearn.embeddingBaseUrl\`), or set \`unlearn.embeddingModel\` to \`none\`._`;
    return `\n\n_Relevance by meaning is off: the embedding model \`${name}\` is not installed, so this answer was checked by names and keywords only. Run \`ollama pull ${name}\` (or **Unlearn: Pull Model**) to turn it on._`;
  }
  return `\n\n_${escapeMarkdown(event.message.replace(/\.$/, ''))}. Check \`unlearn.embeddingModel\`, or leave it empty to use names and keywords only._`;
}

const SIGNAL_NAME: Record<RelevanceSignal['kind'], string> = { name: 'name', keyword: 'keyword', meaning: 'meaning' };

/** One signal in words: "meaning 0.61 ≥ 0.48 (closest: the question, a sample question)". Our own words and numbers only, so safe as markdown. */
export function signalText(signal: RelevanceSignal): string {
  if (signal.kind === 'name') return 'name (spelled in the request)';
  const score = signal.score === undefined ? '' : ` ${signal.score.toFixed(2)}`;
  const cut = signal.threshold === undefined ? '' : ` ${signal.over ? '≥' : '<'} ${signal.threshold.toFixed(2)}`;
  const sure =
    signal.sure === undefined
      ? ''
      : signal.binding
        ? `, sure band ≥ ${signal.sure.toFixed(2)}: binding`
        : `, sure band ${signal.sure.toFixed(2)}`;
  const where: string[] = [];
  if (signal.part) where.push(`closest: the ${signal.part}`);
  if (signal.example) where.push('a sample question');
  if (signal.kind === 'keyword' && signal.words?.length) where.push(`words: ${signal.words.length}`);
  return `${SIGNAL_NAME[signal.kind]}${score}${cut}${sure}${where.length ? ` (${where.join(', ')})` : ''}`;
}

/**
 * /explain's relevance part: which targets were shortlisted, by which signal, their scores, the
 * thresholds in force and the policy. `question` says whether it explains the last answer or a
 * question given to /explain. Keyword words are counted, not quoted: they are the user's words but
 * may be the answer's too.
 */
export function explainRelevanceMarkdown(x: RelevanceExplanation, subject: 'answer' | 'question'): string {
  const lines: string[] = [];
  const policy = {
    related:
      '`related`: a name, a name part or a score in the sure band erases with no detection call; a score over its threshold asks detection; what is shown is meaning-checked sentence by sentence',
    always: '`always`: every answer is erased against the closest targets (ALU as published), then meaning-checked',
    named: '`named`: only spelled names, aliases and name parts reach the agents',
  }[x.policy];
  lines.push(`**Relevance** for the ${subject === 'answer' ? 'last answer' : 'question'} (audit policy ${policy}).`, '');
  if (!x.shortlist.length) {
    lines.push(
      `No target was shortlisted out of ${x.considered} active: ${subject === 'answer' ? 'the answer came from one model call, checked by the leak guard' : 'this question would be answered in one model call, checked by the leak guard'}.`,
    );
  } else {
    lines.push(
      `Shortlisted ${x.shortlist.length} of ${x.considered} active targets (at most ${x.shortlistSize} besides spelled names):`,
      '',
    );
    x.shortlist.forEach((t, i) => {
      const detected =
        t.detected === undefined
          ? t.binding
            ? ' — **touched** (binding evidence)'
            : ''
          : t.detected || t.binding
            ? ` — **touched** (${t.binding ? 'binding evidence' : 'the agents'})`
            : ' — not touched (the agents)';
      lines.push(`${i + 1}. **${escapeMarkdown(t.name)}**: ${t.signals.map(signalText).join('; ')}${detected}`);
    });
  }
  lines.push('', '**Thresholds in force**', '');
  lines.push(
    `- keyword: ${x.keywordThreshold.toFixed(2)}, sure band ${x.keywordSure.toFixed(2)} (BM25 over descriptions, examples and name parts, rare words weigh more)`,
  );
  lines.push(`- meaning: ${semanticLine(x.semantic)}`);
  if (subject === 'question')
    lines.push('', '_The answer is scored too when you send the question, so a target it brings in would be audited as well._');
  else if (x.detection === 'ran')
    lines.push(
      '',
      'The agents said which shortlisted targets the request touches: the detect agent (a short call on the question or the answer) where the evidence was uncertain, the edit agent while it erased the answer. Neither could clear a target with binding evidence.',
    );
  else if (x.detection === 'skipped')
    lines.push(
      '',
      'The evidence was binding (a name, a name part or a score in the sure band), so the agents erased the answer without a detection call, which could not have overruled it.',
    );
  return lines.join('\n');
}

function semanticLine(s: RelevanceExplanation['semantic']): string {
  const model = s.model ? `\`${s.model.replace(/`/g, '')}\`` : 'none';
  if (s.status === 'ok' && s.calibration) {
    const c = s.calibration;
    const range =
      c.minThreshold === c.maxThreshold ? c.minThreshold.toFixed(2) : `${c.minThreshold.toFixed(2)}–${c.maxThreshold.toFixed(2)}`;
    return `${model} (${c.family}, ${c.dims} dimensions): cosine over a per-target cut-off of ${range} (the highest of the floor ${c.floor.toFixed(2)}, the target's mean similarity to neutral probe questions + ${c.margin.toFixed(2)}, and to the other targets + ${c.margin.toFixed(2)}; with 50 targets or more a hit must also stand out of the request's similarities to all of them); a target over its cut-off is kept when it scores at least ${Math.round(c.relativeToBest * 100)} % of the best one. Thresholds ${c.fitted ? calibrationSummary(c.fitted) : 'not calibrated: the shipped numbers (run **Unlearn: Calibrate Relevance** to measure and fit them on this model)'}`;
  }
  if (s.status === 'ok') return `${model}`;
  if (s.status === 'off') return s.model ? `${model}, not used for this request` : 'off (no embedding model set): names and keywords only';
  if (s.status === 'building')
    return `${model}, still embedding the targets${s.progress ? ` (${s.progress.done} of ${s.progress.total})` : ''}: names and keywords only this time`;
  return `${model} unavailable${s.problem ? ` (${escapeMarkdown(s.problem)})` : ''}${s.pull ? `: run \`ollama pull ${s.pull.replace(/`/g, '')}\`` : ''}; names and keywords only`;
}

/** The preview's line per target: which signal brought it in, with its score. */
export function broughtInBy(x: RelevanceExplanation | undefined, targetId: string): string | undefined {
  const entry = x?.shortlist.find((t) => t.id === targetId);
  if (!entry) return undefined;
  return entry.signals.map(signalText).join('; ');
}

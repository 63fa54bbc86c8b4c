/**
 * What `@unlearn` and the guarded models write around an answer, as pure functions (no `vscode`) so node
 * tests cover them: the broken-targets note, progress lines, the metadata a response remembers and the
 * texts of the slash commands.
 */
import type { PipelineEvent, PipelineResult } from '../../core/pipeline';
import type { Redaction } from '../../core/guard';
import type { RelevanceExplanation } from '../../core/relevance';
import type { ForgetTarget, TargetProblem } from '../../core/targets';
import { escapeMarkdown } from './markdownSanitizer';

/** What of `unlearn.targets` is skipped: entries that fail validation, and settings files whose value is not a list. */
export interface TargetSettingsHealth {
  readonly invalidEntries: number;
  readonly unreadableStores: number;
}

/** Counts, per settings file, the entries with an error (each once) and the values that are not an array. */
export function targetSettingsHealth(
  views: readonly { readonly problems: readonly Pick<TargetProblem, 'index' | 'severity'>[] }[],
): TargetSettingsHealth {
  let invalidEntries = 0;
  let unreadableStores = 0;
  for (const view of views) {
    const errors = view.problems.filter((p) => p.severity === 'error');
    if (errors.some((p) => p.index < 0)) unreadableStores++;
    invalidEntries += new Set(errors.filter((p) => p.index >= 0).map((p) => p.index)).size;
  }
  return { invalidEntries, unreadableStores };
}

/**
 * The one line an answer starts with when part of `unlearn.targets` is skipped, so nobody reads it as
 * guarded against targets that are not; undefined when everything is valid. Markdown, safe as plain text.
 */
export function brokenTargetsNote(health: TargetSettingsHealth): string | undefined {
  const { invalidEntries: n, unreadableStores: files } = health;
  if (!n && !files) return undefined;
  const entries = n === 1 ? '1 entry of `unlearn.targets` is invalid' : `${n} entries of \`unlearn.targets\` are invalid`;
  const notList = `\`unlearn.targets\` is not a list in ${files === 1 ? 'one settings file' : `${files} settings files`}`;
  const what =
    n && files
      ? `${entries} and ${notList}; none of these are guarded`
      : n
        ? `${entries} and not guarded`
        : `${notList}, so nothing in ${files === 1 ? 'it' : 'them'} is guarded`;
  return `⚠ ${what} — see the Forget Targets view`;
}

/** The progress line for a pipeline event, or undefined for events that are not a new stage. */
export function progressMessage(event: PipelineEvent): string | undefined {
  if (event.type !== 'stage-start') return undefined;
  return event.message;
}

/** What a response remembers (ChatResult.metadata), for /explain, followups and the preview. */
export interface AnswerMetadata {
  readonly command?: string;
  /** The guarded answer (markers included; never the removed text). */
  readonly answer?: string;
  readonly outcome?: PipelineResult['outcome'];
  readonly redactions?: readonly Redaction[];
  readonly touched?: readonly { readonly id: string; readonly name: string }[];
  readonly guardActed?: boolean;
  readonly refusalReason?: string;
  readonly errorCode?: string;
  /** Key of the pre-unlearning answer kept in memory (showOriginal only); never the text itself. */
  readonly previewId?: string;
  /** Which targets relevance shortlisted and why (names, signals, scores; no target or answer text), for /explain. */
  readonly relevance?: RelevanceExplanation;
}

export function answerMetadata(result: PipelineResult): AnswerMetadata {
  return {
    answer: result.answer,
    outcome: result.outcome,
    redactions: result.redactions.map((r) => ({ ...r })),
    touched: result.touchedTargets.map((t) => ({ id: t.id, name: t.name })),
    guardActed: result.guardActed,
    ...(result.refusalReason ? { refusalReason: result.refusalReason } : {}),
    ...(result.relevance ? { relevance: result.relevance } : {}),
  };
}

/** /explain: targets and reasons of the last answer, never the removed text. */
export function explainText(meta: AnswerMetadata | undefined): string {
  if (!meta?.outcome) return 'There is no earlier `@unlearn` answer in this conversation to explain yet.';
  const lines: string[] = [];
  const touched = meta.touched ?? [];
  if (meta.outcome === 'vanilla' && !meta.redactions?.length) {
    lines.push(
      "The last answer touched no forget target: it is the model's own answer, checked by the leak guard, which found nothing to remove.",
    );
    return lines.join('\n');
  }
  lines.push(
    touched.length
      ? `The last answer touched ${touched.length === 1 ? 'this target' : 'these targets'}: ${touched.map((t) => `**${escapeMarkdown(t.name)}**`).join(', ')}.`
      : 'The last answer touched no target by name.',
  );
  if (meta.outcome === 'refused') lines.push('', `It was refused${meta.refusalReason ? `: ${escapeMarkdown(meta.refusalReason)}` : '.'}`);
  if (meta.outcome === 'erased') lines.push('', "The agents rewrote it without those targets; the critic's best candidates were merged.");
  const redactions = meta.redactions ?? [];
  if (redactions.length) {
    lines.push('', `${redactions.length} ${redactions.length === 1 ? 'place was' : 'places were'} redacted:`);
    redactions.forEach((r, i) =>
      lines.push(
        `${i + 1}. **${escapeMarkdown(r.targetName)}** — ${escapeMarkdown(r.reason)} (${r.by === 'guard' ? 'leak guard' : 'agents'})`,
      ),
    );
  }
  if (meta.guardActed) lines.push('', 'The leak guard had to mask a spelling the agents let through.');
  lines.push('', '_The removed text itself is never shown here._');
  return lines.join('\n');
}

/** /targets: every target of every store, with its state; problems counted, not printed. */
export function targetsText(
  stores: readonly { readonly label: string; readonly targets: readonly ForgetTarget[]; readonly problems: number }[],
): string {
  const lines: string[] = [];
  const multi = stores.length > 1;
  let total = 0;
  for (const store of stores) {
    if (multi) lines.push(`**${escapeMarkdown(store.label)}**`, '');
    for (const t of store.targets) {
      total++;
      const aliases = t.aliases.length ? ` — also ${t.aliases.map((a) => `"${escapeMarkdown(a)}"`).join(', ')}` : '';
      lines.push(
        `- ${t.enabled ? '$(shield)' : '$(circle-slash)'} **${escapeMarkdown(t.name)}**${t.enabled ? '' : ' _(disabled)_'}${aliases}`,
      );
    }
    if (store.problems)
      lines.push(
        `- $(warning) ${store.problems} malformed ${store.problems === 1 ? 'entry' : 'entries'}, ignored until fixed (see the Forget Targets view)`,
      );
    if (multi) lines.push('');
  }
  if (!total && !stores.some((s) => s.problems))
    return 'No forget targets yet. Add one with `/forget <name>` or in the Forget Targets view.';
  return lines.join('\n');
}

/** /models. */
export function modelsText(
  host: string,
  models: readonly { readonly name: string; readonly sizeBytes?: number; readonly parameterSize?: string }[],
  current: string,
): string {
  if (!models.length)
    return `No models are installed at ${escapeMarkdown(host)}. Pull one with **Unlearn: Pull Model** (for example \`llama3.2\`).`;
  const same = (a: string, b: string) => a === b || a === `${b}:latest` || b === `${a}:latest`;
  const rows = models.map(
    (m) =>
      `- \`${m.name.replace(/`/g, '')}\`${m.parameterSize ? ` — ${escapeMarkdown(m.parameterSize)}` : ''}${m.sizeBytes ? `, ${(m.sizeBytes / 1e9).toFixed(1)} GB` : ''}${same(m.name, current) ? ' **(in use)**' : ''}`,
  );
  return [`Models at ${escapeMarkdown(host)}:`, '', ...rows].join('\n');
}

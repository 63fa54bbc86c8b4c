import type { PullProgress } from '../../core/llm';

/** A pull progress report → the notification's message and the overall percentage when known. */
export function pullProgressText(p: PullProgress): { message: string; percent?: number } {
  if (p.total && p.total > 0 && p.completed !== undefined) {
    const percent = Math.max(0, Math.min(100, (p.completed / p.total) * 100));
    return { message: `${p.status} — ${formatBytes(p.completed)} of ${formatBytes(p.total)} (${Math.floor(percent)}%)`, percent };
  }
  return { message: p.status };
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/**
 * The model's own answers before unlearning, kept only when `unlearn.preview.showOriginal` is on, so
 * the answer preview can offer a diff. In memory only and capped: chat metadata is saved with the chat
 * history on disk, so the text itself must never go there — metadata carries just the key.
 */
const MAX_KEPT = 20;
const kept = new Map<string, string>();
let counter = 0;

export function rememberOriginal(text: string): string {
  const key = `o${++counter}-${Date.now().toString(36)}`;
  kept.set(key, text);
  while (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
  return key;
}

export function originalOf(key: string | undefined): string | undefined {
  return key === undefined ? undefined : kept.get(key);
}

export function forgetOriginals(): void {
  kept.clear();
}

/**
 * The texts behind the preview's virtual documents, by URI. Kept apart from the editor glue so the
 * rules can be unit-tested: an entry lives while its document is open (the caller deletes it on close),
 * the store never holds more than `max` entries (oldest first out), and the entries that hold text from
 * before unlearning — the model's own answer, a selection before redaction — can be dropped at once
 * when `unlearn.preview.showOriginal` is turned off.
 */
export const MAX_PREVIEW_DOCS = 50;

export class PreviewDocStore<T> {
  private readonly entries = new Map<string, { readonly doc: T; readonly original: boolean }>();

  constructor(private readonly max = MAX_PREVIEW_DOCS) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key)?.doc;
  }

  /** Adds or replaces an entry; returns the keys evicted to stay within the cap. */
  set(key: string, doc: T, kind: 'original' | 'unlearned'): string[] {
    this.entries.delete(key);
    this.entries.set(key, { doc, original: kind === 'original' });
    const evicted: string[] = [];
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Removes every entry holding text from before unlearning; returns their keys. */
  dropOriginals(): string[] {
    const dropped = [...this.entries].filter(([, e]) => e.original).map(([key]) => key);
    for (const key of dropped) this.entries.delete(key);
    return dropped;
  }
}

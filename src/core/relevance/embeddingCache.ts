import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFittedThresholds, type FittedThresholds } from './embeddingProfiles';

/**
 * Where target embeddings are kept between runs. A "space" is one model with one way of preparing
 * vectors (prefixes, dims); a key is the hash of the exact text embedded, so an edited description
 * gets a new key (and a new embedding) and an unchanged one is never embedded twice.
 */
export interface EmbeddingCache {
  /** The stored vectors among `keys` (missing keys are simply absent). */
  read(space: string, keys: readonly string[]): Promise<Map<string, Float32Array>>;
  write(space: string, entries: ReadonlyMap<string, Float32Array>): Promise<void>;
  /** Forget every vector of the space whose key is not in `keep` (after a full build: edited texts leave stale ones). */
  retain(space: string, keep: ReadonlySet<string>): Promise<void>;
  /** The thresholds `unlearn calibrate` fitted for this space, if any (a cache without the slot has none). */
  readCalibration?(space: string): Promise<FittedThresholds | undefined>;
  writeCalibration?(space: string, fitted: FittedThresholds): Promise<void>;
}

/** The cache key of a text: 128 bits of SHA-256, hex. */
export function embeddingKey(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Kept for the life of the process: the default when a front end gives no folder. */
export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly spaces = new Map<string, Map<string, Float32Array>>();
  private readonly fits = new Map<string, FittedThresholds>();

  async readCalibration(space: string): Promise<FittedThresholds | undefined> {
    return this.fits.get(space);
  }

  async writeCalibration(space: string, fitted: FittedThresholds): Promise<void> {
    this.fits.set(space, fitted);
  }

  async read(space: string, keys: readonly string[]): Promise<Map<string, Float32Array>> {
    const stored = this.spaces.get(space);
    const found = new Map<string, Float32Array>();
    if (stored) for (const k of keys) if (stored.has(k)) found.set(k, stored.get(k)!);
    return found;
  }

  async write(space: string, entries: ReadonlyMap<string, Float32Array>): Promise<void> {
    let stored = this.spaces.get(space);
    if (!stored) this.spaces.set(space, (stored = new Map()));
    for (const [k, v] of entries) stored.set(k, v);
  }

  async retain(space: string, keep: ReadonlySet<string>): Promise<void> {
    const stored = this.spaces.get(space);
    if (stored) for (const k of [...stored.keys()]) if (!keep.has(k)) stored.delete(k);
  }
}

const MAGIC = Buffer.from('ULEMB1\n\0', 'latin1');
const KEY_BYTES = 16;

/**
 * One binary file per space in a folder: an 8-byte magic, the dimension count (uint32 LE), then
 * records of a 16-byte key and `dims` float32 values. New vectors are appended after each batch, so an
 * interrupted build keeps what it paid for; `retain` rewrites the file (to a temporary name, then
 * renamed) once stale records outnumber live ones. A file that is not ours or was cut short is read up
 * to its last whole record; a folder that cannot be written leaves the cache working in memory.
 */
export class FileEmbeddingCache implements EmbeddingCache {
  private readonly loaded = new Map<string, Promise<{ dims: number; vectors: Map<string, Float32Array> }>>();

  constructor(readonly directory: string) {}

  fileOf(space: string, ext = 'vectors'): string {
    const slug = space.replace(/[^a-zA-Z0-9._-]+/g, '_').slice(0, 60);
    return join(this.directory, `${slug}-${embeddingKey(space).slice(0, 8)}.${ext}`);
  }

  /** The fit lives beside the space's vectors, as `<space>.calibration.json`; read afresh each time (a calibration may have just run). */
  async readCalibration(space: string): Promise<FittedThresholds | undefined> {
    try {
      return parseFittedThresholds(JSON.parse(await readFile(this.fileOf(space, 'calibration.json'), 'utf8')));
    } catch {
      return undefined;
    }
  }

  /** Unlike vectors, a fit that cannot be written is an error the caller reports: the user asked for it to be kept. */
  async writeCalibration(space: string, fitted: FittedThresholds): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const file = this.fileOf(space, 'calibration.json');
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(fitted, null, 2) + '\n');
    await rename(temporary, file);
  }

  async read(space: string, keys: readonly string[]): Promise<Map<string, Float32Array>> {
    const { vectors } = await this.load(space);
    const found = new Map<string, Float32Array>();
    for (const k of keys) {
      const v = vectors.get(k);
      if (v) found.set(k, v);
    }
    return found;
  }

  async write(space: string, entries: ReadonlyMap<string, Float32Array>): Promise<void> {
    if (entries.size === 0) return;
    const state = await this.load(space);
    const dims = [...entries.values()][0]!.length;
    if (state.dims !== dims) {
      // The model now answers with another size: the old vectors are useless.
      state.dims = dims;
      state.vectors.clear();
      for (const [k, v] of entries) state.vectors.set(k, v);
      await this.rewrite(space, state.dims, state.vectors);
      return;
    }
    const parts: Buffer[] = [];
    for (const [k, v] of entries) {
      if (v.length !== dims) continue;
      state.vectors.set(k, v);
      parts.push(Buffer.from(k, 'hex'), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    }
    await this.safely(async () => {
      await mkdir(this.directory, { recursive: true });
      const file = await open(this.fileOf(space), 'a');
      try {
        if ((await file.stat()).size === 0) await file.write(header(dims));
        await file.write(Buffer.concat(parts));
      } finally {
        await file.close();
      }
    });
  }

  async retain(space: string, keep: ReadonlySet<string>): Promise<void> {
    const state = await this.load(space);
    let stale = 0;
    for (const k of state.vectors.keys()) if (!keep.has(k)) stale++;
    if (stale === 0) return;
    for (const k of [...state.vectors.keys()]) if (!keep.has(k)) state.vectors.delete(k);
    if (stale >= state.vectors.size) await this.rewrite(space, state.dims, state.vectors);
  }

  private load(space: string) {
    let p = this.loaded.get(space);
    if (!p) {
      p = this.readFile(space);
      this.loaded.set(space, p);
    }
    return p;
  }

  private async readFile(space: string): Promise<{ dims: number; vectors: Map<string, Float32Array> }> {
    const vectors = new Map<string, Float32Array>();
    let data: Buffer;
    try {
      data = await readFile(this.fileOf(space));
    } catch {
      return { dims: 0, vectors };
    }
    if (data.length < MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return { dims: 0, vectors };
    const dims = data.readUInt32LE(MAGIC.length);
    const record = KEY_BYTES + dims * 4;
    if (dims === 0 || dims > 65_536) return { dims: 0, vectors };
    for (let at = MAGIC.length + 4; at + record <= data.length; at += record) {
      const key = data.subarray(at, at + KEY_BYTES).toString('hex');
      // Copied out: a Float32Array over the file buffer would need 4-byte alignment and pin the whole file.
      const v = new Float32Array(dims);
      for (let i = 0; i < dims; i++) v[i] = data.readFloatLE(at + KEY_BYTES + i * 4);
      vectors.set(key, v);
    }
    return { dims, vectors };
  }

  private async rewrite(space: string, dims: number, vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    const parts: Buffer[] = [header(dims)];
    for (const [k, v] of vectors) parts.push(Buffer.from(k, 'hex'), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    await this.safely(async () => {
      await mkdir(this.directory, { recursive: true });
      const file = this.fileOf(space);
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, Buffer.concat(parts));
      await rename(temporary, file);
    });
  }

  /** The last error writing the folder (a read-only or full disk): shown by front ends; the cache keeps working in memory. */
  writeError: Error | undefined;

  private async safely(work: () => Promise<void>): Promise<void> {
    try {
      await work();
      this.writeError = undefined;
    } catch (error) {
      this.writeError = error instanceof Error ? error : new Error(String(error));
    }
  }
}

function header(dims: number): Buffer {
  const h = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(h);
  h.writeUInt32LE(dims, MAGIC.length);
  return h;
}

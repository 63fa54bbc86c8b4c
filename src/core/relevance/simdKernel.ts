/**
 * The dot products of relevance search as a tiny WebAssembly SIMD kernel (f32x4: four multiply-adds per
 * instruction), assembled here from its opcodes: no toolchain, no binary file, no native module, so it
 * runs wherever Node or VS Code's Electron runs WebAssembly SIMD (Node 16.4+). Where it cannot be
 * compiled the caller keeps its plain TypeScript loop, which gives the same numbers to float rounding.
 *
 * The function, in WebAssembly text:
 *   (func $dot2 (param $m $rows $dims $qa $qb $oa $ob i32) (local $r $i $bytes i32) (local $accA $accB $x v128)
 *     bytes = dims * 4
 *     for r in 0..rows:                       ;; m advances one row per iteration
 *       accA = accB = 0
 *       for i in 0..bytes step 16:
 *         x = load(m + i); accA += x * load(qa + i); accB += x * load(qb + i)
 *       oa[r] = sum of accA's lanes; ob[r] = sum of accB's lanes; m += bytes)
 */
const I32 = 0x7f;
const V128 = 0x7b;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (s: string) => [...leb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

// Opcodes (core and SIMD proposal).
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_GE_U = 0x4f;
const F32_ADD = 0x92;
const f32Store = [0x38, 0x02, 0x00];
const v128Load = [0xfd, 0x00, 0x00, 0x00];
const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const F32X4_ADD = [0xfd, ...leb(0xe4)];
const F32X4_MUL = [0xfd, ...leb(0xe6)];
const lane = (i: number) => [0xfd, 0x1f, i];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const br = (depth: number) => [0x0c, depth];
const brIf = (depth: number) => [0x0d, depth];

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const [m, rows, dims, qa, qb, oa, ob, r, i, bytes, accA, accB, x] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const sumLanes = (acc: number) => [
    ...get(acc),
    ...lane(0),
    ...get(acc),
    ...lane(1),
    F32_ADD,
    ...get(acc),
    ...lane(2),
    F32_ADD,
    ...get(acc),
    ...lane(3),
    F32_ADD,
  ];
  const store = (out: number, acc: number) => [...get(out), ...get(r), ...i32c(4), I32_MUL, I32_ADD, ...sumLanes(acc), ...f32Store];
  const body = [
    ...[0x02, 0x03, I32, 0x03, V128], // locals: 3 × i32, 3 × v128
    ...get(dims),
    ...i32c(4),
    I32_MUL,
    ...set(bytes),
    ...BLOCK,
    ...LOOP,
    ...get(r),
    ...get(rows),
    I32_GE_U,
    ...brIf(1),
    ...v128Zero,
    ...set(accA),
    ...v128Zero,
    ...set(accB),
    ...i32c(0),
    ...set(i),
    ...BLOCK,
    ...LOOP,
    ...get(i),
    ...get(bytes),
    I32_GE_U,
    ...brIf(1),
    ...get(m),
    ...get(i),
    I32_ADD,
    ...v128Load,
    ...set(x),
    ...get(accA),
    ...get(x),
    ...get(qa),
    ...get(i),
    I32_ADD,
    ...v128Load,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(accA),
    ...get(accB),
    ...get(x),
    ...get(qb),
    ...get(i),
    I32_ADD,
    ...v128Load,
    ...F32X4_MUL,
    ...F32X4_ADD,
    ...set(accB),
    ...get(i),
    ...i32c(16),
    I32_ADD,
    ...set(i),
    ...br(0),
    END,
    END,
    ...store(oa, accA),
    ...store(ob, accB),
    ...get(m),
    ...get(bytes),
    I32_ADD,
    ...set(m),
    ...get(r),
    ...i32c(1),
    I32_ADD,
    ...set(r),
    ...br(0),
    END,
    END,
    END,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 7, ...new Array<number>(7).fill(I32), 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name('dot2'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

function compile(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = moduleBytes();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** A matrix of `rows` × `dims` floats in WebAssembly memory, and dot products of every row with two queries. */
export interface SimdKernel {
  /** Write the matrix here once (a view of the kernel's memory). */
  readonly matrix: Float32Array;
  dotPair(a: Float32Array, b: Float32Array, outA: Float32Array, outB: Float32Array): void;
}

/** A kernel for this shape, or undefined where WebAssembly SIMD is unavailable or dims is not a multiple of 4. */
export function createSimdKernel(rows: number, dims: number): SimdKernel | undefined {
  if (dims % 4 !== 0 || rows === 0) return undefined;
  const module = compile();
  if (!module) return undefined;
  const matrixBytes = rows * dims * 4;
  const queryBytes = dims * 4;
  const outBytes = rows * 4;
  const total = matrixBytes + 2 * queryBytes + 2 * outBytes;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    const pages = Math.ceil(total / 65_536);
    if (pages > 1) memory.grow(pages - 1);
  } catch {
    return undefined;
  }
  const memory = instance.exports.memory as WebAssembly.Memory;
  const dot2 = instance.exports.dot2 as (m: number, rows: number, dims: number, qa: number, qb: number, oa: number, ob: number) => void;
  const qa = matrixBytes;
  const qb = qa + queryBytes;
  const oa = qb + queryBytes;
  const ob = oa + outBytes;
  const matrix = new Float32Array(memory.buffer, 0, rows * dims);
  const qaView = new Float32Array(memory.buffer, qa, dims);
  const qbView = new Float32Array(memory.buffer, qb, dims);
  const oaView = new Float32Array(memory.buffer, oa, rows);
  const obView = new Float32Array(memory.buffer, ob, rows);
  return {
    matrix,
    dotPair(a, b, outA, outB) {
      qaView.set(a);
      qbView.set(b);
      dot2(0, rows, dims, qa, qb, oa, ob);
      outA.set(oaView);
      outB.set(obView);
    },
  };
}

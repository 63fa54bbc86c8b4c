/**
 * Aho–Corasick automaton over integer symbols, stored in typed arrays so 100,000 names build in well
 * under a second and a few tens of MB: trie edges live in one open-addressing hash table keyed by
 * (state, symbol), the root has a dense table, and each state has a failure link and a link to the
 * nearest state (itself or a suffix) that ends a pattern.
 */
export class Automaton {
  /** Number of distinct patterns (equal sequences are stored once). */
  readonly patternCount: number;
  private readonly patternLength: Int32Array;
  private readonly fail: Int32Array;
  private readonly output: Int32Array; // pattern ending at the state, or -1
  private readonly dict: Int32Array; // nearest proper suffix state with an output, or 0
  private readonly depth: Uint8Array; // length of the prefix a state stands for (capped at 255)
  private readonly leaf: Uint8Array; // 1 when no pattern continues the state's prefix
  /**
   * Dense edge rows for the root and the shallow states (depth ≤ 3, up to 16,384 rows, when the alphabet is
   * small): most lookups, while scanning and while computing failure links, land there, and a row is one
   * array read instead of a hash probe.
   */
  private readonly dense: Int32Array;
  private readonly denseRow: Int32Array; // row of a state in `dense`, or -1
  private readonly symbolCount: number;
  /** Edge table, three ints per slot (state, symbol, next), so one probe touches one cache line. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly symbols: Map<number, number>;
  private readonly asciiSymbols: Int32Array;

  /**
   * @param codes all patterns back to back (any integers); pattern `i` is `codes[offsets[i], offsets[i + 1])`.
   * @param patternIdOf receives, for each input pattern, the id of its (deduplicated) pattern.
   */
  constructor(codes: Int32Array, offsets: Int32Array, count: number, patternIdOf: Int32Array) {
    // Symbols are the distinct codes that occur in patterns, numbered from 1; 0 means "no edge anywhere".
    this.symbols = new Map();
    this.asciiSymbols = new Int32Array(128);
    const total = offsets[count]! - offsets[0]!;
    {
      for (let i = offsets[0]!; i < offsets[count]!; i++) {
        const c = codes[i]!;
        if (c < 128 ? this.asciiSymbols[c] === 0 : !this.symbols.has(c)) {
          const s = this.symbols.size + 1;
          this.symbols.set(c, s);
          if (c < 128) this.asciiSymbols[c] = s;
        }
      }
    }
    const symbolCount = this.symbols.size + 1;
    this.symbolCount = symbolCount;
    const maxStates = total + 1;
    const rowCap = symbolCount <= 64 ? Math.min(maxStates, 16_384) : 1;
    this.dense = new Int32Array(rowCap * symbolCount);
    const denseRow = new Int32Array(maxStates).fill(-1);
    denseRow[0] = 0;
    this.denseRow = denseRow;
    let rows = 1;
    const depth = new Uint8Array(maxStates);
    let cap = 1;
    while (cap < maxStates * 2) cap <<= 1;
    this.mask = cap - 1;
    this.table = new Int32Array(cap * 3).fill(-1);
    const firstChild = new Int32Array(maxStates).fill(-1);
    const nextSibling = new Int32Array(maxStates).fill(-1);
    const edgeSym = new Int32Array(maxStates);
    const output = new Int32Array(maxStates).fill(-1);
    const lengths: number[] = [];
    let states = 1;

    for (let pi = 0; pi < count; pi++) {
      const from = offsets[pi]!;
      const to = offsets[pi + 1]!;
      let s = 0;
      for (let i = from; i < to; i++) {
        const sym = this.symbolOf(codes[i]!);
        // While building, a deep state's few children are found through its sibling list: cheaper than a
        // hash probe that misses (new paths are mostly fresh states with no children yet).
        let next: number;
        if (denseRow[s]! >= 0) next = this.dense[denseRow[s]! * symbolCount + sym]!;
        else {
          let c = firstChild[s]!;
          while (c !== -1 && edgeSym[c] !== sym) c = nextSibling[c]!;
          next = c === -1 ? 0 : c;
        }
        if (next === 0) {
          next = states++;
          this.setEdge(s, sym, next);
          depth[next] = Math.min(255, depth[s]! + 1);
          if (depth[next]! <= 3 && rows < rowCap) denseRow[next] = rows++;
          edgeSym[next] = sym;
          nextSibling[next] = firstChild[s]!;
          firstChild[s] = next;
        }
        s = next;
      }
      if (output[s] === -1) {
        output[s] = lengths.length;
        lengths.push(to - from);
      }
      patternIdOf[pi] = output[s]!;
    }

    this.patternCount = lengths.length;
    this.patternLength = Int32Array.from(lengths);
    this.output = output.subarray(0, states).slice();
    this.denseRow = denseRow.subarray(0, states).slice();
    this.depth = depth.subarray(0, states).slice();
    this.leaf = new Uint8Array(states);
    for (let st = 0; st < states; st++) this.leaf[st] = firstChild[st] === -1 ? 1 : 0;
    this.fail = new Int32Array(states);
    this.dict = new Int32Array(states);
    // Breadth-first, so a state's failure target is final before its children need it.
    const queue = new Int32Array(states);
    let head = 0;
    let tail = 0;
    for (let c = firstChild[0]!; c !== -1; c = nextSibling[c]!) queue[tail++] = c;
    while (head < tail) {
      const u = queue[head++]!;
      // A dense row becomes a full transition row: a symbol with no edge goes where the failure chain
      // would lead (breadth-first, the failure state's row is complete already), so a scan never walks
      // the chain from a shallow state.
      const row = this.denseRow[u]!;
      if (row >= 0) {
        const base = row * symbolCount;
        for (let sym = 1; sym < symbolCount; sym++) {
          if (this.dense[base + sym] === 0) this.dense[base + sym] = this.transition(this.fail[u]!, sym);
        }
      }
      for (let v = firstChild[u]!; v !== -1; v = nextSibling[v]!) {
        const sym = edgeSym[v]!;
        const target = this.transition(this.fail[u]!, sym);
        this.fail[v] = target;
        this.dict[v] = this.output[target]! >= 0 ? target : this.dict[target]!;
        queue[tail++] = v;
      }
    }
  }

  /** Where `sym` leads from `state`, following failure links (0: the root). */
  private transition(state: number, sym: number): number {
    let next = this.edge(state, sym);
    while (next === 0 && this.denseRow[state]! < 0) {
      state = this.fail[state]!;
      next = this.edge(state, sym);
    }
    return next;
  }

  /** Symbol for a code, or 0 when no pattern contains it. */
  symbolOf(code: number): number {
    return code < 128 ? this.asciiSymbols[code]! : (this.symbols.get(code) ?? 0);
  }

  private slot(state: number, sym: number): number {
    return (Math.imul(state, 0x9e3779b1) ^ Math.imul(sym, 0x85ebca6b)) & this.mask;
  }

  private edge(state: number, sym: number): number {
    const row = this.denseRow[state]!;
    if (row >= 0) return this.dense[row * this.symbolCount + sym]!;
    const table = this.table;
    let i = this.slot(state, sym);
    for (;;) {
      const k = table[i * 3]!;
      if (k === state && table[i * 3 + 1] === sym) return table[i * 3 + 2]!;
      if (k === -1) return 0;
      i = (i + 1) & this.mask;
    }
  }

  private setEdge(state: number, sym: number, next: number): void {
    const row = this.denseRow[state]!;
    if (row >= 0) {
      this.dense[row * this.symbolCount + sym] = next;
      return;
    }
    let i = this.slot(state, sym);
    while (this.table[i * 3] !== -1) i = (i + 1) & this.mask;
    this.table[i * 3] = state;
    this.table[i * 3 + 1] = sym;
    this.table[i * 3 + 2] = next;
  }

  lengthOf(pattern: number): number {
    return this.patternLength[pattern]!;
  }

  /**
   * Runs over `codes[0, length)` and calls `onMatch(pattern, end)` for every occurrence of every
   * pattern (end exclusive), overlaps included. Time is linear in `length` plus the number of matches.
   * Returns the state after the last code: the longest suffix of the input that is a prefix of a pattern.
   */
  scan(codes: Int32Array, length: number, onMatch: (pattern: number, end: number) => void): number {
    return this.run(codes, length, false, onMatch);
  }

  /**
   * Like `scan`, over `codes[0, length)` read from the end backwards: `end` counts codes read, so the
   * match covers `codes[length - end, length - end + patternLength)` read backwards.
   */
  scanBackward(codes: Int32Array, length: number, onMatch: (pattern: number, end: number) => void): number {
    return this.run(codes, length, true, onMatch);
  }

  private run(codes: Int32Array, length: number, backward: boolean, onMatch: (pattern: number, end: number) => void): number {
    let s = 0;
    for (let k = 0; k < length; k++) {
      const sym = this.symbolOf(codes[backward ? length - 1 - k : k]!);
      if (sym === 0) {
        s = 0;
        continue;
      }
      s = this.transition(s, sym);
      if (s === 0) continue;
      let t = this.output[s]! >= 0 ? s : this.dict[s]!;
      while (t !== 0) {
        onMatch(this.output[t]!, k + 1);
        t = this.dict[t]!;
      }
    }
    return s;
  }

  /** How many codes the prefix that `state` stands for has (255 for 255 or more). */
  depthOf(state: number): number {
    return this.depth[state]!;
  }

  /**
   * The depths of every suffix of the input that a state stands for and that more input could still
   * extend into a pattern (a prefix with a continuation; a whole pattern with none is done), longest first
   * (the state itself, then its failure chain); the root (depth 0) is not listed.
   */
  *prefixDepths(state: number): Generator<number> {
    for (let s = state; s !== 0; s = this.fail[s]!) if (!this.leaf[s]) yield this.depth[s]!;
  }

  /** Rough bytes held by the typed arrays, for the benchmark. */
  get byteSize(): number {
    return [this.patternLength, this.fail, this.output, this.dict, this.depth, this.leaf, this.dense, this.denseRow, this.table].reduce(
      (n, a) => n + a.byteLength,
      0,
    );
  }
}

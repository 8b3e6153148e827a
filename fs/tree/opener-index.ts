// Which handle a thread last opened on a node, in shared memory: an fstat(2) reaches the daemon as a
// GETATTR without its file handle (the kernel passes none), from the same thread as the open, and its
// size must be that handle's snapshot's (Node's readFileSync reads no more than st_size).
//
// Open addressing of one probe: entry = [seq, tid, node, gen, index]; writers claim an entry with a
// compare-and-swap on seq (odd while written) and give up rather than wait; readers check seq did not
// move. A miss (a collision, a busy entry, another thread) is answered another way by the caller.

const FIELDS = 5;
const SEQ = 0;
const TID = 1;
const NODE = 2;
const GEN = 3;
const INDEX = 4;
export const DEFAULT_OPENER_ENTRIES = 4096;

function slot(tid: number, node: number, entries: number): number {
  return (Math.imul(tid ^ Math.imul(node, 0x9e3779b1), 0x85ebca6b) >>> 0) % entries;
}

export class OpenerIndex {
  private readonly a: Int32Array;
  private readonly entries: number;

  static create(entries = DEFAULT_OPENER_ENTRIES): SharedArrayBuffer {
    return new SharedArrayBuffer(entries * FIELDS * 4);
  }

  constructor(sab: SharedArrayBuffer) {
    this.a = new Int32Array(sab);
    this.entries = this.a.length / FIELDS;
  }

  /** `tid` opened handle (gen, index) on `node`. */
  note(tid: number, node: number, gen: number, index: number): void {
    const base = slot(tid, node, this.entries) * FIELDS;
    const seq = Atomics.load(this.a, base + SEQ);
    if (seq & 1 || Atomics.compareExchange(this.a, base + SEQ, seq, seq + 1) !== seq) return;
    Atomics.store(this.a, base + TID, tid);
    Atomics.store(this.a, base + NODE, node);
    Atomics.store(this.a, base + GEN, gen);
    Atomics.store(this.a, base + INDEX, index);
    Atomics.store(this.a, base + SEQ, seq + 2);
  }

  /** The (gen, index) `tid` last opened on `node`, if this index still says so. */
  find(tid: number, node: number): { gen: number; index: number } | undefined {
    const base = slot(tid, node, this.entries) * FIELDS;
    const seq = Atomics.load(this.a, base + SEQ);
    if (seq & 1 || seq === 0) return undefined;
    const t = Atomics.load(this.a, base + TID);
    const n = Atomics.load(this.a, base + NODE);
    const gen = Atomics.load(this.a, base + GEN);
    const index = Atomics.load(this.a, base + INDEX);
    if (Atomics.load(this.a, base + SEQ) !== seq || t !== tid || n !== node) return undefined;
    return { gen, index };
  }
}

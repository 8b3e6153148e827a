// Open-file snapshots in shared memory, so a READ can be served by any worker thread.
//
// A handle's content is rendered at OPEN (the first read takes that snapshot) and again at each later
// read at offset 0, and kept in a block of a SharedArrayBuffer; later offsets are sliced from that block
// by whichever worker gets the request.
// Layout (all Int32 unless said):
//   [0]                      handle cursor (rotating start of the free-slot search)
//   [1 .. C]                 unused (were block cursors: blocks are now taken lowest first)
//   handle table, H x 4:     state (0 free, 1 open), generation, block ref (0 none, class<<24 | index+1), length (-1 none)
//   block states per class:  0 free, 1 used
//   data (bytes):            per class, count x size
import { Buffer } from 'node:buffer';
import { OpenerIndex } from './opener-index.js';

export interface SizeClass {
  size: number;
  count: number;
}

export interface HandleStoreShared {
  sab: SharedArrayBuffer;
  handles: number;
  classes: SizeClass[];
  /** which handle each thread last opened on each node (OpenerIndex) */
  openers: SharedArrayBuffer;
}

export const DEFAULT_CLASSES: SizeClass[] = [
  { size: 16 << 10, count: 1024 },
  { size: 256 << 10, count: 64 },
  { size: 4 << 20, count: 8 },
];
export const DEFAULT_HANDLES = 16384;

/** An open handle as one daemon hands it to the next: its number, its snapshot, whether it is fresh. */
export interface KeptHandle {
  fh: bigint;
  content?: Buffer;
  fresh: boolean;
}

/** H_STATE: 0 free, 1 open, 2 open with a snapshot made at open that no read has taken yet */
const H_STATE = 0;
const OPEN = 1;
const FRESH = 2;
const H_GEN = 1;
const H_BLOCK = 2;
const H_LEN = 3;
const H_FIELDS = 4;
const MASK32 = 0xffffffffn;

interface Layout {
  handleBase: number;
  blockStateBase: number[];
  dataBase: number[];
  bytes: number;
}

function layout(handles: number, classes: SizeClass[]): Layout {
  let ints = 1 + classes.length;
  const handleBase = ints;
  ints += handles * H_FIELDS;
  const blockStateBase = classes.map((c) => {
    const base = ints;
    ints += c.count;
    return base;
  });
  let bytes = Math.ceil((ints * 4) / 8) * 8;
  const dataBase = classes.map((c) => {
    const base = bytes;
    bytes += c.size * c.count;
    return base;
  });
  return { handleBase, blockStateBase, dataBase, bytes };
}

export class HandleStore {
  private readonly ints: Int32Array;
  private readonly lay: Layout;
  private readonly handles: number;
  private readonly classes: SizeClass[];

  /** Make the shared memory, once, in the thread that starts the workers. */
  static create(handles = DEFAULT_HANDLES, classes = DEFAULT_CLASSES): HandleStoreShared {
    return { sab: new SharedArrayBuffer(layout(handles, classes).bytes), handles, classes, openers: OpenerIndex.create() };
  }

  private readonly openers: OpenerIndex;

  constructor(readonly shared: HandleStoreShared) {
    this.openers = new OpenerIndex(shared.openers);
    this.handles = shared.handles;
    this.classes = shared.classes;
    this.lay = layout(shared.handles, shared.classes);
    this.ints = new Int32Array(
      shared.sab,
      0,
      this.lay.handleBase + shared.handles * H_FIELDS + shared.classes.reduce((n, c) => n + c.count, 0),
    );
  }

  /** A new handle, or 0n when every slot is taken (reads on it are then rendered each time). */
  open(): bigint {
    for (let tries = 0; tries < this.handles; tries++) {
      const i = (Atomics.add(this.ints, 0, 1) >>> 0) % this.handles;
      const base = this.lay.handleBase + i * H_FIELDS;
      if (Atomics.compareExchange(this.ints, base + H_STATE, 0, 1) === 0) {
        const gen = (Atomics.add(this.ints, base + H_GEN, 1) + 1) & 0x7fffffff;
        Atomics.store(this.ints, base + H_BLOCK, 0);
        Atomics.store(this.ints, base + H_LEN, -1);
        return (BigInt(gen) << 32n) | BigInt(i + 1);
      }
    }
    return 0n;
  }

  /** The table index of a live handle, or -1 (0n, stale, or from another daemon). */
  private index(fh: bigint): number {
    const i = Number(fh & MASK32) - 1;
    if (i < 0 || i >= this.handles) return -1;
    const base = this.lay.handleBase + i * H_FIELDS;
    const state = Atomics.load(this.ints, base + H_STATE);
    if (state !== OPEN && state !== FRESH) return -1;
    if (Atomics.load(this.ints, base + H_GEN) !== Number(fh >> 32n)) return -1;
    return base;
  }

  /**
   * Keep `content` as the handle's snapshot; false when it has none (unknown handle, no room).
   * `fresh`: made at open, for the first read at offset 0 to take (`takeFresh`) instead of rendering.
   */
  store(fh: bigint, content: Buffer, fresh = false): boolean {
    const base = this.index(fh);
    if (base < 0) return false;
    Atomics.store(this.ints, base + H_STATE, fresh ? FRESH : OPEN);
    let ref = Atomics.load(this.ints, base + H_BLOCK);
    if (ref !== 0 && this.classes[ref >>> 24]!.size < content.length) {
      this.freeBlock(ref);
      ref = 0;
    }
    if (ref === 0) ref = this.allocBlock(content.length);
    Atomics.store(this.ints, base + H_BLOCK, ref);
    if (ref === 0) {
      Atomics.store(this.ints, base + H_LEN, -1);
      return false;
    }
    content.copy(this.blockView(ref, content.length));
    Atomics.store(this.ints, base + H_LEN, content.length);
    return true;
  }

  /** True once for a snapshot stored fresh: the first read takes it; later reads at 0 render anew. */
  takeFresh(fh: bigint): boolean {
    const base = this.index(fh);
    return base >= 0 && Atomics.compareExchange(this.ints, base + H_STATE, FRESH, OPEN) === FRESH;
  }

  /** The handle's snapshot (a view into shared memory), or undefined when it has none. */
  load(fh: bigint): Buffer | undefined {
    const base = this.index(fh);
    if (base < 0) return undefined;
    const ref = Atomics.load(this.ints, base + H_BLOCK);
    const len = Atomics.load(this.ints, base + H_LEN);
    return ref === 0 || len < 0 ? undefined : this.blockView(ref, len);
  }

  release(fh: bigint): void {
    const base = this.index(fh);
    if (base < 0) return;
    const ref = Atomics.exchange(this.ints, base + H_BLOCK, 0);
    if (ref !== 0) this.freeBlock(ref);
    Atomics.store(this.ints, base + H_LEN, -1);
    Atomics.store(this.ints, base + H_STATE, 0);
  }

  /** Every open handle with a copy of its snapshot, for the daemon that takes the connection over. */
  kept(): KeptHandle[] {
    const out: KeptHandle[] = [];
    for (let i = 0; i < this.handles; i++) {
      const base = this.lay.handleBase + i * H_FIELDS;
      const state = Atomics.load(this.ints, base + H_STATE);
      if (state !== OPEN && state !== FRESH) continue;
      const fh = (BigInt(Atomics.load(this.ints, base + H_GEN)) << 32n) | BigInt(i + 1);
      const content = this.load(fh);
      out.push({ fh, fresh: state === FRESH, ...(content ? { content: Buffer.from(content) } : {}) });
    }
    return out;
  }

  /**
   * Take a handle another daemon opened, under the same number, so the kernel's later READs and its
   * RELEASE find it. False when the number cannot be had (out of this store's range, or taken).
   */
  adopt(h: KeptHandle): boolean {
    const i = Number(h.fh & MASK32) - 1;
    if (i < 0 || i >= this.handles) return false;
    const base = this.lay.handleBase + i * H_FIELDS;
    if (Atomics.compareExchange(this.ints, base + H_STATE, 0, OPEN) !== 0) return false;
    Atomics.store(this.ints, base + H_GEN, Number(h.fh >> 32n) & 0x7fffffff);
    Atomics.store(this.ints, base + H_BLOCK, 0);
    Atomics.store(this.ints, base + H_LEN, -1);
    if (h.content) this.store(h.fh, h.content, h.fresh);
    return true;
  }

  /** Thread `tid` opened `fh` on `node`: its fstat finds it (openedBy). */
  noteOpener(fh: bigint, tid: number, node: number): void {
    if (fh !== 0n) this.openers.note(tid, node, Number(fh >> 32n), Number(fh & MASK32));
  }

  /** The snapshot of the handle thread `tid` last opened on `node`, while that handle is open. */
  openedBy(tid: number, node: number): Buffer | undefined {
    const found = this.openers.find(tid, node);
    return found ? this.load((BigInt(found.gen) << 32n) | BigInt(found.index)) : undefined;
  }

  /** Handles open and blocks in use, for tests and stats. */
  usage(): { handles: number; blocks: number[] } {
    let handles = 0;
    for (let i = 0; i < this.handles; i++) if (this.ints[this.lay.handleBase + i * H_FIELDS + H_STATE] === 1) handles++;
    const blocks = this.classes.map((c, k) => {
      let n = 0;
      for (let j = 0; j < c.count; j++) if (this.ints[this.lay.blockStateBase[k]! + j] === 1) n++;
      return n;
    });
    return { handles, blocks };
  }

  private allocBlock(len: number): number {
    for (let k = 0; k < this.classes.length; k++) {
      const c = this.classes[k]!;
      if (c.size < len) continue;
      const states = this.lay.blockStateBase[k]!;
      // The lowest free block: pages of the shared memory are committed as they are first written and
      // never given back, so blocks are reused from the start rather than in rotation (which touched
      // every block of the class over time: 16 MiB and more for a daemon with a few handles open).
      for (let j = 0; j < c.count; j++) {
        if (Atomics.load(this.ints, states + j) === 0 && Atomics.compareExchange(this.ints, states + j, 0, 1) === 0)
          return (k << 24) | (j + 1);
      }
    }
    return 0;
  }

  private freeBlock(ref: number): void {
    const k = ref >>> 24;
    Atomics.store(this.ints, this.lay.blockStateBase[k]! + (ref & 0xffffff) - 1, 0);
  }

  private blockView(ref: number, len: number): Buffer {
    const k = ref >>> 24;
    const start = this.lay.dataBase[k]! + ((ref & 0xffffff) - 1) * this.classes[k]!.size;
    return Buffer.from(this.shared.sab, start, len);
  }
}

// Parsers for the formats of cgroup files (v1 and v2): keyed lists, limits, CPU lists, I/O counters.
import { cpuNumbers } from '../../cpu-list.js';
import { ParseError } from './errors.js';

/** v1's "no limit" is PAGE_COUNTER_MAX pages in bytes (9223372036854771712); anything this large is no limit. */
const V1_UNLIMITED = 2 ** 62;

/** A non-negative integer, as a number (exact below 2^53, which any byte or nanosecond count is). */
export function parseCount(text: string, what: string): number {
  const s = text.trim();
  if (!/^[0-9]+$/.test(s)) throw new ParseError(what, text);
  return Number(s);
}

/** A limit: a byte count, or no limit (`max`, v1's huge values, -1) as Infinity. */
export function parseLimit(text: string, what: string): number {
  const s = text.trim();
  if (s === 'max' || s === '-1') return Infinity;
  const n = parseCount(s, what);
  return n >= V1_UNLIMITED ? Infinity : n;
}

/**
 * "key value" lines (memory.stat, cpu.stat, cpuacct.stat, cgroup.stat) into an object. Lines that are
 * not a key and a number are skipped.
 */
export function parseKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const value = +line.slice(sp + 1);
    if (value === value && line.length > sp + 1) out[line.slice(0, sp)] = value;
  }
  return out;
}

/** One key of a keyed file, found without parsing the rest; undefined when it is not there. */
export function keyedValue(text: string, key: string): number | undefined {
  const at = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `) + 1;
  if (at === 0 && !text.startsWith(`${key} `)) return undefined;
  const start = at + key.length + 1;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  const v = +text.slice(start, end);
  return end > start && v === v ? v : undefined;
}

/** Some keys of a keyed file (for a long file of which few lines are wanted). */
export function pickKeyed<K extends string>(text: string, keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) {
    const v = keyedValue(text, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A CPU list such as "0-3,8,10-11" into sorted CPU numbers; "" is the empty list. */
export function parseCpuList(text: string): number[] {
  const cpus = cpuNumbers(text);
  if (!cpus) throw new ParseError('a CPU list', text);
  return cpus;
}

/** v2 cpu.max ("max 100000" or "50000 100000") as CPUs' worth of time: quota / period, Infinity for none. */
export function parseCpuMax(text: string): number {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === 'max') return Infinity;
  const q = parseCount(quota ?? '', 'cpu.max');
  const p = parseCount(period ?? '', 'cpu.max');
  if (p === 0) throw new ParseError('cpu.max', text);
  return q / p;
}

/** Per device "MAJ:MIN", the v2 io.stat counters (v1 blkio counters are translated into these). */
export interface IoCounters {
  rbytes: number;
  wbytes: number;
  rios: number;
  wios: number;
  dbytes: number;
  dios: number;
}

export const emptyIo = (): IoCounters => ({ rbytes: 0, wbytes: 0, rios: 0, wios: 0, dbytes: 0, dios: 0 });

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" per device. */
export function parseIoStat(text: string): Map<string, IoCounters> {
  const out = new Map<string, IoCounters>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const dev = fields[0];
    if (!dev || !/^[0-9]+:[0-9]+$/.test(dev)) continue;
    const c = emptyIo();
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      const key = f.slice(0, eq) as keyof IoCounters;
      if (eq > 0 && key in c) c[key] = Number(f.slice(eq + 1)) || 0;
    }
    out.set(dev, c);
  }
  return out;
}

/**
 * v1 blkio byte and operation counts ("8:0 Read 4096" ... "Total 8192"), both files at once, into
 * v2 io.stat counters.
 */
export function parseBlkio(bytesText: string, iosText: string): Map<string, IoCounters> {
  const out = new Map<string, IoCounters>();
  const add = (text: string, keys: Record<string, keyof IoCounters>) => {
    for (const line of text.split('\n')) {
      const [dev, op, value] = line.trim().split(/\s+/);
      if (!dev || !op || value === undefined || !/^[0-9]+:[0-9]+$/.test(dev)) continue;
      const key = keys[op];
      if (!key) continue;
      let c = out.get(dev);
      if (!c) out.set(dev, (c = emptyIo()));
      c[key] += Number(value) || 0;
    }
  };
  add(bytesText, { Read: 'rbytes', Write: 'wbytes', Discard: 'dbytes' });
  add(iosText, { Read: 'rios', Write: 'wios', Discard: 'dios' });
  return out;
}

/** A list of pids or tids, one a line (cgroup.procs, cgroup.threads, tasks). */
export function parseIdList(text: string): number[] {
  const out: number[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const n = Number(text.slice(start, end));
      if (Number.isInteger(n) && n > 0) out.push(n);
    }
    start = end + 1;
  }
  return out;
}

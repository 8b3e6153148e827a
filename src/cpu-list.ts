// CPU lists as the kernel writes them ("0-3,8,10-11": cpuset.cpus, /sys/devices/system/cpu/online) and
// docker takes them (--cpuset-cpus): the one parser the daemon's drivers and the runner share. A leaf.

/** One part of a list: a CPU or a range, low to high, as written. */
export interface CpuRange {
  lo: number;
  hi: number;
  text: string;
}

/** The longest range taken (a cpuset names at most a few thousand CPUs; more is a typo or an attack). */
const MAX_RANGE = 65536;

/** The parts of a list ("" and whitespace: none), or why it is not a CPU list. */
export function cpuRanges(text: string): CpuRange[] | string {
  const s = text.trim();
  if (s === '') return [];
  const out: CpuRange[] = [];
  for (const raw of s.split(',')) {
    const part = raw.trim();
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part);
    if (!m) return 'wants a CPU list such as 0-2,4';
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return `wants ranges from low to high (${part})`;
    if (hi - lo >= MAX_RANGE) return `a range of more than ${MAX_RANGE} CPUs (${part})`;
    out.push({ lo, hi, text: part });
  }
  return out;
}

/** The CPUs of a list, sorted, each once; undefined if it is not a list. */
export function cpuNumbers(text: string): number[] | undefined {
  const ranges = cpuRanges(text);
  if (typeof ranges === 'string') return undefined;
  const out = new Set<number>();
  for (const r of ranges) for (let c = r.lo; c <= r.hi; c++) out.add(c);
  return [...out].sort((a, b) => a - b);
}

/** CPUs as the kernel lists them: runs as ranges ("0-3,8"). */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

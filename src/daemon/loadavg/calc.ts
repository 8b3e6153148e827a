// The kernel's load average arithmetic (kernel/sched/loadavg.c): fixed point with 11 bits of fraction.

export const FSHIFT = 11;
export const FIXED_1 = 1 << FSHIFT;
/** 1/exp(5s/1min), 1/exp(5s/5min), 1/exp(5s/15min) in fixed point */
export const EXP = [1884, 2014, 2037] as const;
/** the kernel samples every 5 s (LOAD_FREQ) */
export const LOAD_FREQ_MS = 5000;

/** One step of an average towards `active` tasks (a whole number), rounding as the kernel does. */
export function calcLoad(load: number, exp: number, active: number): number {
  const a = active * FIXED_1;
  let next = load * exp + a * (FIXED_1 - exp);
  if (a >= load) next += FIXED_1 - 1;
  return Math.floor(next / FIXED_1);
}

/** The three averages after one sample of `active` runnable or uninterruptible tasks. */
export function stepLoads(avg: readonly [number, number, number], active: number): [number, number, number] {
  return [calcLoad(avg[0], EXP[0], active), calcLoad(avg[1], EXP[1], active), calcLoad(avg[2], EXP[2], active)];
}

/** As /proc/loadavg prints one: "0.37", rounded as the kernel rounds (adding 1/200 first). */
export function formatLoad(load: number): string {
  const x = load + Math.floor(FIXED_1 / 200);
  const int = x >> FSHIFT;
  const frac = ((x & (FIXED_1 - 1)) * 100) >> FSHIFT;
  return `${int}.${String(frac).padStart(2, '0')}`;
}

// Parsers for `tsproc run` flag values: each names the flag and the bad value, exit status 125.
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { cpuRanges, formatCpuList } from '../src/cpu-list.js';
import { TsprocError } from '../src/errors.js';
import type { StorageDriver } from './image/storage-driver.js';

export function badValue(flag: string, value: string, want: string): TsprocError {
  return new TsprocError(`${flag}: ${want}, not ${JSON.stringify(value)}`, { code: 'EINVAL', exitCode: 125 });
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's sizes: a number of bytes, or with b, k, m, g (t) (optionally followed by b: "256mb"). */
export function parseBytes(flag: string, value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw badValue(flag, value, 'wants a size in bytes, or with a unit: 512k, 256m, 1g');
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw badValue(flag, value, 'wants a size that fits in 2^53 bytes');
  return bytes;
}

export function parseCpus(flag: string, value: string, online: number): number {
  if (!/^[0-9]*\.?[0-9]+$/.test(value)) throw badValue(flag, value, 'wants a number of CPUs such as 1.5');
  const cpus = Number(value);
  if (cpus < 0.01 || cpus > online) throw badValue(flag, value, `wants a number of CPUs from 0.01 to ${online} (the CPUs online)`);
  return cpus;
}

/** "0-2,4": every CPU must be online. Returns the list as given, normalised. */
export function parseCpuset(flag: string, value: string, online: number[]): string {
  const ranges = cpuRanges(value);
  if (typeof ranges === 'string') throw badValue(flag, value, ranges);
  if (ranges.length === 0) throw badValue(flag, value, 'wants a CPU list such as 0-2,4');
  for (const r of ranges) {
    for (let c = r.lo; c <= r.hi; c++) {
      if (!online.includes(c)) throw badValue(flag, value, `names CPU ${c}, which is not online (online: ${formatCpuList(online)})`);
    }
  }
  return ranges.map((r) => r.text).join(',');
}

/** Docker's --pids-limit: a positive number, or 0 / -1 for unlimited. */
export function parsePidsLimit(flag: string, value: string): number | 'max' {
  if (!/^-?[0-9]+$/.test(value)) throw badValue(flag, value, 'wants a whole number of processes (-1 for unlimited)');
  const n = Number(value);
  return n <= 0 ? 'max' : n;
}

/** -e K=V (or K alone: taken from our environment, left out when unset, as docker does). */
export function parseEnv(flag: string, value: string, hostEnv: NodeJS.ProcessEnv): string | undefined {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (key === '' || /\s/.test(key)) throw badValue(flag, value, 'wants KEY=VALUE with a non-empty key without spaces');
  if (eq >= 0) return value;
  return hostEnv[key] === undefined ? undefined : `${key}=${hostEnv[key]}`;
}

/** An --env-file's lines: blank lines and # comments skipped, each other line as -e. */
export function parseEnvFile(file: string, text: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const e = parseEnv(`--env-file ${file}, line ${i + 1}`, line, hostEnv);
    if (e !== undefined) out.push(e);
  }
  return out;
}

/** -v SRC:DST[:ro|rw] with absolute paths (named volumes come with images). */
export function parseVolume(flag: string, value: string): { source: string; target: string; readonly: boolean } {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) throw badValue(flag, value, 'wants SRC:DST or SRC:DST:ro');
  const [source, target, mode = 'rw'] = parts as [string, string, string?];
  if (!posix.isAbsolute(source)) throw badValue(flag, value, 'wants an absolute host path as SRC (named volumes are not supported)');
  if (!posix.isAbsolute(target)) throw badValue(flag, value, 'wants an absolute path in the container as DST');
  if (posix.normalize(target) === '/') throw badValue(flag, value, "cannot mount a volume over the container's /");
  if (mode !== 'ro' && mode !== 'rw') throw badValue(flag, value, 'wants ro or rw as its third part');
  return { source: posix.normalize(source), target: posix.normalize(target), readonly: mode === 'ro' };
}

/** --add-host NAME:IP (an IPv6 address may hold colons: split at the first one). */
export function parseAddHost(flag: string, value: string): { name: string; ip: string } {
  const i = value.indexOf(':');
  const name = value.slice(0, i);
  const ip = value.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  if (i <= 0 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(name)) throw badValue(flag, value, 'wants NAME:IP with a host name');
  if (isIP(ip) === 0) throw badValue(flag, value, `wants NAME:IP, and ${JSON.stringify(ip)} is not an IP address`);
  return { name, ip };
}

/** A container name, docker's rule. */
export function checkName(flag: string, value: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value) || value.length > 128) {
    throw badValue(flag, value, 'wants a name of letters, digits, _ . - (starting with a letter or digit)');
  }
  return value;
}

export function checkHostname(flag: string, value: string): string {
  if (value.length > 64 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(value)) {
    throw badValue(flag, value, 'wants a host name of at most 64 letters, digits, dots and dashes');
  }
  return value;
}

/** --cgroup-parent: a relative path below each hierarchy's root, no "..". */
export function checkCgroupParent(flag: string, value: string): string {
  const clean = value.replace(/^\/+|\/+$/g, '');
  if (clean === '' || clean.split('/').some((p) => p === '' || p === '.' || p === '..' || !/^[a-zA-Z0-9_.:@-]+$/.test(p))) {
    throw badValue(flag, value, 'wants a cgroup path such as tsproc or tsproc/web');
  }
  return clean;
}

/** --storage-driver: overlay or vfs; undefined (not given) lets the runner choose. */
export function checkStorageDriver(flag: string, value: string | undefined): StorageDriver | undefined {
  if (value !== undefined && value !== 'overlay' && value !== 'vfs') throw badValue(flag, value, 'wants overlay or vfs');
  return value;
}

// After a daemon stopped or died: the containers' binds of its dead mount, covered by binds of the new
// mount at the same DIR from inside each container's mount namespace (the C helper's `rebind`), so
// they read right again without a restart: tsproc's containers, runc's and Docker's alike.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readMountinfo, type MountEntry } from '../../fs/mountinfo.js';
import { logLine } from '../../fs/log-line.js';
import { SUBTYPE } from './mountpoint.js';
import { endedConnections } from './serving-record.js';

const HELPER = fileURLToPath(new URL('../../../native/build/tsproc-helper', import.meta.url));

/** One mount namespace's dead binds: the processes in it (in /proc's order), and each bind's file and place. */
export interface DeadBinds {
  pids: number[];
  binds: Array<{ file: string; target: string }>;
}

/**
 * How many of a namespace's processes the helper tries to enter through: the first may be gone by
 * then (a shell's short-lived child, first in /proc's order once pids have wrapped around).
 */
const ENTRY_TRIES = 8;

/**
 * The binds of `dead` connections in every mount namespace but ours (DIR itself was just remounted),
 * the topmost mount at each place only (one a previous repair covered is left alone).
 */
export function findDeadBinds(dead: Set<number>, procRoot = '/proc'): DeadBinds[] {
  const ours = safeReadlink(`${procRoot}/self/ns/mnt`);
  /** each namespace seen, with its dead binds if it has any */
  const seen = new Map<string, DeadBinds | undefined>(ours ? [[ours, undefined]] : []);
  const out: DeadBinds[] = [];
  for (const name of safeReaddir(procRoot)) {
    if (!/^[0-9]+$/.test(name)) continue;
    const ns = safeReadlink(`${procRoot}/${name}/ns/mnt`);
    if (!ns) continue;
    if (seen.has(ns)) {
      seen.get(ns)?.pids.push(Number(name));
      continue;
    }
    seen.set(ns, undefined);
    let mounts: MountEntry[];
    try {
      mounts = readMountinfo(`${procRoot}/${name}/mountinfo`);
    } catch {
      seen.delete(ns); // gone: the namespace's next process is read instead
      continue;
    }
    const top = new Map<string, MountEntry>();
    for (const m of mounts) top.set(m.mountpoint, m);
    const binds = [...top.values()]
      .filter((m) => m.fstype === `fuse.${SUBTYPE}` && m.major === 0 && dead.has(m.minor))
      .map((m) => ({ file: m.root, target: m.mountpoint }));
    if (binds.length === 0) continue;
    const found = { pids: [Number(name)], binds };
    seen.set(ns, found);
    out.push(found);
  }
  return out;
}

/** Run the helper for one namespace, entering through its first processes still there; resolves with the targets it could not repair. */
async function rebindNamespace(dir: string, ns: DeadBinds): Promise<string[]> {
  let failed: string[] = [];
  let pid = 0;
  for (pid of ns.pids.slice(0, ENTRY_TRIES)) {
    failed = await rebindThrough(dir, ns, pid);
    if (!failed.some((l) => / open-namespace /.test(l))) break; // gone before the helper opened its namespace: the next
  }
  for (const l of failed) logLine(`repairing binds in the mount namespace of pid ${pid}: ${l}`);
  return failed;
}

function rebindThrough(dir: string, ns: DeadBinds, pid: number): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(HELPER, ['rebind', String(pid)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve(ns.binds.map((b) => `${b.target}: cannot run ${HELPER}`)));
    child.on('close', () => resolve(out.split('\n').filter((l) => l.startsWith('failed ') || l.startsWith('tsproc-helper'))));
    child.stdin!.end(Buffer.concat(ns.binds.flatMap((b) => [Buffer.from(`${dir}${b.file}\0`), Buffer.from(`${b.target}\0`)])));
  });
}

/** Repair every container's binds of the mounts once served at DIR. Returns how many were repaired. */
export async function repairBinds(dir: string, servingDir?: string): Promise<number> {
  const dead = new Set(endedConnections(dir, servingDir));
  if (dead.size === 0) return 0;
  const found = findDeadBinds(dead);
  if (found.length === 0) return 0;
  if (!existsSync(HELPER)) {
    logLine(`${found.reduce((n, f) => n + f.binds.length, 0)} binds of the previous mount at ${dir} are dead and cannot be repaired: the native helper is not built (npm run build needs a C compiler); restart those containers`);
    return 0;
  }
  let repaired = 0;
  for (const ns of found) {
    const failed = await rebindNamespace(dir, ns);
    repaired += ns.binds.length - failed.length;
  }
  logLine(`repaired ${repaired} bind mounts of the previous mount at ${dir} in ${found.length} mount namespaces (containers read from this mount again)`);
  return repaired;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

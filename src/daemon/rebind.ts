// After a daemon stopped or died: the containers' binds of its dead mount, covered by binds of the new
// mount at the same DIR from inside each container's mount namespace (the C helper's `rebind`), so
// they read right again without a restart: tsproc's containers, runc's and Docker's alike.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readMountinfo, type MountEntry } from '../mountinfo.js';
import { logLine } from '../../fs/log-line.js';
import { parseStartTime } from './reader/proc-parse.js';
import { SUBTYPE } from './mountpoint.js';
import { endedConnections } from './serving-record.js';

const HELPER = fileURLToPath(new URL('../../../native/build/tsproc-helper', import.meta.url));

/**
 * One mount namespace's dead binds: its processes, oldest first (a container's init; a reader's
 * short-lived children may be gone by the time the helper looks), and each bind's file and place.
 */
export interface DeadBinds {
  pids: number[];
  binds: Array<{ file: string; target: string }>;
}

/**
 * The binds of `dead` connections in every mount namespace but ours (DIR itself was just remounted),
 * the topmost mount at each place only (one a previous repair covered is left alone).
 */
export function findDeadBinds(dead: Set<number>, procRoot = '/proc'): DeadBinds[] {
  const ours = safeReadlink(`${procRoot}/self/ns/mnt`);
  const members = new Map<string, Array<{ pid: number; start: number }>>();
  for (const name of safeReaddir(procRoot)) {
    if (!/^[0-9]+$/.test(name)) continue;
    const ns = safeReadlink(`${procRoot}/${name}/ns/mnt`);
    if (!ns || ns === ours) continue;
    const start = parseStartTime(safeRead(`${procRoot}/${name}/stat`)) ?? Number.MAX_SAFE_INTEGER;
    const list = members.get(ns) ?? [];
    list.push({ pid: Number(name), start });
    members.set(ns, list);
  }
  const out: DeadBinds[] = [];
  for (const list of members.values()) {
    list.sort((a, b) => a.start - b.start || a.pid - b.pid);
    let mounts: MountEntry[] | undefined;
    for (const m of list) {
      try {
        mounts = readMountinfo(`${procRoot}/${m.pid}/mountinfo`);
        break;
      } catch {
        // gone: the next process of the namespace
      }
    }
    if (!mounts) continue;
    const top = new Map<string, MountEntry>();
    for (const m of mounts) top.set(m.mountpoint, m);
    const binds = [...top.values()]
      .filter((m) => m.fstype === `fuse.${SUBTYPE}` && m.major === 0 && dead.has(m.minor))
      .map((m) => ({ file: m.root, target: m.mountpoint }));
    if (binds.length > 0) out.push({ pids: list.map((m) => m.pid), binds });
  }
  return out;
}

/** Run the helper for the namespace of `pid`; resolves with its lines of failure. */
function rebindVia(dir: string, pid: number, binds: DeadBinds['binds']): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(HELPER, ['rebind', String(pid)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve(binds.map((b) => `failed ${b.target}: cannot run ${HELPER}`)));
    child.on('close', () => resolve(out.split('\n').filter((l) => l.startsWith('failed ') || l.startsWith('tsproc-helper'))));
    child.stdin!.end(Buffer.concat(binds.flatMap((b) => [Buffer.from(`${dir}${b.file}\0`), Buffer.from(`${b.target}\0`)])));
  });
}

/** Repair one namespace through its oldest process still there; resolves with how many binds failed. */
async function rebindNamespace(dir: string, ns: DeadBinds): Promise<number> {
  for (const pid of ns.pids) {
    const failed = await rebindVia(dir, pid, ns.binds);
    // the process ended before the helper entered its namespace: the next one of it
    if (failed.length > 0 && failed.every((l) => / open-namespace 2$/.test(l))) continue;
    for (const l of failed) logLine(`repairing binds in the mount namespace of pid ${pid}: ${l}`);
    return failed.length;
  }
  return ns.binds.length;
}

/**
 * Repair every container's binds of the mounts once served at DIR whose daemon is gone (all of them,
 * or those `only` names). Returns the connections it looked for, and how many binds it repaired.
 */
export async function repairBinds(
  dir: string,
  servingDir?: string,
  only?: (connection: number) => boolean,
): Promise<{ connections: number[]; repaired: number }> {
  const connections = endedConnections(dir, servingDir).filter((c) => !only || only(c));
  const dead = new Set(connections);
  if (dead.size === 0) return { connections, repaired: 0 };
  const found = findDeadBinds(dead);
  if (found.length === 0) return { connections, repaired: 0 };
  if (!existsSync(HELPER)) {
    logLine(
      `${found.reduce((n, f) => n + f.binds.length, 0)} binds of the previous mount at ${dir} are dead and cannot be repaired: the native helper is not built (npm run build needs a C compiler); restart those containers`,
    );
    return { connections, repaired: 0 };
  }
  let repaired = 0;
  for (const ns of found) repaired += ns.binds.length - (await rebindNamespace(dir, ns));
  logLine(
    `repaired ${repaired} bind mounts of the previous mount at ${dir} in ${found.length} mount namespaces (containers read from this mount again)`,
  );
  return { connections, repaired };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

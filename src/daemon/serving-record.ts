// Which process serves which FUSE connection: a small record per live daemon under /run/tsproc, so a
// new `tsproc mount` can tell a stuck daemon (abort it) from a stopped one (leave it to its owner), and
// `tsproc mount --takeover` can find the descriptor to copy and the socket to ask for the hand-over.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseStartTime, parseState } from './reader/proc-parse.js';

export const SERVING_DIR = '/run/tsproc/serving';
const FUSECTL = '/sys/fs/fuse/connections';

export interface ServingRecord {
  /** the supervisor's pid */
  pid: number;
  /** /proc/PID/stat's start time: a pid reused by another process does not match */
  startTime: number;
  /** the connection's number under /sys/fs/fuse/connections */
  connection: number;
  mountpoint: string;
  /** the supervisor's /dev/fuse descriptor (what a takeover copies) */
  fd: number;
  /** its control socket */
  socket: string;
  /** the serving process's pid */
  server: number;
  /** the nodes' time (seconds), kept across reloads and takeovers */
  time: number;
  /** tsproc's version */
  version: string;
  /** the daemon stopped: the record stays, so that the next daemon on the mountpoint finds the binds to repair */
  ended?: boolean;
}

/** What the supervisor says of itself; the pid and start time are added. */
export type ServingFacts = Omit<ServingRecord, 'pid' | 'startTime'>;

/** Each supervisor's own (closing a listening socket unlinks its path: one daemon must not take the next's). */
export function controlSocketPath(connection: number, dir = SERVING_DIR): string {
  return `${dir}/${connection}.${process.pid}.sock`;
}

function recordPath(connection: number, dir: string): string {
  return `${dir}/${connection}.json`;
}

function statOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

function writeRecord(record: ServingRecord, dir: string): void {
  const path = recordPath(record.connection, dir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(`${path}.${process.pid}`, `${JSON.stringify(record)}\n`);
  renameSync(`${path}.${process.pid}`, path);
}

/**
 * Write (or rewrite) this process's record for the connection; returns how to mark it ended (only if
 * still ours: after a takeover the record is the new daemon's).
 */
export function writeServingRecord(facts: ServingFacts, dir = SERVING_DIR): () => void {
  const startTime = parseStartTime(statOf(process.pid) ?? '') ?? 0;
  const record: ServingRecord = { pid: process.pid, startTime, ...facts };
  writeRecord(record, dir);
  return () => {
    if (readServingRecord(record.connection, dir)?.pid === process.pid) writeRecord({ ...record, ended: true }, dir);
  };
}

/**
 * The connections once served at `mountpoint` whose daemon is gone (ended, or killed): their binds in
 * containers are dead. Records of connections the kernel no longer has are removed on the way.
 */
export function endedConnections(mountpoint: string, dir = SERVING_DIR): number[] {
  let all: string[];
  try {
    all = readdirSync(dir);
  } catch {
    return [];
  }
  const names = all.filter((f) => /^[0-9]+\.json$/.test(f));
  const ended: number[] = [];
  // without fusectl mounted nothing tells which connections the kernel still has: keep every record
  const known = existsSync(`${FUSECTL}`) && readdirSync(FUSECTL).length > 0;
  for (const name of names) {
    const connection = Number(name.slice(0, -5));
    if (known && !existsSync(`${FUSECTL}/${connection}`)) {
      rmSync(`${dir}/${name}`, { force: true });
      // and the control sockets a killed supervisor of it left
      for (const f of all) if (f.startsWith(`${connection}.`) && f.endsWith('.sock')) rmSync(`${dir}/${f}`, { force: true });
      continue;
    }
    let record: ServingRecord;
    try {
      record = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')) as ServingRecord;
    } catch {
      continue;
    }
    if (record.mountpoint === mountpoint && readServingRecord(connection, dir) === undefined) ended.push(connection);
  }
  return ended;
}

/** The record of the live process serving the connection, or undefined (none, or its process is gone). */
export function readServingRecord(connection: number, dir = SERVING_DIR): ServingRecord | undefined {
  let record: ServingRecord;
  try {
    record = JSON.parse(readFileSync(recordPath(connection, dir), 'utf8')) as ServingRecord;
  } catch {
    return undefined;
  }
  const stat = statOf(record.pid);
  if (record.ended || !stat || parseStartTime(stat) !== record.startTime || record.connection !== connection) return undefined;
  return record;
}

/** The state letter of a process (T: stopped, t: traced, Z: zombie...), undefined when it is gone. */
export function processState(pid: number): string | undefined {
  const stat = statOf(pid);
  return stat ? parseState(stat) : undefined;
}

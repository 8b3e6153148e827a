// A bare FUSE daemon for fs/ tests: fs/mount.ts's mountFuse and a FuseServer with a test content
// module, in a child process (a server's workers can block; the test must not), taken down at teardown.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { forceUnmount, tempMountpoint } from './daemon.js';

const MOUNT_JS = new URL('../../fs/mount.js', import.meta.url).href;
const SERVER_JS = new URL('../../fs/server.js', import.meta.url).href;

export interface FsDaemon {
  dir: string;
  /** a scratch directory, removed at teardown */
  scratch: string;
  /** what the daemon printed on stderr so far */
  log(): string;
}

/**
 * Mount a tsproc-test FUSE connection served by `threads` workers of the content module `content`
 * (a file URL) with `options(scratch)`; `extra` is more of FuseServer's options, as JavaScript source.
 */
export async function startFsDaemon(
  t: { teardown(fn: () => void): void },
  content: string,
  options: (scratch: string) => Record<string, unknown>,
  threads: number,
  extra = '',
): Promise<FsDaemon> {
  const dir = tempMountpoint();
  const scratch = mkdtempSync('/tmp/tsproc-test-fs-');
  const script = `
    const { mountFuse } = await import(${JSON.stringify(MOUNT_JS)});
    const { FuseServer } = await import(${JSON.stringify(SERVER_JS)});
    const conn = await mountFuse(${JSON.stringify(dir)}, { subtype: 'tsproc-test', fsname: 'tsproc-test' });
    const server = await FuseServer.start({
      fd: conn.fd, spinFd: conn.spinFd, threads: ${threads}, contentModule: ${JSON.stringify(content)},
      contentOptions: ${JSON.stringify(options(scratch))}, ${extra}
    });
    server.open();
    console.log('serving');`;
  let log = '';
  // a file, not --input-type=module -e: the workers would inherit that flag, and refuse their own files
  writeFileSync(`${scratch}/daemon.mjs`, script);
  const daemon = spawn(process.execPath, [`${scratch}/daemon.mjs`], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  t.teardown(() => {
    forceUnmount(dir); // first: aborting the connection ends a reader still waiting
    daemon.kill('SIGKILL');
    if (existsSync(dir)) rmdirSync(dir);
    rmSync(scratch, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    daemon.stdout!.once('data', () => resolve());
    daemon.once('exit', (code) => reject(new Error(`the test daemon exited ${code}: ${log}`)));
  });
  return { dir, scratch, log: () => log };
}

/** A `cat FILE` started: its output once it ends, or undefined if it has not ended within `ms`. */
export function catWithin(file: string, ms: number): { done: Promise<string | undefined>; ended(): boolean } {
  const cat = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let ended = false;
  cat.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    cat.on('close', () => {
      ended = true;
      clearTimeout(timer);
      resolve(out);
    });
  });
  return { done, ended: () => ended };
}

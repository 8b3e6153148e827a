// A worker that dies holding a request (its isolate ended at the heap limit the daemon sets, or a crash)
// is replaced, and the request it held is sent again (FUSE_NOTIFY_RESEND): its reader gets the file, it
// does not wait for ever.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { forceUnmount, mountedAt, tempMountpoint, waitFor } from '../helpers/daemon.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
if (skip) t.plan(0, skip);

const MOUNT_JS = new URL('../../fs/mount.js', import.meta.url).href;
const SERVER_JS = new URL('../../fs/server.js', import.meta.url).href;
const HOG_JS = new URL('../helpers/hog-content.js', import.meta.url).href;

t.test('a worker ended at its heap limit while holding a READ: replaced, and the reader gets its file', async (t) => {
  const dir = tempMountpoint();
  const scratch = mkdtempSync('/tmp/tsproc-test-hog-');
  const marker = `${scratch}/hog-once`;
  writeFileSync(marker, '');
  const script = `
    const { mountFuse } = await import(${JSON.stringify(MOUNT_JS)});
    const { FuseServer } = await import(${JSON.stringify(SERVER_JS)});
    const conn = await mountFuse(${JSON.stringify(dir)}, { subtype: 'tsproc-test', fsname: 'tsproc-test' });
    const server = await FuseServer.start({
      fd: conn.fd, threads: 2, contentModule: ${JSON.stringify(HOG_JS)}, contentOptions: { marker: ${JSON.stringify(marker)} },
      resourceLimits: { maxOldGenerationSizeMb: 16 },
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
  t.ok(mountedAt(dir), 'mounted');
  // open() renders: the OPEN is the request the worker dies holding
  const first = await readWithin(`${dir}/hog`, 60_000);
  t.notOk(existsSync(marker), 'the render that exhausts the heap ran');
  t.equal(
    first,
    'fine\n',
    `cat read the file, served again by the new worker (undefined: it waited for the request the dead worker held); ${log}`,
  );
  await waitFor(
    () => /worker \d+ stopped: .*(ERR_WORKER_OUT_OF_MEMORY|out of memory)/i.test(log),
    'the log names the ended worker',
    30_000,
  );
  t.equal(await readWithin(`${dir}/hog`, 30_000), 'fine\n', 'the mount goes on serving');
});

/**
 * `cat FILE`'s output, or undefined if it has not ended within `ms` (a reader whose request was taken and
 * never answered cannot be killed until the connection is aborted: the teardown aborts it, and the cat ends).
 */
function readWithin(file: string, ms: number): Promise<string | undefined> {
  const cat = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  cat.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    cat.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

// A worker that dies holding a request (its isolate ended at the heap limit the daemon sets, or a crash)
// is replaced, and the request it held is sent again (FUSE_NOTIFY_RESEND): its reader gets the file, it
// does not wait for ever.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { mountedAt, waitFor } from '../helpers/daemon.js';
import { catWithin, startFsDaemon } from '../helpers/fs-daemon.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
if (skip) t.plan(0, skip);

const HOG_JS = new URL('../helpers/hog-content.js', import.meta.url).href;

t.test('a worker ended at its heap limit while holding a READ: replaced, and the reader gets its file', async (t) => {
  const d = await startFsDaemon(
    t,
    HOG_JS,
    (scratch) => ({ marker: `${scratch}/hog-once` }),
    2,
    'resourceLimits: { maxOldGenerationSizeMb: 16 },',
  );
  const marker = `${d.scratch}/hog-once`;
  writeFileSync(marker, '');
  t.ok(mountedAt(d.dir), 'mounted');
  // open() renders: the OPEN is the request the worker dies holding (a reader whose request was taken and
  // never answered cannot be killed until the connection is aborted: the teardown aborts it, and the cat ends)
  const first = await catWithin(`${d.dir}/hog`, 60_000).done;
  t.notOk(existsSync(marker), 'the render that exhausts the heap ran');
  t.equal(
    first,
    'fine\n',
    `cat read the file, served again by the new worker (undefined: it waited for the request the dead worker held); ${d.log()}`,
  );
  await waitFor(
    () => /worker \d+ stopped: .*(ERR_WORKER_OUT_OF_MEMORY|out of memory)/i.test(d.log()),
    'the log names the ended worker',
    30_000,
  );
  t.equal(await catWithin(`${d.dir}/hog`, 30_000).done, 'fine\n', 'the mount goes on serving');
});

// One poller at a time reads /dev/fuse (fs/poller.ts): a render stuck on the kernel must not stall the
// other readers. The stuck worker says nothing (no `slow` hook): the watchdog hands its turn on, and
// another worker serves meanwhile.
import t from 'tap';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { waitFor } from '../helpers/daemon.js';
import { catWithin, startFsDaemon } from '../helpers/fs-daemon.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
if (skip) t.plan(0, skip);

const SLOW_JS = new URL('../helpers/slow-content.js', import.meta.url).href;

t.test('a reader stuck in a render: the others are served meanwhile; it gets its file once the render ends', async (t) => {
  const options = (scratch: string) => ({ marker: `${scratch}/hold`, started: `${scratch}/started` });
  const d = await startFsDaemon(t, SLOW_JS, options, 2);
  const { marker, started } = options(d.scratch);
  writeFileSync(marker, '');
  const stuck = catWithin(`${d.dir}/slow`, 90_000);
  await waitFor(() => existsSync(started), 'the slow render began', 30_000);
  for (let i = 0; i < 5; i++) {
    t.equal(await catWithin(`${d.dir}/fast`, 30_000).done, 'fast\n', `read ${i + 1} of another file served`);
  }
  t.notOk(stuck.ended(), 'all while the slow render was still stuck');
  rmSync(marker);
  t.equal(await stuck.done, 'slow\n', 'the stuck reader got its file');
  t.equal(await catWithin(`${d.dir}/fast`, 30_000).done, 'fast\n', 'and the mount serves as before');
});

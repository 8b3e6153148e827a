// --lxcfs: refuse, before anything is created, unless a live lxcfs-compatible mount serves every file.
import { stat } from 'node:fs/promises';
import { probeMount } from '../src/mount-probe.js';
import { TsprocError } from '../src/errors.js';
import { SERVED_PATHS } from '../src/served-files.js';

const fail = (message: string, code: string, path: string) => new TsprocError(`--lxcfs: ${message}`, { code, path, exitCode: 125 });

export async function checkLxcfs(root: string, timeoutMs = 2000): Promise<void> {
  const m = await probeMount(root, timeoutMs);
  if (m.state === 'none')
    throw fail(`nothing is mounted at ${root} (start \`tsproc mount ${root}\`, or lxcfs, there first)`, 'ENOENT', root);
  if (m.state === 'dead') throw fail(`the mount at ${root} is dead: its daemon is gone (ENOTCONN)`, 'ENOTCONN', root);
  if (m.state === 'stuck') throw fail(`the mount at ${root} does not answer (its daemon is stuck)`, 'ETIMEDOUT', root);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(fail(`the mount at ${root} does not answer`, 'ETIMEDOUT', root)), timeoutMs)),
  );
  try {
    await Promise.race([
      Promise.all(
        SERVED_PATHS.map((f) =>
          stat(`${root}/${f}`).then(
            (st) => {
              if (!st.isFile())
                throw fail(`${root}/${f} is not a file: ${root} is not an lxcfs-compatible mount`, 'EINVAL', `${root}/${f}`);
            },
            () => {
              throw fail(`${root} has no ${f}: not an lxcfs-compatible mount (${m.entry.fstype})`, 'ENOENT', `${root}/${f}`);
            },
          ),
        ),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

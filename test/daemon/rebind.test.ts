// Which mount namespaces hold binds of a dead connection, and through which processes the helper may
// enter each: all of a namespace's processes, so that one gone by then (a shell's short-lived child,
// listed first once pids wrap around) is not the only way in. A fixture /proc:
//
//   proc/self/ns/mnt -> mnt:[1]                      the daemon's own namespace: skipped
//   proc/3/  ns/mnt -> mnt:[1]                       the daemon's namespace again
//   proc/5/  ns/mnt -> mnt:[2], no mountinfo         a `head` that exited between readdir and read
//   proc/7/  ns/mnt -> mnt:[2], mountinfo: meminfo and stat bound from connection 77 (dead), a tmpfs
//   proc/9/  ns/mnt -> mnt:[2], the same mountinfo     the container's init
//   proc/11/ ns/mnt -> mnt:[3], mountinfo: meminfo from connection 78 (live), covered by 77's
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { findDeadBinds } from '../../src/daemon/rebind.js';

const bind = (id: number, minor: number, file: string) => `${id} 1 0:${minor} ${file} ${file} ro,relatime - fuse.tsproc tsproc ro,user_id=0,group_id=0,allow_other`;

t.test("a namespace's dead binds, with every process of it to enter through", async (t) => {
  const proc = mkdtempSync('/tmp/tsproc-test-proc-');
  t.teardown(() => rmSync(proc, { recursive: true, force: true }));
  const pid = (name: string, ns: number, mountinfo?: string[]) => {
    mkdirSync(`${proc}/${name}/ns`, { recursive: true });
    symlinkSync(`mnt:[${ns}]`, `${proc}/${name}/ns/mnt`);
    if (mountinfo) writeFileSync(`${proc}/${name}/mountinfo`, `${mountinfo.join('\n')}\n`);
  };
  pid('self', 1);
  pid('3', 1, [bind(30, 77, '/proc/meminfo')]);
  pid('5', 2);
  const container = ['20 1 0:40 / / rw - tmpfs tmpfs rw', bind(21, 77, '/proc/meminfo'), bind(22, 77, '/proc/stat')];
  pid('7', 2, container);
  pid('9', 2, container);
  pid('11', 3, [bind(31, 78, '/proc/meminfo'), bind(32, 77, '/proc/meminfo')]);
  // (a directory lists in no set order: the pids are compared sorted)
  const found = findDeadBinds(new Set([77]), proc)
    .map((f) => ({ ...f, pids: f.pids.sort((a, b) => a - b) }))
    .sort((a, b) => a.pids[0]! - b.pids[0]!);
  t.same(found, [
    { pids: [7, 9], binds: [{ file: '/proc/meminfo', target: '/proc/meminfo' }, { file: '/proc/stat', target: '/proc/stat' }] },
    { pids: [11], binds: [{ file: '/proc/meminfo', target: '/proc/meminfo' }] },
  ]);
});

// Which binds of a dead mount the repair finds: per mount namespace (not ours), the topmost mount at
// each place only, through the namespace's oldest process. A fixture /proc drawn below:
//
//   self         ns mnt:[1]                       (the daemon's own: skipped)
//   100, 101     ns mnt:[2]  100 started later     /proc/meminfo: dead 0:5, then a repair's 0:7 on top
//                                                  /proc/stat:    dead 0:5 (topmost)
//   200          ns mnt:[3]                       /proc/uptime: live 0:9; /sys/.../online: dead 0:6
//   300          ns mnt:[4]                       a dead 0:5 bind of another fs type (ignored)
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { findDeadBinds } from '../../src/daemon/rebind.js';

const line = (id: number, minor: number, root: string, at: string, fstype = 'fuse.tsproc') =>
  `${id} 1 0:${minor} ${root} ${at} ro,nosuid - ${fstype} tsproc ro`;

function fixture(): string {
  const proc = mkdtempSync('/tmp/tsproc-test-rebind-');
  const pid = (name: string, ns: string, start: number, mounts: string[]) => {
    mkdirSync(`${proc}/${name}/ns`, { recursive: true });
    symlinkSync(ns, `${proc}/${name}/ns/mnt`);
    writeFileSync(`${proc}/${name}/stat`, `${name} (sh) S ${'0 '.repeat(18)}${start} 0 0\n`);
    writeFileSync(`${proc}/${name}/mountinfo`, `${['1 0 8:1 / / rw - ext4 /dev/vda rw', ...mounts].join('\n')}\n`);
  };
  pid('self', 'mnt:[1]', 1, [line(9, 5, '/proc/meminfo', '/host/meminfo')]);
  pid('100', 'mnt:[2]', 500, [
    line(10, 5, '/proc/meminfo', '/proc/meminfo'),
    line(11, 5, '/proc/stat', '/proc/stat'),
    line(12, 7, '/proc/meminfo', '/proc/meminfo'),
  ]);
  pid('101', 'mnt:[2]', 100, [
    line(10, 5, '/proc/meminfo', '/proc/meminfo'),
    line(11, 5, '/proc/stat', '/proc/stat'),
    line(12, 7, '/proc/meminfo', '/proc/meminfo'),
  ]);
  pid('200', 'mnt:[3]', 300, [
    line(20, 9, '/proc/uptime', '/proc/uptime'),
    line(21, 6, '/sys/devices/system/cpu/online', '/sys/devices/system/cpu/online'),
  ]);
  pid('300', 'mnt:[4]', 300, [line(30, 5, '/proc/meminfo', '/proc/meminfo', 'fuse.lxcfs')]);
  return proc;
}

t.test('the topmost dead binds of each other namespace, its processes oldest first', async (t) => {
  const proc = fixture();
  t.teardown(() => rmSync(proc, { recursive: true, force: true }));
  const found = findDeadBinds(new Set([5, 6]), proc).sort((a, b) => a.pids[0]! - b.pids[0]!);
  t.same(found, [
    { pids: [101, 100], binds: [{ file: '/proc/stat', target: '/proc/stat' }] },
    { pids: [200], binds: [{ file: '/sys/devices/system/cpu/online', target: '/sys/devices/system/cpu/online' }] },
  ]);
  t.same(findDeadBinds(new Set([42]), proc), [], 'no dead connection there: nothing');
});

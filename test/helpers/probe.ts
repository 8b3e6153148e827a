// A process to run inside a test container: reads files, allocates memory, burns CPU, on request.
// One JSON command a line on stdin, one JSON answer a line on stdout.
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const held: Buffer[] = [];

type Command =
  | { op: 'read'; path: string }
  | { op: 'child-read'; path: string }
  | { op: 'alloc'; mib: number }
  | { op: 'free' }
  | { op: 'burn'; ms: number }
  | { op: 'write'; path: string; mib: number }
  | { op: 'time-reads'; path: string; n: number }
  | { op: 'run'; cmd: string; args: string[] }
  | { op: 'pid' };

function run(c: Command): unknown {
  switch (c.op) {
    case 'read':
      return { text: readFileSync(c.path, 'latin1') };
    case 'child-read': {
      // A reader that is a child of the init, not the init itself.
      const r = spawnSync('cat', [c.path], { encoding: 'latin1' });
      return { text: r.stdout, status: r.status, pid: r.pid };
    }
    case 'alloc': {
      const b = Buffer.alloc(c.mib * 2 ** 20);
      for (let i = 0; i < b.length; i += 4096) b[i] = 1;
      held.push(b);
      return { held: held.length };
    }
    case 'free':
      held.length = 0;
      return {};
    case 'burn': {
      const end = Date.now() + c.ms;
      let x = 0;
      while (Date.now() < end) x++;
      return { x };
    }
    case 'write': {
      const fd = openSync(c.path, 'w');
      const chunk = Buffer.alloc(2 ** 20, 7);
      for (let i = 0; i < c.mib; i++) writeSync(fd, chunk);
      fsyncSync(fd);
      closeSync(fd);
      rmSync(c.path);
      return {};
    }
    case 'time-reads': {
      // open + read to EOF + close, n times; microseconds each (after two reads of a kernel file, so
      // that the first timed read does not pay for this process's own first call).
      readFileSync('/proc/self/stat');
      readFileSync('/proc/self/stat');
      const us: number[] = [];
      for (let i = 0; i < c.n; i++) {
        const start = process.hrtime.bigint();
        readFileSync(c.path);
        us.push(Number(process.hrtime.bigint() - start) / 1000);
      }
      return { us };
    }
    case 'run': {
      // a command run by the init, in its cgroup (dd with O_DIRECT, for I/O the cgroup is charged for)
      const r = spawnSync(c.cmd, c.args, { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }
    case 'pid':
      return { pid: process.pid };
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let answer: unknown;
  try {
    answer = run(JSON.parse(line) as Command);
  } catch (err) {
    answer = { error: String((err as Error).message) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
process.stdout.write('{"ready":true}\n');

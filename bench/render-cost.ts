// What one render costs inside the daemon, FUSE aside: microseconds and syscalls per view, for a host
// reader and a container reader, and the first read of a new container against later ones.
// Run by hand as root: node dist/bench/render-cost.js [--iterations N]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createDriver } from '../src/daemon/cgroup/create-driver.js';
import { hostLayout } from '../src/cgroup-layout.js';
import { ViewContent } from '../src/daemon/content.js';
import { DescriptorCache } from '../src/daemon/io/file-source.js';
import { LoadSampler } from '../src/daemon/loadavg/sampler.js';
import { LoadTable } from '../src/daemon/loadavg/table.js';
import { VIEWS } from '../src/daemon/views/registry.js';
import { makeCgroup, type TestCgroup } from '../test/helpers/container.js';

const i = process.argv.indexOf('--iterations');
const ITER = i >= 0 ? Number(process.argv[i + 1]) : 3000;
const MiB = 2 ** 20;

/** `sleep` as the init of a new pid namespace in the cgroup; its host pid. */
async function container(cg: TestCgroup): Promise<{ pid: number; proc: ChildProcess }> {
  const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
  const proc = spawn('sh', ['-c', `${join} && exec unshare --pid --fork --kill-child sleep 600`], { stdio: 'ignore' });
  for (let n = 0; n < 200; n++) {
    const f = `/proc/${proc.pid}/task/${proc.pid}/children`;
    const kids = existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
    if (kids && readFileSync(`/proc/${proc.pid}/comm`, 'utf8').trim() === 'unshare') return { pid: Number(kids.split(' ')[0]), proc };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the container did not start');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (makes cgroups and pid namespaces)');
  const layout = hostLayout();
  const table = LoadTable.create();
  const files = new DescriptorCache();
  const sampler = new LoadSampler({ table, files, driver: createDriver({ files, layout }) });
  // settlingMs 0: the steady state, not a container's first seconds (settings read at every render)
  const content = new ViewContent({ layout, settlingMs: 0 }, { loadavg: table }, (m) => sampler.handle(m));
  // Every render as from a new process (cat): the reader's namespace link read and its container checked.
  const fresh = new ViewContent({ layout, pidCacheMs: 0, settlingMs: 0 }, { loadavg: table }, (m) => sampler.handle(m));
  const cgroups: TestCgroup[] = [];
  const procs: ChildProcess[] = [];
  try {
    const cg = makeCgroup(`views-bench-${process.pid}`, { memory: 512 * MiB, cpus: '0', quota: 0.5 });
    cgroups.push(cg);
    const ctr = await container(cg);
    procs.push(ctr.proc);
    console.log(`render cost in the daemon (no FUSE), mean of ${ITER} renders; cgroup ${layout.kind}`);
    console.log('cpu: CPU time of the render (user + system; what a loaded machine inflates least), wall: elapsed, sys: syscalls');
    console.log('new reader: the same for a process not seen before (as each cat is): its namespace and container checked');
    console.log(
      `${'view'.padEnd(12)}${'host cpu'.padStart(10)}${'wall'.padStart(8)}${'sys'.padStart(5)}${'container cpu'.padStart(15)}${'wall'.padStart(8)}${'sys'.padStart(5)}${'new reader: host cpu'.padStart(22)}${'sys'.padStart(5)}${'container cpu'.padStart(15)}${'sys'.padStart(5)}`,
    );
    for (const view of VIEWS) {
      const cost = (on: ViewContent, pid: number) => {
        for (let n = 0; n < 200; n++) on.render(view, pid);
        const sys0 = on.files.syscalls + on.resolver.syscalls;
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        for (let n = 0; n < ITER; n++) on.render(view, pid);
        const wall = Number(process.hrtime.bigint() - t0) / ITER / 1000;
        const c = process.cpuUsage(c0);
        return [(c.user + c.system) / ITER, wall, (on.files.syscalls + on.resolver.syscalls - sys0) / ITER];
      };
      const h = cost(content, process.pid);
      const c = cost(content, ctr.pid);
      const nh = cost(fresh, process.pid);
      const nc = cost(fresh, ctr.pid);
      const f = (x: number | undefined, w: number) => x!.toFixed(1).padStart(w);
      console.log(
        `${view.name.padEnd(12)}${f(h[0], 10)}${f(h[1], 8)}${f(h[2], 5)}${f(c[0], 15)}${f(c[1], 8)}${f(c[2], 5)}${f(nh[0], 22)}${f(nh[2], 5)}${f(nc[0], 15)}${f(nc[2], 5)}`,
      );
    }
    // New containers: the first render (the reader resolved, the cgroup files opened) against the second.
    const meminfo = VIEWS.find((v) => v.name === 'meminfo')!;
    const firsts: number[] = [];
    const seconds: number[] = [];
    for (let n = 0; n < 10; n++) {
      const cgn = makeCgroup(`views-bench-${n}-${process.pid}`, { memory: 256 * MiB });
      cgroups.push(cgn);
      const c = await container(cgn);
      procs.push(c.proc);
      const time = () => {
        const t0 = process.hrtime.bigint();
        content.render(meminfo, c.pid);
        return Number(process.hrtime.bigint() - t0) / 1000;
      };
      firsts.push(time());
      seconds.push(time());
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    console.log(
      `\nmeminfo for a new container: first render ${med(firsts).toFixed(0)} us, the next ${med(seconds).toFixed(0)} us (medians of 10 containers)`,
    );
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    for (const cg of cgroups.reverse()) cg.remove();
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.stack}`);
  process.exitCode = 1;
});

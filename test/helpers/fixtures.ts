// Fixture cgroup trees (test/fixtures) as a view environment: the real drivers, pointed at them.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDriver } from '../../src/daemon/cgroup/create-driver.js';
import type { CgroupDriver } from '../../src/daemon/cgroup/driver.js';
import type { CgroupLayout } from '../../src/cgroup-layout.js';
import { DescriptorCache } from '../../src/daemon/io/file-source.js';
import { parseStartTime } from '../../src/daemon/reader/proc-parse.js';
import type { Reader } from '../../src/daemon/reader/resolver.js';
import type { LoadSample, ViewEnv, ViewOptions } from '../../src/daemon/views/view.js';

export type FixtureKind = 'v1' | 'v2';

/** The source tree of a fixture (read-only: copy it to change it). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

interface Teardown {
  teardown(fn: () => void): void;
}

/** A copy of a fixture tree in a temporary directory, removed after the test. */
export function copyFixture(t: Teardown, kind: FixtureKind): string {
  const dir = mkdtempSync('/tmp/tsproc-test-fixture-');
  cpSync(`${FIXTURES}cgroup-${kind}`, dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function fixtureLayout(kind: FixtureKind, root: string): CgroupLayout {
  if (kind === 'v2') return { kind: 'v2', v1: {}, unified: `${root}/cgroup` };
  const c = (name: string) => `${root}/cgroup/${name}`;
  return {
    kind: 'v1',
    v1: { memory: c('memory'), cpu: c('cpu'), cpuacct: c('cpuacct'), cpuset: c('cpuset'), blkio: c('blkio'), pids: c('pids') },
    unified: undefined,
  };
}

export interface Fixture {
  root: string;
  files: DescriptorCache;
  driver: CgroupDriver;
  env: ViewEnv;
  /** the process of the fixture, as a container reader */
  reader: Reader;
  /** write a file of the tree (a path below the fixture root) */
  write(path: string, text: string): void;
}

export const DEFAULT_LOAD: LoadSample = { avg: [0, 0, 0], running: 1, blocked: 0, total: 7, lastPid: 7 };

/** A view environment over a fixture tree (`root`: the tree itself, or a copy to change). */
export function fixture(
  kind: FixtureKind,
  o: { root?: string; options?: Partial<ViewOptions>; load?: LoadSample; scope?: 'host' | 'container'; clock?: () => number } = {},
): Fixture {
  const root = o.root ?? `${FIXTURES}cgroup-${kind}`;
  // Tests change settings between renders: read them every time, unless the test keeps the clock.
  const files = o.clock ? new DescriptorCache({ now: o.clock }) : new DescriptorCache({ reuseSettings: false });
  const driver = createDriver({ files, layout: fixtureLayout(kind, root) });
  const env: ViewEnv = {
    files,
    driver,
    options: { swap: true, cpuQuota: true, loadavg: true, ...o.options },
    host: (path, ro) => {
      const text = files.read(`${root}/host${path}`, ro);
      if (text === undefined) throw new Error(`no ${path} in the fixture`);
      return text;
    },
    load: () => o.load ?? DEFAULT_LOAD,
  };
  const cgroup = driver.paths(readFileSync(`${root}/pid/cgroup`, 'latin1'));
  const start = parseStartTime(readFileSync(`${root}/pid/stat`, 'utf8'))!;
  const reader: Reader = {
    scope: o.scope ?? 'container',
    key: 'fixture',
    label: 'the fixture',
    cgroup,
    pid: 1,
    start,
    depth: 2,
    valid: true,
  };
  return { root, files, driver, env, reader, write: (path, text) => writeFileSync(`${root}/${path}`, text) };
}

/** Gather and render a view for the fixture's reader; the host's file when the view says so. */
export function show<S>(
  f: Fixture,
  view: { gather(env: ViewEnv, r: Reader): S | symbol; render(s: S): string },
  reader = f.reader,
): string {
  f.files.beginRender();
  const s = view.gather(f.env, reader);
  return typeof s === 'symbol' ? 'HOST' : view.render(s);
}

/** A meminfo-style file as label → number. */
export function fields(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+([0-9]+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

// `tsproc run --env-file FILE` sets the container's environment and nothing else, however tsproc is started:
// a NODE_OPTIONS=--require in the file never runs in tsproc (issue 10: root code execution).
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from '../helpers/daemon.js';
import { busyboxRoot, cannotRun, NODE_BIN, sandbox, tempDir } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

/** What the helpers need of a test: its teardown. */
type Test = Parameters<typeof tempDir>[0];
type Launch = (t: Test) => string[];

interface Bait {
  file: string;
  /** made by the preload if anything runs it */
  marker: string;
  preload: string;
}

/** An env file whose NODE_OPTIONS would make Node load a script that leaves a marker file. */
function bait(t: Test): Bait {
  const dir = tempDir(t, 'env-file');
  const marker = `${dir}/marker`;
  const preload = `${dir}/preload.cjs`;
  writeFileSync(preload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));\n`);
  writeFileSync(`${dir}/env`, `NODE_OPTIONS=--require ${preload}\nFROM_FILE=1\n`);
  return { file: `${dir}/env`, marker, preload };
}

/**
 * A shell's environment, without what tap adds to every child (a NODE_OPTIONS for its process tracking,
 * which would keep Node from taking the env file's) or what `npx tap` does (npm_*).
 */
const CLEAN = ['env', '-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, `HOME=${process.env.HOME ?? '/root'}`];

/** npx with a cache of the test's own, offline: the package is this checkout (not built again: no prepare). */
function npx(t: Test): string[] {
  return [
    ...CLEAN,
    `npm_config_cache=${tempDir(t, 'npm-cache')}`,
    'npx',
    '--yes',
    '--offline',
    '--ignore-scripts',
    `--package=${dirname(dirname(BIN))}`,
    '--',
    'tsproc',
  ];
}

const starts: [string, Launch][] = [
  ['the bin', () => [...CLEAN, BIN]],
  ["node -- bin/tsproc.js (the README's node line)", () => [...CLEAN, ...NODE_BIN]],
];
if (spawnSync('npx', ['--version']).status === 0) starts.push(['npx -- tsproc', npx]);

for (const [how, launch] of starts) {
  t.test(`${how}: the file's NODE_OPTIONS is the container's variable and runs nothing in tsproc`, async (t) => {
    const s = sandbox(t);
    const root = busyboxRoot(t);
    const b = bait(t);
    const spellings = how === 'the bin' ? [['--env-file', b.file], [`--env-file=${b.file}`]] : [['--env-file', b.file]];
    for (const flag of spellings) {
      const r = await s.run(['--rm', ...flag, '--rootfs', root, 'sh', '-c', 'echo "$NODE_OPTIONS"; echo "$FROM_FILE"'], {
        launch: launch(t),
      });
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stdout, `--require ${b.preload}\n1\n`, `${flag.join(' ')}: the container has the file's variables`);
      t.notOk(existsSync(b.marker), `${flag.join(' ')}: the preload never ran`);
    }
    t.same(s.leftovers(), []);
  });

  t.test(`${how}: a missing env file is tsproc's error, exit 125, naming the file`, async (t) => {
    const s = sandbox(t);
    const root = busyboxRoot(t);
    const missing = `${tempDir(t, 'env-file')}/nope`;
    const r = await s.run(['--env-file', missing, '--rootfs', root, 'true'], { launch: launch(t) });
    t.equal(r.status, 125, r.stderr);
    t.match(r.stderr, new RegExp(`^tsproc: --env-file ${missing}: `, 'm'));
    t.notMatch(r.stderr, /^node:/m, "not Node's");
    t.same(s.records(), [], 'no container made');
  });
}

t.test(
  'started as `node bin/tsproc.js ... --env-file F` (no `--`), Node reads F before tsproc starts: tsproc refuses to go on',
  async (t) => {
    // Node 20 loads F, and runs its NODE_OPTIONS, before any of tsproc's code: only the `--` of the bin and
    // of the README's node line prevents that. What tsproc can still do is act on nothing: F may have set
    // PATH or LD_PRELOAD for every program it would start.
    const s = sandbox(t);
    const root = busyboxRoot(t);
    const b = bait(t);
    const r = await s.run(['--env-file', b.file, '--rootfs', root, 'true'], { launch: [...CLEAN, process.execPath, BIN] });
    t.equal(r.status, 125, r.stderr);
    t.match(r.stderr, new RegExp(`^tsproc: node itself read \`--env-file ${b.file}\` before tsproc started.*node -- `, 'm'));
    t.same(s.records(), [], 'no container made');
  },
);

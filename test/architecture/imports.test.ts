// The layers of docs/architecture.md, checked on the sources: every relative import (static or dynamic)
// of src/, fs/ and runner/ must go where the table allows. A new import across the rules fails here.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The layer of a source file, by where it is. */
export function layerOf(file: string): string {
  if (/^src\/[^/]+\.ts$/.test(file)) return 'shared';
  if (/^src\/daemon\/[^/]+\.ts$/.test(file)) return 'daemon';
  const m = /^src\/daemon\/(views|reader|loadavg|io|cgroup)\/|^(src\/cli|fs|runner)\//.exec(file);
  if (!m) throw new Error(`${file}: in no layer of docs/architecture.md`);
  return (m[1] ?? m[2]!).replace(/^src\//, '');
}

/** What each layer may import besides itself (docs/architecture.md, "Layers"). */
export const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  fs: ['shared'],
  io: ['shared'],
  cgroup: ['io', 'shared'],
  reader: ['cgroup', 'io', 'shared'],
  loadavg: ['reader', 'cgroup', 'io', 'shared'],
  views: ['loadavg', 'reader', 'cgroup', 'io', 'shared'],
  daemon: ['views', 'loadavg', 'reader', 'cgroup', 'io', 'fs', 'shared'],
  runner: ['shared'],
  cli: ['daemon', 'runner', 'views', 'loadavg', 'reader', 'cgroup', 'io', 'fs', 'shared'],
};

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(repo, rel)).isDirectory()) return sources(rel);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** The repository paths a file imports (relative specifiers only: packages and node: are not layers). */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)) {
    out.push(normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Crossings known and named, each to be removed (the test fails when one is gone from the code but not from here). */
const KNOWN: string[] = [];

t.test('every import goes where the layer table allows', async (t) => {
  const files = [...sources('src'), ...sources('fs'), ...sources('runner')];
  t.ok(files.length > 100, `${files.length} source files read`);
  const crossings: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    for (const target of importsOf(file, readFileSync(join(repo, file), 'utf8'))) {
      const to = layerOf(relative('.', target));
      if (to !== from && !ALLOWED[from]!.includes(to)) crossings.push(`${file} (${from}) imports ${target} (${to})`);
    }
  }
  t.same(
    crossings.filter((c) => !KNOWN.includes(c)),
    [],
    'no import crosses the rules',
  );
  t.same(
    KNOWN.filter((c) => !crossings.includes(c)),
    [],
    'every known crossing is still there (else remove it from KNOWN)',
  );
});

t.test('the checker itself: it sees static, type-only and dynamic imports, and refuses a crossing', async (t) => {
  const text =
    "import { a } from '../views/view.js';\nimport type { B } from './table.js';\nconst c = await import('../../../runner/plan.js');\n";
  t.same(importsOf('src/daemon/loadavg/x.ts', text), ['src/daemon/views/view.ts', 'src/daemon/loadavg/table.ts', 'runner/plan.ts']);
  t.equal(layerOf('src/errors.ts'), 'shared');
  t.equal(layerOf('src/daemon/cgroup/driver.ts'), 'cgroup');
  t.equal(layerOf('src/daemon/content.ts'), 'daemon');
  t.equal(layerOf('fs/tree/virtual-tree.ts'), 'fs');
  t.notOk(ALLOWED.loadavg!.includes('views'), 'the load sampler is below the views');
  t.notOk(
    ALLOWED.runner!.includes('daemon') || ALLOWED.runner!.includes('fs') || ALLOWED.runner!.includes('cgroup'),
    'the runner reaches the daemon stack through nothing but shared/',
  );
  t.notOk(ALLOWED.daemon!.includes('runner') || ALLOWED.daemon!.includes('cli'), 'the daemon never imports the runner or the CLI');
});

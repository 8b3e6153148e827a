// The bin's V8 code cache for the bundle (bin/tsproc.js, loadBundle): each command's first run writes
// one, later runs use it, a dynamic import works from it, and a cache never runs another build's code.
// V8 itself checks only the source's length (and its own version and flags): a bundle rebuilt to the
// same length would run the old bytecode, which the stamp the bin writes into the cache prevents.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/tsproc.js', import.meta.url));

/** A tree with the real bin and a bundle of our own that prints `text` (start.js older than it). */
function tree(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync('/tmp/tsproc-test-code-cache-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = `${dir}/dist/src/cli`;
  mkdirSync(`${dir}/bin`);
  mkdirSync(cli, { recursive: true });
  copyFileSync(BIN, `${dir}/bin/tsproc.js`);
  writeFileSync(`${dir}/bin/package.json`, '{ "type": "commonjs" }');
  writeFileSync(`${cli}/start.js`, '');
  utimesSync(`${cli}/start.js`, 1, 1);
  // what scripts/bundle-cli.js makes of a dynamic import of a module left out of the bundle
  writeFileSync(`${cli}/left-out.mjs`, 'export const word = "imported";\n');
  return {
    cli,
    bundle: (text: string) =>
      writeFileSync(
        `${cli}/tsproc.cjs`,
        `function say() { return ${JSON.stringify(text)}; }\n__import('./left-out.mjs').then((m) => process.stdout.write(say() + ' ' + m.word));\n`,
      ),
    run: (...args: string[]) => execFileSync(process.execPath, ['--', `${dir}/bin/tsproc.js`, ...args], { encoding: 'utf8' }),
  };
}

t.test('the first run of a command writes its cache; the next runs from it, dynamic imports included', async (t) => {
  const { cli, bundle, run } = tree(t);
  bundle('one');
  t.equal(run('run', 'x'), 'one imported');
  t.ok(existsSync(`${cli}/tsproc.cjs.run.cache`), 'run: a cache of its own');
  t.equal(run('--state-root', '/s', 'ps'), 'one imported');
  t.same(
    readdirSync(cli)
      .filter((f) => f.endsWith('.cache'))
      .sort(),
    ['tsproc.cjs.ps.cache', 'tsproc.cjs.run.cache'],
  );
  t.equal(run('run', 'x'), 'one imported', 'from the cache');
});

t.test('a bundle rebuilt to the same length runs its own code, not the cached one', async (t) => {
  const { bundle, run } = tree(t);
  bundle('one');
  t.equal(run('run'), 'one imported');
  t.equal(run('run'), 'one imported');
  bundle('two'); // the same length, a later mtime
  t.equal(run('run'), 'two imported');
  t.equal(run('run'), 'two imported', 'and the cache made again from it');
});

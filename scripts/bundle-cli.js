// Bundles the compiled CLI (dist/src/cli/start.js and what it loads) into one CommonJS file,
// dist/src/cli/tsproc.cjs, which the bin loads: Node 20 reads, resolves and links every ES module on its
// own, some 60 files for `tsproc run`, while one CommonJS file is read and compiled once (issue 13,
// docs/benchmarks.md). Modules a command imports dynamically stay lazy: their code runs when imported.
// Left out, loaded from dist/ and node_modules/ as before: the mount daemon (its serving process and
// worker threads are files of their own) and the npm packages that only some commands use.
import { build } from 'esbuild';
import { dirname, relative, resolve } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/src/cli`;
const outfile = `${cli}/tsproc.cjs`;

/** Loaded from dist/ at run time, not bundled. */
const UNBUNDLED = [/\/src\/daemon\//];

await build({
  entryPoints: [`${cli}/start.js`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', 'tar', 'pidusage', 'cli-progress'],
  logLevel: 'warning',
  plugins: [
    {
      name: 'tsproc-paths',
      setup(b) {
        // a daemon module stays a file of its own, imported by its path from the bundle's directory
        b.onResolve({ filter: /^\./ }, (args) => {
          const path = resolve(args.resolveDir, args.path);
          if (!UNBUNDLED.some((re) => re.test(path))) return undefined;
          const rel = relative(dirname(outfile), path);
          return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
        });
        // each module's import.meta.url stays its own compiled file's, so the paths it makes from it
        // (the helper, package.json) are the same bundled or not
        b.onLoad({ filter: /\/dist\/.*\.js$/ }, async (args) => {
          const text = await readFile(args.path, 'utf8');
          if (!text.includes('import.meta.url')) return undefined;
          const rel = JSON.stringify(relative(dirname(outfile), args.path));
          return {
            contents: text.replaceAll(
              'import.meta.url',
              `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${rel})).href`,
            ),
            loader: 'js',
          };
        });
      },
    },
  ],
});

// The bin compiles the bundle with V8's code cache (bin/tsproc.js), and in code from that cache V8 has no
// dynamic import() of its own ("A dynamic import callback was not specified"): the bundle's import() of
// what stays out of it (the daemon's modules, pidusage) calls the bin's `__import` instead.
const text = await readFile(outfile, 'utf8');
const calls = text.match(/\bimport\(/g)?.length ?? 0;
await writeFile(outfile, text.replace(/\bimport\(/g, '__import('));
if (calls === 0) throw new Error('bundle-cli: no import() found: is the bundle still made as expected?');

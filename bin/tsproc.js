#!/bin/sh
":" //; exec node -- "$0" "$@"
// The tsproc command: run as a program (the bin, npx) it is a shell script whose line above starts node
// with `--` before this file, so no argument reaches Node's own option parsing (Node 20 reads
// `--env-file FILE` anywhere before a `--`; docs/decisions.md); as JavaScript it runs the compiled CLI.
// CommonJS (bin/package.json), as is the bundle it loads: Node then starts no ES module loader (issue 13).
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '../dist/src/cli');
const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const compiled = mtime(join(dist, 'start.js'));
if (compiled === undefined) {
  process.stderr.write('tsproc: not built yet: run `npm install` (or `npm run build`) in the tsproc directory\n');
  process.exit(1);
}
// src/cli/start.ts holds SIGUSR1 (Node's inspector) before the CLI loads. The bundle `npm run build` makes
// (dist/src/cli/tsproc.cjs); the compiled modules themselves if it is missing or older than they are
// (a `tsc` alone since): slower to start, never stale.
const bundle = join(dist, 'tsproc.cjs');
if ((mtime(bundle) ?? -Infinity) >= compiled) loadBundle(bundle);
else import(pathToFileURL(join(dist, 'start.js')).href);

/**
 * The bundle, compiled with V8's code cache: tsproc.cjs.COMMAND.cache beside it, written by the first run
 * of COMMAND that finds none, at its exit, so that it holds the functions that command used; later runs
 * neither parse the bundle nor compile those again (issue 13: 5% of `tsproc run`, docs/benchmarks.md).
 * V8 checks a cache against its own version and flags and the source's length only, so the cache also
 * names the bundle it was made from (size, mtime, inode): a new build never runs an old build's code. A
 * cache that cannot be read or written only costs the compile. Code from a cache has no import() of its
 * own: the bundle's (scripts/bundle-cli.js) call `__import`, this module's import().
 */
function loadBundle(file) {
  const { readFileSync, renameSync, writeFileSync } = require('node:fs');
  const { Script } = require('node:vm');
  const { Module, createRequire } = require('node:module');
  const st = statSync(file);
  const stamp = Buffer.from(`tsproc code cache ${st.size} ${st.mtimeMs} ${st.ino}\n`);
  const cacheFile = `${file}.${commandWord(process.argv.slice(2))}.cache`;
  let cache;
  try {
    cache = readFileSync(cacheFile);
  } catch {}
  const cachedData = cache?.subarray(0, stamp.length).equals(stamp) ? cache.subarray(stamp.length) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname, __import) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        writeFileSync(`${cacheFile}.${process.pid}`, Buffer.concat([stamp, script.createCachedData()]));
        renameSync(`${cacheFile}.${process.pid}`, cacheFile);
      } catch {}
    });
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dist);
  // a relative specifier is the bundle's (its directory), a package's is found from here as from there
  const load = (spec) => import(spec.startsWith('.') ? pathToFileURL(join(dist, spec)).href : spec);
  script.runInThisContext()(m.exports, createRequire(file), m, file, dist, load);
}

/** The subcommand's name for its cache: the first word past the global options (src/cli/roots.ts). */
function commandWord(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--state-root' || args[i] === '--data-root') i++;
    else if (!args[i].startsWith('-')) return /^[a-z][a-z-]*$/.test(args[i]) ? args[i] : 'other';
  }
  return 'none';
}

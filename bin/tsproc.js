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
if ((mtime(bundle) ?? -Infinity) >= compiled) require(bundle);
else import(pathToFileURL(join(dist, 'start.js')).href);

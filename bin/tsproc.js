#!/bin/sh
":" //; exec node -- "$0" "$@"
// The tsproc command: run as a program (the bin, npx) it is a shell script whose line above starts node
// with `--` before this file, so no argument reaches Node's own option parsing (Node 20 reads
// `--env-file FILE` anywhere before a `--`; docs/decisions.md); as JavaScript it runs the compiled CLI.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/src/cli/', import.meta.url);
if (!existsSync(new URL('main.js', dist))) {
  process.stderr.write('tsproc: not built yet: run `npm install` (or `npm run build`) in the tsproc directory\n');
  process.exit(1);
}
// First, before the CLI loads: from here on SIGUSR1 cannot open Node's inspector.
const { holdInspectorSignal } = await import(new URL('inspector-signal.js', dist).href);
holdInspectorSignal();
const { main } = await import(new URL('main.js', dist).href);
await main(process.argv);

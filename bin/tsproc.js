#!/usr/bin/env node
// The tsproc command: runs the compiled CLI (npm install builds it into dist/).
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

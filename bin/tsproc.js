#!/usr/bin/env node
// The tsproc command: runs the compiled CLI (npm install builds it into dist/).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tsproc: not built yet: run `npm install` (or `npm run build`) in the tsproc directory\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);

// Builds the runner's C helper (native/) with the machine's C compiler; a no-op until it has sources.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';

const src = new URL('../native/', import.meta.url).pathname;
const sources = existsSync(src) ? readdirSync(src).filter((f) => f.endsWith('.c')) : [];
if (sources.length > 0) {
  mkdirSync(`${src}build`, { recursive: true });
  const cc = process.env.CC || 'cc';
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', `${src}build/tsproc-helper`, ...sources.map((f) => src + f)];
  try {
    execFileSync(cc, args, { stdio: 'inherit' });
  } catch {
    process.stderr.write(`tsproc: building the native helper failed: ${cc} ${args.join(' ')}\n`);
    process.exit(1);
  }
}

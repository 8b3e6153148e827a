// Builds the runner's C helper (native/) with the machine's C compiler. Without a compiler the build is
// skipped with a warning and npm install goes on: the daemon (tsproc mount) needs no C; `tsproc run`
// and `exec` then say the helper is missing, and the daemon's repair of binds after a crash is off.
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
  } catch (err) {
    if (err.code === 'ENOENT') {
      process.stderr.write(
        `tsproc: no C compiler (${cc}): the runner's helper is not built. tsproc mount works without it; ` +
          `tsproc run and exec need it (install gcc and libc6-dev, then npm run build).\n`,
      );
    } else {
      process.stderr.write(`tsproc: building the native helper failed: ${cc} ${args.join(' ')}\n`);
      process.exit(1);
    }
  }
}

// The CLI's entry, for the bin: holds SIGUSR1 first, then loads the commands and runs them.
// `npm run build` bundles this file and what it loads into dist/src/cli/tsproc.cjs (scripts/bundle-cli.js).
import { holdInspectorSignal } from '../inspector-signal.js';

// First, before the CLI loads: from here on SIGUSR1 cannot open Node's inspector.
holdInspectorSignal();
// main catches and prints its own errors; a dynamic import, so that in the bundle too the CLI's modules
// are initialized only after the line above.
void import('./main.js').then(({ main }) => main(process.argv));

// Keeps SIGUSR1 from opening Node's inspector (127.0.0.1:9229: code as root for any local user).
//
// Node 20 starts its inspector on SIGUSR1 unless the process listens for the signal itself
// (`--disable-sigusr1` came with Node 22.14). The bin calls this first, so every tsproc process (the
// CLI, `run`, the daemon and its worker threads, which share the process's signals) holds a listener
// for its whole life. Other listeners come and go beside it (the daemon's, run's forwarding to the
// container) and a reload on SIGUSR1 is one more `process.on('SIGUSR1', ...)`: while this one stays,
// removing theirs never hands the signal back to Node (or to the default action, which kills).

const ignore = (): void => undefined;

export function holdInspectorSignal(): void {
  if (!process.listeners('SIGUSR1').includes(ignore)) process.on('SIGUSR1', ignore);
}

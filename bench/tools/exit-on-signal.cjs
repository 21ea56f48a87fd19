// Preloaded by bench/profile.sh (NODE_OPTIONS=--require): makes SIGTERM/SIGINT
// end the process through process.exit(), so that --cpu-prof writes its profile
// (a default signal death writes nothing). It steps aside when the server has
// its own handler for the signal: then the server's shutdown decides.
'use strict';
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (process.listenerCount(sig) === 1) {
      process.stderr.write(`[bench exit-on-signal] ${sig}: the server has no handler; process.exit(0)\n`);
      process.exit(0);
    }
  });
}

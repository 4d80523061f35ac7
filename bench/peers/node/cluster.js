// Node cluster echo peer for the multi-core cases of the netloop benchmark
// (cmd/mcbench): node cluster.js PORT [WORKERS]. The primary forks WORKERS
// (default 2) workers running the echo of echo.js; on Linux the primary
// accepts and hands connections round-robin (cluster.SCHED_RR, Node's
// default there). Prints "ready" once every worker listens.
'use strict';
const cluster = require('cluster');
const net = require('net');
const port = parseInt(process.argv[2] || '9000', 10);
const workers = parseInt(process.argv[3] || '2', 10);
if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) process.stdout.write('ready\n');
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  });
} else {
  const server = net.createServer({ noDelay: true }, (c) => {
    c.setNoDelay(true);
    c.on('data', (d) => c.write(d));
    c.on('error', () => {});
  });
  server.listen(port, '127.0.0.1');
}

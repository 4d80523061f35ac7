// Node net echo peer of the netloop benchmark: node echo.js PORT
// Prints "ready" once listening. TCP_NODELAY on (setNoDelay), like every peer.
'use strict';
const net = require('net');
const port = parseInt(process.argv[2] || '9000', 10);
const server = net.createServer({ noDelay: true }, (c) => {
  c.setNoDelay(true);
  c.on('data', (d) => c.write(d));
  c.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});

// Node tls echo peer of bench/cmd/tlsbench: node tls-echo.js PORT CERT KEY
// Writes back whatever arrives; prints "ready" once listening.
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, cert, key] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4]];
const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (c) => {
  c.setNoDelay(true);
  c.on('data', (d) => c.write(d));
  c.on('error', () => {});
});
server.on('tlsClientError', () => {});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});

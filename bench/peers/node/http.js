// The Node peer of the protocol benchmark's HTTP case (cmd/protobench):
// node:http, GET / answers "hello world\n", keep-alive.
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 8080);
http.createServer((req, res) => {
  if (req.url === '/' && req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 12 });
    res.end('hello world\n');
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 10 });
    res.end('Not Found\n');
  }
}).listen(port, '127.0.0.1', () => console.log('ready'));

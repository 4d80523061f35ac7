// The Node peer of the protocol benchmark's RESP case (cmd/protobench):
// the net module, PING/SET/GET/CONFIG GET as redis-benchmark asks, a Map
// for the data, pipelined replies written once per 'data' event.
'use strict';
const net = require('net');
const port = Number(process.argv[2] || 6380);
const store = new Map();

function exec(args, out) {
  if (args.length === 0) return;
  const cmd = args[0].toString().toUpperCase();
  if (cmd === 'PING') out.push('+PONG\r\n');
  else if (cmd === 'SET') { store.set(args[1].toString(), Buffer.from(args[2])); out.push('+OK\r\n'); }
  else if (cmd === 'GET') {
    const v = store.get(args[1].toString());
    if (v === undefined) out.push('$-1\r\n');
    else { out.push('$' + v.length + '\r\n'); out.push(v); out.push('\r\n'); }
  } else if (cmd === 'CONFIG' && args.length === 3) {
    const k = args[2].toString(), v = k === 'appendonly' ? 'no' : '';
    if (k === 'save' || k === 'appendonly') out.push('*2\r\n$' + k.length + '\r\n' + k + '\r\n$' + v.length + '\r\n' + v + '\r\n');
    else out.push('*0\r\n');
  } else out.push('-ERR unknown command\r\n');
}

// parse returns [args, next] for one complete command at p, or null.
function parse(b, p) {
  let e = b.indexOf('\r\n', p);
  if (e < 0) return null;
  if (b[p] !== 0x2a) { // an inline command ("PING\r\n")
    return [b.toString('latin1', p, e).split(' ').filter((x) => x).map((x) => Buffer.from(x)), e + 2];
  }
  const n = Number(b.toString('latin1', p + 1, e));
  p = e + 2;
  const args = [];
  for (let i = 0; i < n; i++) {
    if (p >= b.length) return null;
    e = b.indexOf('\r\n', p);
    if (e < 0) return null;
    const size = Number(b.toString('latin1', p + 1, e));
    p = e + 2;
    if (p + size + 2 > b.length) return null;
    args.push(b.subarray(p, p + size));
    p += size + 2;
  }
  return [args, p];
}

net.createServer({ noDelay: true }, (c) => {
  let pending = null;
  c.on('data', (d) => {
    let b = pending ? Buffer.concat([pending, d]) : d;
    let p = 0;
    const out = [];
    for (;;) {
      if (p >= b.length) break;
      let r;
      try { r = parse(b, p); } catch (e) { c.destroy(); return; }
      if (!r) break;
      exec(r[0], out);
      p = r[1];
    }
    pending = p < b.length ? Buffer.from(b.subarray(p)) : null;
    if (out.length) c.write(Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))));
  });
  c.on('error', () => {});
}).listen(port, '127.0.0.1', () => console.log('ready'));

'use strict';
// A Node peer for our client: a ws server plus endpoints that answer the
// upgrade wrongly on purpose. Prints "listening PORT"; stops on SIGTERM.
//
// WebSocket paths:
//   /echo     echoes every message with its type
//   /ctl      takes JSON commands (see `commands` below)
//   /headers  sends the request headers as JSON, then echoes
//   /nopong   echoes, but never answers a ping (keepalive tests)
// Broken upgrades (for handshake failure tests):
//   /bad-accept /status200 /status404 /bad-subprotocol /no-upgrade
//   /extension /hang /drop
// Subprotocols: the server speaks chat and superchat, preferring chat.
const http = require('http');
const crypto = require('crypto');
const { WebSocket, utf8Text, pattern } = require('./common');

const SPOKEN = ['chat', 'superchat'];
const wss = new WebSocket.Server({
  noServer: true,
  maxPayload: 256 << 20,
  handleProtocols: (offered) => SPOKEN.find((p) => offered.has(p)) || false
});

// The same, without automatic pongs.
const mute = new WebSocket.Server({ noServer: true, autoPong: false });

const closes = []; // {code, reason} of every connection closed so far
const closeWaiters = [];
function recordClose(code, reason) {
  const rec = { code, reason: reason.toString() };
  closes.push(rec);
  for (let i = closeWaiters.length - 1; i >= 0; i--) {
    if (closeWaiters[i].tag === rec.reason) {
      closeWaiters[i].fn(rec);
      closeWaiters.splice(i, 1);
    }
  }
}

function sendFragments(ws, data, piece, binary, pingEvery) {
  let off = 0;
  let k = 0;
  do {
    const end = Math.min(off + piece, data.length);
    const last = end >= data.length;
    ws.send(data.subarray(off, end), { binary, fin: last });
    if (pingEvery && !last) ws.ping(Buffer.from('frag ' + k++));
    off = end;
  } while (off < data.length);
}

const commands = {
  // Sends `size` bytes of a pattern (binary) or of mixed UTF-8 (text) in
  // fragments of `piece` bytes, optionally with a ping after each fragment.
  fragments(ws, c) {
    const data = c.kind === 'text' ? utf8Text(c.size) : pattern(c.size);
    sendFragments(ws, data, c.piece, c.kind !== 'text', !!c.ping);
  },
  // Pings with `data`; when the pong comes back, says "pong:<data>".
  ping(ws, c) {
    ws.once('pong', (d) => ws.send('pong:' + d.toString()));
    ws.ping(Buffer.from(c.data));
  },
  close(ws, c) {
    ws.close(c.code, c.reason);
  },
  // Sends hex-encoded bytes as one text (or binary) message, unchecked.
  raw(ws, c) {
    ws.send(Buffer.from(c.hex, 'hex'), { binary: !!c.binary });
  },
  terminate(ws) {
    ws.terminate();
  },
  // Every close seen so far, as JSON.
  closes(ws) {
    ws.send(JSON.stringify(closes));
  },
  // Answers with the close (code, reason) whose reason is `tag`, once seen;
  // after `timeout` ms (default 10000) with the last close seen instead.
  'wait-close'(ws, c) {
    const found = closes.find((r) => r.reason === c.tag);
    if (found) {
      ws.send(JSON.stringify(found));
      return;
    }
    const waiter = { tag: c.tag, fn: (rec) => { clearTimeout(timer); ws.send(JSON.stringify(rec)); } };
    const timer = setTimeout(() => {
      closeWaiters.splice(closeWaiters.indexOf(waiter), 1);
      ws.send(JSON.stringify(closes[closes.length - 1] || {}));
    }, c.timeout || 10000);
    closeWaiters.push(waiter);
  }
};

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

function onConnection(ws, req) {
  const path = req.url.split('?')[0];
  ws.on('close', recordClose);
  ws.on('error', () => {});
  if (path === '/ctl') {
    ws.on('message', (data, isBinary) => {
      let c;
      try {
        c = JSON.parse(data.toString());
      } catch (e) {
        ws.send('error: not JSON');
        return;
      }
      const fn = commands[c.cmd];
      if (fn) fn(ws, c);
      else ws.send('error: unknown command ' + c.cmd);
    });
  } else {
    if (path === '/headers') ws.send(JSON.stringify(req.headers));
    echo(ws);
  }
}
wss.on('connection', onConnection);
mute.on('connection', onConnection);

function acceptFor(req) {
  return crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

const hanging = new Set();
const broken = {
  '/bad-accept': (req, sock) =>
    sock.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: ' + crypto.createHash('sha1').update('wrong').digest('base64') + '\r\n\r\n'),
  '/status200': (req, sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nhi\n'),
  '/status404': (req, sock) => sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
  '/bad-subprotocol': (req, sock) =>
    sock.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: ' + acceptFor(req) + '\r\nSec-WebSocket-Protocol: notoffered\r\n\r\n'),
  '/no-upgrade': (req, sock) =>
    sock.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: ' + acceptFor(req) + '\r\n\r\n'),
  '/extension': (req, sock) =>
    sock.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: ' + acceptFor(req) + '\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n'),
  '/hang': (req, sock) => {
    hanging.add(sock);
    sock.on('close', () => hanging.delete(sock));
  },
  '/drop': (req, sock) => sock.destroy()
};

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
server.on('upgrade', (req, sock, head) => {
  sock.on('error', () => {});
  const path = req.url.split('?')[0];
  if (broken[path]) broken[path](req, sock);
  else if (path === '/nopong') mute.handleUpgrade(req, sock, head, (ws) => mute.emit('connection', ws, req));
  else wss.handleUpgrade(req, sock, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(0, '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});

function stop() {
  for (const s of hanging) s.destroy();
  for (const ws of wss.clients) ws.terminate();
  for (const ws of mute.clients) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

'use strict';
// A stand-in for the Autobahn|Testsuite fuzzing server with its three
// endpoints and three small cases, to check that autobahn_client follows
// the protocol: /getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A.
// Prints "listening PORT", then exits by itself after updateReports,
// printing one line per check and "N passed, N failed".
const http = require('http');
const crypto = require('crypto');
const { WebSocket, Runner } = require('./common');

const t = new Runner();
const wss = new WebSocket.Server({ noServer: true, maxPayload: 64 << 20 });
const expectAgent = process.argv[2] || 'ws.h';
const ran = new Set();

// Each case sends something and says what must come back.
const CASES = {
  1: (ws, done) => {
    const s = 'Hello, w\u00f6rld \u{1F30D}';
    ws.send(s);
    ws.once('message', (d, bin) => done(!bin && d.toString() === s, 'text echo'));
  },
  2: (ws, done) => {
    const b = crypto.randomBytes(65536 + 17);
    ws.send(b);
    ws.once('message', (d, bin) => done(bin && Buffer.from(d).equals(b), 'binary echo'));
  },
  3: (ws, done) => {
    // Fragmented text with a ping in the middle: expect the pong and the
    // whole message back as one text message.
    const parts = ['frag', 'mented ', '\u00fcber'];
    let pong = false;
    ws.once('pong', (d) => { pong = d.toString() === 'p3'; });
    ws.send(parts[0], { fin: false });
    ws.ping('p3');
    ws.send(parts[1], { fin: false });
    ws.send(parts[2], { fin: true });
    ws.once('message', (d, bin) => done(pong && !bin && d.toString() === parts.join(''), 'fragmented text with a ping'));
  }
};

wss.on('connection', (ws, req) => {
  const u = new URL(req.url, 'http://x');
  ws.on('error', () => {});
  if (u.pathname === '/getCaseCount') {
    ws.send(String(Object.keys(CASES).length));
    ws.close(1000);
  } else if (u.pathname === '/runCase') {
    const n = Number(u.searchParams.get('case'));
    t.check(`case ${n}: agent is ${expectAgent}`, u.searchParams.get('agent') === expectAgent, u.searchParams.get('agent'));
    if (!CASES[n]) {
      t.check('known case ' + n, false);
      ws.close(1011);
      return;
    }
    ran.add(n);
    const timer = setTimeout(() => {
      t.check(`case ${n}: answered in time`, false);
      ws.close(1000);
    }, 20000);
    CASES[n](ws, (ok, what) => {
      clearTimeout(timer);
      t.check(`case ${n}: ${what}`, ok);
      ws.close(1000, 'case ' + n + ' done');
    });
  } else if (u.pathname === '/updateReports') {
    t.check('updateReports for agent ' + expectAgent, u.searchParams.get('agent') === expectAgent, u.searchParams.get('agent'));
    t.check('all cases ran before updateReports', ran.size === Object.keys(CASES).length, [...ran].join(','));
    ws.close(1000);
    ws.on('close', () => {
      t.finish();
      server.close();
      setTimeout(() => process.exit(), 100).unref();
    });
  } else {
    ws.close(1008, 'unknown endpoint');
  }
});

const server = http.createServer((req, res) => res.end());
server.on('upgrade', (req, sock, head) => wss.handleUpgrade(req, sock, head, (ws) => wss.emit('connection', ws, req)));
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
setTimeout(() => {
  t.check('finished within 120 s', false);
  t.finish();
  process.exit(1);
}, 120000).unref();

'use strict';
// Helpers shared by the Node peers of the interop tests.
const path = require('path');
const crypto = require('crypto');

const WS_DIR = path.join(__dirname, '..', 'node', 'node_modules', 'ws');
const WebSocket = require(WS_DIR);

// Text of exactly n UTF-8 bytes mixing 1-, 2-, 3- and 4-byte code points
// (n need not be a multiple of anything: ASCII pads the end).
const UNIT = Buffer.from('a\u00e9\u20ac\u{1D11E}', 'utf8'); // 1 + 2 + 3 + 4 bytes
function utf8Text(n) {
  const whole = Math.floor(n / UNIT.length) * UNIT.length;
  const b = Buffer.alloc(n, 0x78); // 'x'
  for (let i = 0; i < whole; i += UNIT.length) UNIT.copy(b, i);
  return b;
}

// A pattern both sides can make: byte i is (i * 31 + 7) & 255.
function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255;
  return b;
}

function sha(b) {
  return crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
}

// A WebSocket whose events are read one at a time: await peer.next().
class Peer {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this.push({ type: 'message', data, isBinary }));
    ws.on('pong', (data) => this.push({ type: 'pong', data }));
    ws.on('ping', (data) => this.push({ type: 'ping', data }));
    ws.on('close', (code, reason) => this.push({ type: 'close', code, reason: reason.toString() }));
    ws.on('error', (err) => this.push({ type: 'error', err }));
  }
  push(ev) {
    const w = this.waiters.shift();
    if (w) w(ev);
    else this.queue.push(ev);
  }
  next(ms = 30000, skip = ['ping']) {
    for (;;) {
      const ev = this.queue.shift();
      if (!ev) break;
      if (!skip.includes(ev.type)) return Promise.resolve(ev);
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(h);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve({ type: 'timeout' });
      }, ms);
      const h = (ev) => {
        if (skip.includes(ev.type)) {
          this.waiters.unshift(h);
          return;
        }
        clearTimeout(t);
        resolve(ev);
      };
      this.waiters.push(h);
    });
  }
}

// Opens a client connection; resolves to a Peer, or rejects with the error.
function connect(url, protocols, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols || [], { perMessageDeflate: false, maxPayload: 256 << 20, ...options });
    const peer = new Peer(ws);
    ws.once('open', () => resolve(peer));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error('HTTP ' + res.statusCode)));
  });
}

// A tiny test runner printing "N passed, N failed" at the end.
class Runner {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }
  check(name, cond, detail) {
    if (cond) {
      this.passed++;
      console.log('ok   ' + name);
    } else {
      this.failed++;
      console.log('FAIL ' + name + (detail ? ': ' + detail : ''));
    }
    return cond;
  }
  async run(name, fn, ms = 120000) {
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out after ' + ms + ' ms')), ms);
        })
      ]);
    } catch (e) {
      this.check(name, false, e && e.stack ? e.stack : String(e));
    } finally {
      clearTimeout(timer);
    }
  }
  finish() {
    console.log(this.passed + ' passed, ' + this.failed + ' failed');
    process.exitCode = this.failed || !this.passed ? 1 : 0;
  }
}

module.exports = { WebSocket, utf8Text, pattern, sha, Peer, connect, Runner };

// Helpers for the browser tests: processes we start (chat servers, Redis,
// Chromium) are tracked by PID and always stopped by PID; every wait has a
// bound. Nothing here reaches beyond 127.0.0.1.
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  // Loopback only: never route the test pages through a proxy.
  '--no-proxy-server',
];

export function loadPlaywright() {
  const req = createRequire(path.join(repo, 'tests', 'node', 'package.json'));
  try {
    return req('playwright-core');
  } catch (e) {
    throw new Error('playwright-core is not installed: run `npm ci` in tests/node (' + e.message + ')');
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('timed out after ' + ms + ' ms: ' + what)), ms); });
  try {
    return await Promise.race([promise, t]);
  } finally {
    clearTimeout(timer);
  }
}

export async function waitUntil(fn, ms, what, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out after ' + ms + ' ms waiting for ' + what);
    await sleep(every);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- processes ----

const live = new Set();
process.on('exit', () => {
  for (const p of live) p.killNow();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const p of live) p.killNow();
    process.exit(1);
  });
}

export class Proc {
  /** group: start it in its own process group and signal the group (for
   * Chromium, whose helper processes must go with it). */
  constructor(name, cmd, args, { group = false, cwd, env } = {}) {
    this.name = name;
    this.group = group;
    this.out = '';
    this.exited = null;
    this.child = spawn(cmd, args, { cwd, env: env || process.env, detached: group, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        resolve(this.exited);
      });
      this.child.on('error', (e) => {
        this.out += '\n[spawn error] ' + e.message + '\n';
        this.exited = { code: -1, signal: null, error: e };
        live.delete(this);
        resolve(this.exited);
      });
    });
    const add = (d) => {
      this.out += d;
      if (this.out.length > 1 << 20) this.out = this.out.slice(-(1 << 19)); // bounded
    };
    this.child.stdout.on('data', add);
    this.child.stderr.on('data', add);
    live.add(this);
  }

  get running() { return this.exited === null; }

  waitFor(re, ms, what) {
    return waitUntil(() => {
      const m = re.exec(this.out);
      if (m) return m;
      if (!this.running) throw new Error(this.name + ' exited (' + JSON.stringify(this.exited) + ') before ' + what + ':\n' + this.tail());
      return null;
    }, ms, this.name + ': ' + what);
  }

  tail(n = 2000) { return this.out.slice(-n); }

  signal(sig) {
    if (!this.running || !this.pid) return;
    try {
      process.kill(this.group ? -this.pid : this.pid, sig);
    } catch (e) {
      if (e.code !== 'ESRCH') throw e;
    }
  }

  killNow() { this.signal('SIGKILL'); }

  /** Stops it by PID: sig first, SIGKILL when it does not go in time. */
  async stop(sig = 'SIGTERM', ms = 10000) {
    if (!this.running) return this.exited;
    this.signal(sig);
    const done = await Promise.race([this.exitPromise, sleep(ms).then(() => null)]);
    if (done) return done;
    this.forced = true;
    this.signal('SIGKILL');
    return await withTimeout(this.exitPromise, 10000, this.name + ' to exit after SIGKILL');
  }
}

// ---- the chat server ----

export async function startChat(chatBin, args = [], { port = 0, cwd } = {}) {
  const p = new Proc('chat', chatBin, ['--host', '127.0.0.1', '--port', String(port), ...args], { cwd: cwd || os.tmpdir() });
  const m = await p.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\//, 20000, 'listening');
  p.port = Number(m[1]);
  p.url = 'http://127.0.0.1:' + p.port + '/';
  return p;
}

// ---- Redis ----

export async function startRedis(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-redis-'));
  const p = new Proc('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
  ]);
  p.dir = dir;
  p.port = port;
  await p.waitFor(/[Rr]eady to accept connections/, 20000, 'ready');
  const stop = p.stop.bind(p);
  p.stop = async (...a) => {
    const r = await stop(...a);
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  };
  return p;
}

/** `redis-cli -p PORT PUBLISH channel message` (Debian's redis-tools, which
 * redis-server depends on), run to its end; resolves to the number of
 * subscribers that got the message. */
export function redisPublish(port, channel, message) {
  return withTimeout(new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PUBLISH', channel, message],
      { timeout: 10000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error('redis-cli PUBLISH failed: ' + err.message + ' ' + stderr));
        const m = /^\(integer\) (\d+)\s*$|^(\d+)\s*$/.exec(stdout);
        if (!m) return reject(new Error('redis-cli PUBLISH: unexpected output ' + JSON.stringify(stdout + stderr)));
        resolve(Number(m[1] || m[2]));
      });
  }), 15000, 'redis-cli PUBLISH');
}

// ---- Chromium ----

/** Debian's Chromium, started by us (own process group, fresh profile,
 * DevTools on a loopback port) and driven by playwright-core over CDP. */
export async function startBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error('Chromium not found at ' + CHROMIUM + ' (apt-get install chromium)');
  const { chromium } = loadPlaywright();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-chromium-'));
  const p = new Proc('chromium', CHROMIUM, [
    ...CHROMIUM_ARGS, '--user-data-dir=' + dir, '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0', '--window-size=1100,760', 'about:blank',
  ], { group: true });
  let browser;
  try {
    const m = await p.waitFor(/DevTools listening on (ws:\/\/\S+)/, 60000, 'DevTools endpoint');
    browser = await withTimeout(chromium.connectOverCDP(m[1]), 60000, 'connecting to Chromium');
  } catch (e) {
    await p.stop('SIGTERM', 5000);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const context = browser.contexts()[0] || (await browser.newContext());
  return {
    browser, context, proc: p,
    async newPage() {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1100, height: 720 });
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(String(e)));
      return page;
    },
    async close() {
      try { await withTimeout(browser.close(), 10000, 'disconnecting from Chromium'); } catch (e) { /* stopped below anyway */ }
      await p.stop('SIGTERM', 10000);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- a raw WebSocket client, for what a browser will not send ----

export class RawClient {
  static async connect(port, { protocol, path: p = '/ws', origin } = {}) {
    const c = new RawClient();
    await c.open(port, protocol, p, origin);
    return c;
  }

  open(port, protocol, p, origin) {
    return withTimeout(new Promise((resolve, reject) => {
      const key = crypto.randomBytes(16).toString('base64');
      this.sock = net.connect(port, '127.0.0.1');
      this.buf = Buffer.alloc(0);
      this.frames = [];
      this.ended = false;
      this.waiters = [];
      this.sock.on('error', (e) => { this.error = e; this.wake(); reject(e); });
      this.sock.on('close', () => { this.ended = true; this.wake(); });
      this.sock.on('connect', () => {
        this.sock.write('GET ' + p + ' HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nUpgrade: websocket\r\n' +
          'Connection: Upgrade\r\nSec-WebSocket-Key: ' + key + '\r\nSec-WebSocket-Version: 13\r\n' +
          (protocol ? 'Sec-WebSocket-Protocol: ' + protocol + '\r\n' : '') +
          (origin ? 'Origin: ' + origin + '\r\n' : '') + '\r\n');
      });
      let handshake = true;
      this.sock.on('data', (d) => {
        this.buf = Buffer.concat([this.buf, d]);
        if (handshake) {
          const end = this.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.response = this.buf.subarray(0, end).toString('latin1');
          this.buf = this.buf.subarray(end + 4);
          handshake = false;
          const expect = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
          if (!/^HTTP\/1\.1 101 /.test(this.response)) return reject(new Error('handshake: ' + this.response.split('\r\n')[0]));
          if (!this.response.includes('Sec-WebSocket-Accept: ' + expect)) return reject(new Error('bad accept key'));
          resolve();
        }
        this.parse();
      });
    }), 15000, 'raw WebSocket handshake');
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  parse() {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 127, off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (b[1] & 128) off += 4; // a server must not mask; the test checks
      if (b.length < off + len) return;
      this.frames.push({ fin: !!(b[0] & 128), opcode: b[0] & 15, masked: !!(b[1] & 128), payload: b.subarray(off, off + len) });
      this.buf = b.subarray(off + len);
      this.wake();
    }
  }

  /** Sends one masked frame with exactly these payload bytes. */
  sendFrame(opcode, payload, fin = true) {
    const p = Buffer.from(payload), mask = crypto.randomBytes(4);
    let head;
    if (p.length < 126) head = Buffer.from([(fin ? 128 : 0) | opcode, 128 | p.length]);
    else if (p.length < 65536) { head = Buffer.alloc(4); head[0] = (fin ? 128 : 0) | opcode; head[1] = 128 | 126; head.writeUInt16BE(p.length, 2); }
    else { head = Buffer.alloc(10); head[0] = (fin ? 128 : 0) | opcode; head[1] = 128 | 127; head.writeBigUInt64BE(BigInt(p.length), 2); }
    const body = Buffer.alloc(p.length);
    for (let i = 0; i < p.length; i++) body[i] = p[i] ^ mask[i & 3];
    this.sock.write(Buffer.concat([head, mask, body]));
  }

  sendText(s) { this.sendFrame(1, Buffer.from(s, 'utf8')); }

  /** The next frame matching pred (frames before it are dropped). */
  async next(pred = () => true, ms = 20000) {
    const end = Date.now() + ms;
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift();
        if (pred(f)) return f;
      }
      if (this.ended || this.error) return null;
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, Math.min(left, 200)); });
    }
  }

  async waitClosed(ms = 20000) {
    await waitUntil(() => this.ended, ms, 'the server to close the TCP connection');
  }

  destroy() { this.sock.destroy(); }
}

export function closeCode(frame) {
  return frame && frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
}

export function sha256(s) { return crypto.createHash('sha256').update(s).digest('hex'); }

#!/usr/bin/env node
// Tests of the chat demo (examples/chat) in a real browser: Debian's
// Chromium, headless, driven by playwright-core. Each case starts its own
// chat server(s), Redis and browser on free loopback ports and stops them
// by PID. Prints "N passed, N failed" and exits non-zero on failure.
//
//   node tests/browser/run.mjs --chat build/chat [--case NAME]... [--artifacts DIR]
//
// Cases: load chat large subprotocol server_close reconnect invalid_utf8
//        redis_publish redis_two_servers redis_outage (in a browser), and
//        http backpressure (raw sockets, no browser).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  repo, sleep, withTimeout, waitUntil, freePort, startChat, startRedis, redisPublish, startBrowser,
  RawClient, closeCode, sha256,
} from './lib.mjs';

const WAIT = 30000;        // one expected thing in a page
const CASE_BUDGET = 240000; // a whole case, however it goes

// ---- the page, seen from the test ----

async function openChat(b, url) {
  const page = await b.newPage();
  await page.goto(url, { waitUntil: 'load', timeout: WAIT });
  await page.waitForFunction(() => window.chat && chat.ws && chat.ws.readyState === 1 && chat.me,
    null, { timeout: WAIT, polling: 50 });
  return page;
}

const pageWait = (page, fn, arg, ms = WAIT) => page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

const sees = (page, text, ms) => pageWait(page, (t) => chat.messages.some((m) => m.text === t), text, ms);

// ---- cases ----

const cases = {};

// The page loads (from a server started in another directory: the page is
// embedded) and its readyState goes CONNECTING -> OPEN; the server's feed
// arrives without anyone typing.
cases.load = async (t) => {
  const srv = await t.chat(['--tick-ms', '500']);
  const b = await t.browser();
  const page = await openChat(b, srv.url);
  const states = await page.evaluate(() => chat.states.slice());
  assert.deepEqual(states.slice(0, 2), ['CONNECTING', 'OPEN'], 'readyState sequence ' + states);
  assert.equal(await page.textContent('#state'), 'OPEN');
  await pageWait(page, () => chat.ticks >= 2);
  assert.equal(await page.textContent('#users'), '1');
  assert.match(await page.textContent('#clock'), /^\d\d:\d\d:\d\d$/);
  const events = await page.evaluate(() => chat.events.map((e) => e.kind));
  assert.equal(events[0], 'open');
  assert.ok(events.includes('message'));
  assert.deepEqual(page.errors, []);
  await t.shot(page, 'load');
  t.note('readyState sequence: ' + states.join(' -> '));
  // A browser without WebSocket: the page says so instead of failing.
  const old = await b.newPage();
  await old.addInitScript(() => { delete window.WebSocket; });
  await old.goto(srv.url, { waitUntil: 'load', timeout: WAIT });
  await old.waitForSelector('#nows:not([hidden])', { timeout: WAIT });
  assert.match(await old.textContent('#nows'), /no WebSocket support/);
  assert.equal(await old.textContent('#state'), 'UNSUPPORTED');
  assert.deepEqual(old.errors, []);
  await t.shot(old, 'load-no-websocket');
};

// Two pages chat with each other through the UI; "/kick-me" is an ordinary
// message when the server runs without --test-hooks.
cases.chat = async (t) => {
  const srv = await t.chat(['--tick-ms', '1000']);
  const b = await t.browser();
  const a = await openChat(b, srv.url);
  const c = await openChat(b, srv.url);
  const [meA, meC] = [await a.evaluate(() => chat.me), await c.evaluate(() => chat.me)];
  assert.notEqual(meA, meC);
  await say(a, 'Hello from A — ünïcödé ✓ "quoted" \\ backslash');
  await sees(c, 'Hello from A — ünïcödé ✓ "quoted" \\ backslash');
  await say(c, 'Hi A, B here.');
  await sees(a, 'Hi A, B here.');
  await sees(a, 'Hello from A — ünïcödé ✓ "quoted" \\ backslash'); // everyone, the sender too
  const from = await c.evaluate(() => chat.messages.find((m) => m.text.startsWith('Hello from A')).from);
  assert.equal(from, meA);
  await pageWait(a, () => document.getElementById('users').textContent === '2');
  await pageWait(c, () => document.getElementById('users').textContent === '2');
  await say(a, '/kick-me');
  await sees(c, '/kick-me');
  assert.equal(await a.evaluate(() => chat.ws.readyState), 1, 'no test hooks without --test-hooks');
  await say(c, 'Everyone sees every message, and the server pushes the time.');
  await sees(a, 'Everyone sees every message, and the server pushes the time.');
  await pageWait(a, () => chat.ticks >= 1);
  assert.deepEqual(a.errors, []);
  await t.shot(a, 'chat-a');
  await t.shot(c, 'chat-b');
  // The close button closes (1000) and stays closed; Connect joins again.
  // (The CloseEvent carries the server's close frame: the code echoed, no
  // reason.)
  await c.click('#close');
  await pageWait(c, () => chat.lastClose !== null && document.getElementById('close').textContent === 'Connect');
  assert.deepEqual(await c.evaluate(() => chat.lastClose), { code: 1000, reason: '', wasClean: true, readyState: 3 });
  // The pill went through CLOSING (sampled right after ws.close()) to CLOSED.
  const closing = await c.evaluate(() => chat.states.slice(-2));
  assert.deepEqual(closing, ['CLOSING', 'CLOSED'], 'readyState after the close button: ' + closing);
  assert.equal(await c.textContent('#state'), 'CLOSED');
  assert.match(srv.out, /left: 1000 closed by the user/);
  await pageWait(a, () => document.getElementById('users').textContent === '1');
  await c.click('#close');
  await pageWait(c, () => chat.ws.readyState === 1 && chat.me);
  await pageWait(a, () => document.getElementById('users').textContent === '2');
};

// A 1 MiB message sent through one page's ws arrives intact at the other.
cases.large = async (t) => {
  const srv = await t.chat([]);
  const b = await t.browser();
  const a = await openChat(b, srv.url);
  const c = await openChat(b, srv.url);
  const sent = await a.evaluate(async () => {
    // Deterministic text with every character JSON must escape in it.
    const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789"\\\n\t\r{}[]<>&\u0001';
    const parts = new Array(1 << 20);
    let x = 12345;
    for (let i = 0; i < parts.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      parts[i] = alphabet[(x >>> 8) % alphabet.length];
    }
    const s = parts.join('');
    const h = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
    chat.send(s);
    // Right after send() the browser counts the message as buffered, and
    // the page's pill shows that count.
    const buffered = chat.ws.bufferedAmount, shown = document.getElementById('buffered').textContent;
    return { len: s.length, buffered, shown,
             hash: [...new Uint8Array(h)].map((v) => v.toString(16).padStart(2, '0')).join('') };
  });
  assert.equal(sent.len, 1 << 20);
  assert.ok(sent.buffered >= 1 << 20, 'bufferedAmount right after sending 1 MiB: ' + sent.buffered);
  assert.equal(sent.shown, String(sent.buffered), 'the page shows bufferedAmount');
  await pageWait(a, () => document.getElementById('buffered').textContent === '0'); // and it drains
  const digestOfBig = async (page) => {
    await pageWait(page, () => chat.messages.some((m) => m.text && m.text.length === 1 << 20), null, 60000);
    return page.evaluate(async () => {
      const m = chat.messages.find((x) => x.text && x.text.length === 1 << 20);
      const h = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(m.text));
      return [...new Uint8Array(h)].map((v) => v.toString(16).padStart(2, '0')).join('');
    });
  };
  assert.equal(await digestOfBig(c), sent.hash, 'the other page got the same 1 MiB');
  assert.equal(await digestOfBig(a), sent.hash, 'the sender got its echo intact');
  assert.equal(await c.evaluate(() => chat.ws.readyState), 1);
  await t.shot(c, 'large');
  t.note('1 MiB sha256 ' + sent.hash.slice(0, 16) + '… matched on both pages');
};

// The page asks for chat.v1 and gets it; a client that offers nothing gets
// no subprotocol, one that offers several gets chat.v1.
cases.subprotocol = async (t) => {
  const srv = await t.chat([]);
  const b = await t.browser();
  const page = await openChat(b, srv.url);
  assert.equal(await page.evaluate(() => chat.ws.protocol), 'chat.v1');
  assert.equal(await page.textContent('#proto'), 'chat.v1');
  const none = await RawClient.connect(srv.port);
  assert.ok(!/Sec-WebSocket-Protocol/i.test(none.response), none.response);
  none.destroy();
  const several = await RawClient.connect(srv.port, { protocol: 'other.v2, chat.v1' });
  assert.match(several.response, /\r\nSec-WebSocket-Protocol: chat\.v1(\r|$)/);
  several.destroy();
  await t.shot(page, 'subprotocol');
};

// A close from the server (test hook: "/kick-me" -> close(4001, "bye"))
// arrives as CloseEvent 4001 "bye"; the page ends CLOSED and, as asked by
// an application close code, does not reconnect.
cases.server_close = async (t) => {
  const srv = await t.chat(['--test-hooks']);
  const b = await t.browser();
  const a = await openChat(b, srv.url);
  const c = await openChat(b, srv.url);
  await a.evaluate(() => chat.send('/kick-me'));
  await pageWait(a, () => chat.lastClose !== null);
  const lc = await a.evaluate(() => chat.lastClose);
  assert.deepEqual(lc, { code: 4001, reason: 'bye', wasClean: true, readyState: 3 });
  await pageWait(a, () => document.getElementById('state').textContent === 'CLOSED');
  assert.equal(await a.evaluate(() => chat.ws.readyState), 3);
  // The event log shows the close with its code and reason.
  assert.match(await a.textContent('#log'), /close\s*code 4001 reason "bye"/);
  const states = await a.evaluate(() => chat.states.slice());
  assert.deepEqual(states.slice(0, 2), ['CONNECTING', 'OPEN']);
  assert.equal(states[states.length - 1], 'CLOSED', String(states));
  await pageWait(c, () => document.getElementById('users').textContent === '1');
  assert.equal(await c.evaluate(() => chat.ws.readyState), 1);
  await t.shot(a, 'server-close');
  t.note('readyState sequence: ' + states.join(' -> '));
};

// Killing the server closes the page's connection (1006); once a server
// listens on the port again, the page reconnects on its own.
cases.reconnect = async (t) => {
  let srv = await t.chat(['--tick-ms', '500']);
  const port = srv.port;
  const b = await t.browser();
  const page = await openChat(b, srv.url);
  await srv.stop('SIGKILL');
  await pageWait(page, () => chat.lastClose !== null);
  const lc = await page.evaluate(() => chat.lastClose);
  assert.equal(lc.code, 1006, JSON.stringify(lc));
  await pageWait(page, () => !document.getElementById('banner').hidden &&
    /Reconnecting/.test(document.getElementById('banner').textContent));
  // Two retries against the dead port; the backoff grows (0.5 s doubling,
  // +-20 % jitter: the second delay is always longer than the first).
  await pageWait(page, () => chat.events.filter((e) => e.kind === 'retry').length >= 2);
  const delays = await page.evaluate(() => chat.events.filter((e) => e.kind === 'retry')
    .map((e) => Number(/reconnecting in (\d+) ms/.exec(e.text)[1])));
  assert.ok(delays[0] >= 400 && delays[0] <= 600 && delays[1] >= 800 && delays[1] <= 1200,
    'exponential backoff: ' + delays.join(', '));
  srv = await t.chat(['--tick-ms', '500'], { port });
  await pageWait(page, () => chat.ws.readyState === 1 && chat.events.filter((e) => e.kind === 'open').length >= 2, null, 60000);
  await pageWait(page, () => chat.ticks >= 1 && document.getElementById('banner').hidden);
  const kinds = await page.evaluate(() => chat.events.map((e) => e.kind).filter((k) => k !== 'message'));
  const states = await page.evaluate(() => chat.states.slice());
  assert.equal(kinds[0], 'open');
  assert.ok(kinds.includes('error'), 'the failed connection is logged as an error: ' + kinds.join(','));
  const ci = kinds.indexOf('close');
  assert.ok(ci > 0 && kinds.indexOf('retry', ci) > ci && kinds.indexOf('open', ci) > ci, kinds.join(','));
  assert.deepEqual(states.slice(0, 3), ['CONNECTING', 'OPEN', 'CLOSED'], String(states));
  assert.equal(states[states.length - 1], 'OPEN');
  await t.shot(page, 'reconnect');
  t.note('readyState sequence: ' + states.join(' -> ') + '; retry delays ' + delays.join(', ') + ' ms');
};

// Invalid UTF-8 in a text frame from a raw client: the server fails that
// connection with 1007; the browsers stay connected and keep chatting.
cases.invalid_utf8 = async (t) => {
  const srv = await t.chat([]);
  const b = await t.browser();
  const a = await openChat(b, srv.url);
  const c = await openChat(b, srv.url);
  const raw = await RawClient.connect(srv.port, { protocol: 'chat.v1' });
  await pageWait(a, () => document.getElementById('users').textContent === '3');
  raw.sendFrame(1, Buffer.from([0x68, 0x69, 0xc3, 0x28])); // "hi" then a broken sequence
  const close = await raw.next((f) => f.opcode === 8);
  assert.ok(close, 'a close frame');
  assert.equal(closeCode(close), 1007);
  assert.equal(close.masked, false);
  await raw.waitClosed();
  await pageWait(a, () => document.getElementById('users').textContent === '2');
  assert.equal(await a.evaluate(() => chat.ws.readyState), 1);
  assert.equal(await c.evaluate(() => chat.ws.readyState), 1);
  await say(a, 'still here after the bad client');
  await sees(c, 'still here after the bad client');
  assert.match(srv.out, /invalid UTF-8/);
  await t.shot(c, 'invalid-utf8');
};

// ---- Redis ----

async function redisChat(t, redisPort, extra = []) {
  return t.chat(['--redis', '127.0.0.1:' + redisPort, '--tick-ms', '1000', ...extra]);
}

// `redis-cli PUBLISH ws-demo ...` reaches the page.
cases.redis_publish = async (t) => {
  const rport = await freePort();
  await t.redis(rport);
  const srv = await redisChat(t, rport);
  const b = await t.browser();
  const page = await openChat(b, srv.url);
  await pageWait(page, () => chat.redis === 'up');
  assert.equal(await page.textContent('#redis-state'), 'up');
  const n = await redisPublish(rport, 'ws-demo', 'hello from redis-cli');
  assert.ok(n >= 1, 'subscribers: ' + n);
  await sees(page, 'hello from redis-cli');
  assert.equal(await page.evaluate(() => chat.messages.find((m) => m.text === 'hello from redis-cli').from), 'redis');
  // What our own servers publish is pushed as it is.
  await redisPublish(rport, 'ws-demo', JSON.stringify({ type: 'chat', from: 'elsewhere', text: 'a JSON message' }));
  await sees(page, 'a JSON message');
  await t.shot(page, 'redis-publish');
};

// Two chat processes share one room through Redis.
cases.redis_two_servers = async (t) => {
  const rport = await freePort();
  await t.redis(rport);
  const s1 = await redisChat(t, rport);
  const s2 = await redisChat(t, rport);
  const b = await t.browser();
  const a = await openChat(b, s1.url);
  const c = await openChat(b, s2.url);
  await pageWait(a, () => chat.redis === 'up');
  await pageWait(c, () => chat.redis === 'up');
  await say(a, 'typed on a page served by chat A');
  await sees(c, 'typed on a page served by chat A');
  await say(c, 'and this one by chat B');
  await sees(a, 'and this one by chat B');
  // Published instead of broadcast locally: the sender's own page gets its
  // message once, back from the channel, not a second time from chat A.
  await sees(a, 'typed on a page served by chat A');
  await sleep(500);
  const copies = (page, text) => page.evaluate((x) => chat.messages.filter((m) => m.text === x).length, text);
  assert.equal(await copies(a, 'typed on a page served by chat A'), 1, 'copies on the sender\'s page');
  assert.equal(await copies(c, 'and this one by chat B'), 1, 'copies on the sender\'s page');
  await t.shot(c, 'redis-two-servers');
};

// Redis goes away: the pages say so, the servers keep running (pages stay
// connected, HTTP works); Redis comes back: delivery is restored.
cases.redis_outage = async (t) => {
  const rport = await freePort();
  let redis = await t.redis(rport);
  const s1 = await redisChat(t, rport);
  const s2 = await redisChat(t, rport);
  const b = await t.browser();
  const a = await openChat(b, s1.url);
  const c = await openChat(b, s2.url);
  await pageWait(a, () => chat.redis === 'up');
  await pageWait(c, () => chat.redis === 'up');
  await say(a, 'before the outage');
  await sees(c, 'before the outage');

  await redis.stop('SIGKILL');
  await pageWait(a, () => chat.redis === 'down' && !document.getElementById('redis-banner').hidden);
  await pageWait(c, () => chat.redis === 'down');
  assert.match(await a.textContent('#redis-banner'), /Redis is unreachable/);
  await say(a, 'during the outage');
  await sees(a, 'not delivered: redis is down');
  // Not broadcast locally instead: nobody gets it.
  assert.equal(await a.evaluate(() => chat.messages.some((m) => m.text === 'during the outage')), false);
  assert.equal(await c.evaluate(() => chat.messages.some((m) => m.text === 'during the outage')), false);
  assert.ok(s1.running && s2.running, 'the servers keep running');
  assert.equal(await a.evaluate(() => chat.ws.readyState), 1);
  const ticks = await a.evaluate(() => chat.ticks);
  await pageWait(a, (n) => chat.ticks > n, ticks); // the local feed goes on
  const res = await a.evaluate(async () => (await fetch('/')).status);
  assert.equal(res, 200);
  await t.shot(a, 'redis-outage');

  await sleep(1000);
  redis = await t.redis(rport);
  await pageWait(a, () => chat.redis === 'up' && document.getElementById('redis-banner').hidden, null, 60000);
  await pageWait(c, () => chat.redis === 'up', null, 60000);
  await say(a, 'after the outage');
  await sees(c, 'after the outage');
  await say(c, 'and back');
  await sees(a, 'and back');
  await t.shot(a, 'redis-restored');
};

// ---- no browser: the HTTP side and backpressure, over raw sockets ----

function httpRaw(port, request, ms = 15000) {
  return withTimeout(new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    s.on('connect', () => s.write(request));
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { s.destroy(); resolve(parse(Buffer.concat(chunks))); });
    s.on('error', (e) => (chunks.length ? resolve(parse(Buffer.concat(chunks))) : reject(e)));
  }), ms, 'HTTP response to ' + JSON.stringify(request.slice(0, 40)));
  function parse(buf) {
    const end = buf.indexOf('\r\n\r\n');
    const head = buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
    const status = Number((/^HTTP\/1\.1 (\d{3}) /.exec(head) || [])[1]);
    const headers = {};
    for (const line of head.split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    return { status, headers, head, body: end < 0 ? Buffer.alloc(0) : buf.subarray(end + 4) };
  }
}

cases.http = async (t) => {
  const srv = await t.chat([], { cwd: '/' });
  const port = srv.port;
  const get = (target, extra = '', method = 'GET') =>
    httpRaw(port, method + ' ' + target + ' HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\n' + extra + '\r\n');
  const page = fs.readFileSync(path.join(repo, 'examples', 'chat', 'index.html'));

  let r = await get('/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(Number(r.headers['content-length']), page.length);
  assert.ok(r.body.equals(page), 'the embedded page is the file');
  assert.equal(r.headers.connection, 'close');
  r = await get('/', '', 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers['content-length']), page.length);
  assert.equal(r.body.length, 0);
  assert.equal((await get('/index.html?x=1')).status, 200);
  r = await get('/nope');
  assert.equal(r.status, 404);
  assert.equal(Number(r.headers['content-length']), r.body.length);
  assert.equal((await get('/ws/')).status, 404);
  r = await get('/', 'Content-Length: 0\r\n', 'POST');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
  r = await get('/ws');
  assert.equal(r.status, 426);
  assert.equal(r.headers['sec-websocket-version'], '13');
  assert.equal((await get('/', 'X-Big: ' + 'a'.repeat(9000) + '\r\n')).status, 431);
  let many = '';
  for (let i = 0; i < 70; i++) many += 'X-H' + i + ': v\r\n';
  assert.equal((await get('/', many)).status, 431);
  assert.equal((await httpRaw(port, 'HELLO\r\n\r\n')).status, 400);
  assert.equal((await httpRaw(port, 'GET / HTTP/1.1\r\n\r\n')).status, 400, 'no Host');
  assert.equal((await httpRaw(port, 'GET / HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 needs no Host');
  assert.equal((await get('/', 'X-A: 1\r\n  folded\r\n')).status, 400);
  assert.equal((await get('/', 'Bad Name: 1\r\n')).status, 400);
  assert.equal((await get('*')).status, 400);
  assert.equal((await get('/', 'X-A: a\x01b\r\n')).status, 400);
  // The header block may come in pieces.
  r = await withTimeout(new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', async () => {
      for (const piece of ['GE', 'T / HTTP/1.1\r', '\nHost: x\r\n', '\r', '\n']) { s.write(piece); await sleep(30); }
    });
    s.on('data', (d) => { got += d; });
    s.on('end', () => { s.destroy(); resolve(got); });
    s.on('error', reject);
  }), 15000, 'piecewise request');
  assert.match(r, /^HTTP\/1\.1 200 /);

  // Upgrades: origin checks, the engine's own answers, bytes right behind
  // the request.
  const up = (extra) => 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' + extra + '\r\n';
  r = await httpRaw(port, up('Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n'));
  assert.equal(r.status, 403);
  r = await httpRaw(port, up('Sec-WebSocket-Version: 8\r\n'));
  assert.equal(r.status, 426);
  const ok = await RawClient.connect(port, { origin: 'http://127.0.0.1:' + port, protocol: 'chat.v1' });
  assert.match(ok.response, /Sec-WebSocket-Accept: /);
  const welcome = await ok.next((f) => f.opcode === 1);
  const w = JSON.parse(welcome.payload.toString());
  assert.equal(w.type, 'status');
  assert.equal(w.redis, 'off');
  ok.destroy();
  // Handshake and a first frame in one write: the server processes both.
  const glued = await withTimeout(new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const mask = Buffer.from([1, 2, 3, 4]), text = Buffer.from('glued to the handshake');
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, Buffer.from(text.map((v, i) => v ^ mask[i & 3]))]);
    let got = Buffer.alloc(0);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from(up('Sec-WebSocket-Version: 13\r\n')), frame])));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.includes('glued to the handshake')) { s.destroy(); resolve(got.toString('latin1')); }
    });
    s.on('error', reject);
  }), 15000, 'the frame behind the handshake');
  assert.match(glued, /^HTTP\/1\.1 101 /);
  assert.ok(srv.running);
};

// A browser that stops reading is closed with 1008 once it falls
// --max-queue bytes behind; the others are not held up.
cases.backpressure = async (t) => {
  const srv = await t.chat(['--max-queue', '262144']);
  const slow = await RawClient.connect(srv.port, { protocol: 'chat.v1' });
  await slow.next((f) => f.opcode === 1); // the welcome
  slow.sock.pause();
  const fast = await RawClient.connect(srv.port, { protocol: 'chat.v1' });
  await fast.next((f) => f.opcode === 1);
  const chunk = 'x'.repeat(60000);
  let sent = 0;
  for (let i = 0; i < 1500 && !/too slow/.test(srv.out); i++) {
    const text = i + ':' + chunk;
    fast.sendText(text);
    sent += text.length;
    const echo = await fast.next((f) => f.opcode === 1 && f.payload.includes(i + ':xxx'), 30000);
    assert.ok(echo, 'echo ' + i);
  }
  assert.match(srv.out, /too slow .* closing it with 1008/, 'the slow reader was closed');
  // The fast one was never held up and is still served.
  fast.sendText('after');
  assert.ok(await fast.next((f) => f.opcode === 1 && f.payload.includes('"after"')));
  // The slow one, reading again, finds what was queued and then the close.
  slow.sock.resume();
  const close = await slow.next((f) => f.opcode === 8, 30000);
  assert.equal(closeCode(close), 1008);
  slow.sendFrame(8, close.payload.subarray(0, 2)); // the closing handshake
  await slow.waitClosed();
  fast.destroy();
  t.note('slow reader closed after ' + (sent / 1048576).toFixed(1) + ' MiB were broadcast');
};

// ---- runner ----

function parseArgs(argv) {
  const o = { chat: null, cases: [], artifacts: path.join(repo, 'tests', 'artifacts', 'browser') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--chat') o.chat = argv[++i];
    else if (a === '--case') o.cases.push(argv[++i]);
    else if (a === '--artifacts') o.artifacts = argv[++i];
    else throw new Error('unknown argument ' + a);
  }
  if (!o.chat) throw new Error('--chat PATH is required');
  if (!o.cases.length) o.cases = Object.keys(cases);
  for (const c of o.cases) if (!cases[c]) throw new Error('unknown case ' + c);
  return o;
}

async function runCase(name, opts) {
  const cleanups = [];
  const procs = [];
  let browser = null;
  const t = {
    async chat(args, { port = 0, cwd } = {}) {
      const p = await startChat(opts.chat, args, { port, cwd });
      procs.push(p);
      cleanups.push(() => p.stop('SIGTERM'));
      return p;
    },
    async redis(port) {
      const p = await startRedis(port);
      procs.push(p);
      cleanups.push(() => p.stop('SIGTERM'));
      return p;
    },
    async browser() {
      if (!browser) {
        browser = await startBrowser();
        cleanups.push(() => browser.close());
      }
      return browser;
    },
    async shot(page, file) {
      fs.mkdirSync(opts.artifacts, { recursive: true });
      await page.screenshot({ path: path.join(opts.artifacts, file + '.png') });
    },
    note(s) { console.log('  ' + name + ': ' + s); },
  };
  try {
    await withTimeout(cases[name](t), CASE_BUDGET, 'case ' + name);
  } catch (e) {
    for (const p of procs) console.log('--- ' + p.name + ' (pid ' + p.pid + ') output, last part:\n' + p.tail(3000));
    throw e;
  } finally {
    for (const f of cleanups.reverse()) {
      try { await f(); } catch (e) { console.log('  cleanup: ' + e.message); }
    }
  }
  // A server that crashed (or that a sanitizer stopped) fails the case even
  // when the page did not notice.
  for (const p of procs) {
    if (p.name === 'chat' && p.forced)
      throw new Error('chat did not exit on SIGTERM:\n' + p.tail(3000));
    if (p.name === 'chat' && p.exited && p.exited.code !== 0 && p.exited.signal !== 'SIGKILL')
      throw new Error('chat exited with ' + JSON.stringify(p.exited) + ':\n' + p.tail(3000));
    if (p.name === 'chat' && /ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(p.out))
      throw new Error('sanitizer report from chat:\n' + p.tail(3000));
  }
}

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(opts.chat)) {
  console.log('chat binary not found: ' + opts.chat);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
let passed = 0, failed = 0;
for (const name of opts.cases) {
  const t0 = Date.now();
  try {
    await runCase(name, opts);
    passed++;
    console.log('ok   ' + name + ' (' + (Date.now() - t0) + ' ms)');
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + ' (' + (Date.now() - t0) + ' ms): ' + (e && e.stack ? e.stack : e));
  }
}
console.log(passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);

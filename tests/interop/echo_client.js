'use strict';
// Node's ws as the client of our echo_server.
//   node echo_client.js URL SMALL_URL SMALL_LIMIT SERVER_PID
// URL: an echo_server started with --subprotocol chat,superchat;
// SMALL_URL: one started with --max-message SMALL_LIMIT. The last case sends
// SIGTERM to SERVER_PID (the first server) and expects close 1001 on every
// open connection.
const { utf8Text, pattern, sha, connect, Runner } = require('./common');
const crypto = require('crypto');
const net = require('net');

const [url, smallUrl, smallLimitArg, serverPid] = process.argv.slice(2);
const smallLimit = Number(smallLimitArg);
const t = new Runner();

function same(name, ev, data, isBinary) {
  if (ev.type !== 'message') return t.check(name, false, 'got ' + ev.type + (ev.code ? ' ' + ev.code + ' ' + ev.reason : ''));
  const b = Buffer.isBuffer(ev.data) ? ev.data : Buffer.from(ev.data);
  return t.check(name, ev.isBinary === isBinary && b.equals(data),
    `isBinary ${ev.isBinary}/${isBinary} len ${b.length}/${data.length} sha ${sha(b)}/${sha(data)}`);
}

async function closeNormally(p) {
  p.ws.close(1000);
  const ev = await p.next();
  return ev.type === 'close' ? ev.code : ev.type;
}

async function main() {
  const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20];

  await t.run('sizes: binary and text of every length class, byte for byte', async () => {
    const p = await connect(url);
    const sent = [];
    for (const n of SIZES) {
      const bin = crypto.randomBytes(n);
      const txt = utf8Text(n);
      p.ws.send(bin, { binary: true });
      p.ws.send(txt, { binary: false });
      sent.push(['binary ' + n, bin, true], ['text ' + n, txt, false]);
    }
    for (const [name, data, isBinary] of sent) same('echo ' + name, await p.next(), data, isBinary);
    t.check('sizes: clean close', (await closeNormally(p)) === 1000);
  });

  await t.run('multi-byte UTF-8 text', async () => {
    const p = await connect(url);
    const s = 'Grüße, Привет, 你好, \u{1F389}\u{1F680} ∑∞ — ☃';
    p.ws.send(s);
    const ev = await p.next();
    t.check('utf-8 text echoed as the same string', ev.type === 'message' && !ev.isBinary && ev.data.toString('utf8') === s);
    await closeNormally(p);
  });

  await t.run('fragmented by Node', async () => {
    const p = await connect(url);
    // 4 MiB in 64-byte fragments, as conformance suites send it.
    const big = pattern(4 << 20);
    for (let off = 0; off < big.length; off += 64)
      p.ws.send(big.subarray(off, off + 64), { binary: true, fin: off + 64 >= big.length });
    same('4 MiB binary in 65536 fragments of 64 bytes comes back as one message', await p.next(60000), big, true);
    // Text with code points cut across fragments of 1..7 bytes.
    const txt = utf8Text(10000);
    for (let off = 0, k = 1; off < txt.length; off += k, k = k % 7 + 1)
      p.ws.send(txt.subarray(off, Math.min(off + k, txt.length)), { binary: false, fin: off + k >= txt.length });
    same('text split inside code points', await p.next(), txt, false);
    // A ping between fragments is answered at once; the message after.
    p.ws.send(Buffer.from('first half, '), { binary: false, fin: false });
    p.ws.ping(Buffer.from('between'));
    p.ws.send(Buffer.from('second half'), { binary: false, fin: true });
    const pong = await p.next();
    t.check('pong for a ping between fragments', pong.type === 'pong' && pong.data.toString() === 'between');
    same('message around the ping', await p.next(), Buffer.from('first half, second half'), false);
    // An empty first fragment and an empty last one.
    p.ws.send(Buffer.alloc(0), { binary: true, fin: false });
    p.ws.send(Buffer.from([1, 2, 3]), { binary: true, fin: false });
    p.ws.send(Buffer.alloc(0), { binary: true, fin: true });
    same('empty first and last fragments', await p.next(), Buffer.from([1, 2, 3]), true);
    await closeNormally(p);
  });

  await t.run('ping/pong', async () => {
    const p = await connect(url);
    for (const payload of [Buffer.alloc(0), Buffer.from('hello ping'), crypto.randomBytes(125)]) {
      p.ws.ping(payload);
      const ev = await p.next();
      t.check(`pong carries the ${payload.length}-byte ping payload`, ev.type === 'pong' && ev.data.equals(payload));
    }
    await closeNormally(p);
  });

  await t.run('order: 1000 pipelined messages', async () => {
    const p = await connect(url);
    for (let i = 0; i < 1000; i++) p.ws.send(i % 2 ? 'message ' + i : Buffer.from('binary ' + i), { binary: i % 2 === 0 });
    let inOrder = true;
    for (let i = 0; i < 1000; i++) {
      const ev = await p.next();
      const want = (i % 2 ? 'message ' : 'binary ') + i;
      if (ev.type !== 'message' || ev.data.toString() !== want || ev.isBinary !== (i % 2 === 0)) {
        inOrder = false;
        t.check('order', false, `#${i}: ${ev.type} ${ev.data}`);
        break;
      }
    }
    if (inOrder) t.check('1000 messages echoed in order with their types', true);
    await closeNormally(p);
  });

  await t.run('subprotocols', async () => {
    let p = await connect(url, ['foo', 'superchat']);
    t.check('server picks the one it speaks (superchat)', p.ws.protocol === 'superchat', p.ws.protocol);
    await closeNormally(p);
    p = await connect(url, ['superchat', 'chat']);
    t.check('server picks by its own preference (chat)', p.ws.protocol === 'chat', p.ws.protocol);
    await closeNormally(p);
    p = await connect(url);
    t.check('no offer, no subprotocol', p.ws.protocol === '', p.ws.protocol);
    await closeNormally(p);
  });

  await t.run('close codes', async () => {
    let p = await connect(url);
    p.ws.close(4000, 'bye ✓');
    let ev = await p.next();
    t.check('client close 4000 with a reason: server answers 4000', ev.type === 'close' && ev.code === 4000, JSON.stringify(ev));
    p = await connect(url);
    p.ws.close();
    ev = await p.next();
    t.check('close without a code: 1005 both ways', ev.type === 'close' && ev.code === 1005, JSON.stringify(ev));
    // ws does not check what it sends, so it can send broken UTF-8.
    p = await connect(url);
    p.ws.send(Buffer.from([0x48, 0x69, 0xc3, 0x28]), { binary: false });
    ev = await p.next();
    t.check('invalid UTF-8 text: server closes 1007', ev.type === 'close' && ev.code === 1007, JSON.stringify(ev));
  });

  await t.run('max message', async () => {
    let p = await connect(smallUrl);
    const ok = crypto.randomBytes(smallLimit);
    p.ws.send(ok);
    same(`a message of exactly --max-message (${smallLimit}) bytes is echoed`, await p.next(), ok, true);
    for (let off = 0; off < ok.length; off += 1000)
      p.ws.send(ok.subarray(off, off + 1000), { binary: true, fin: off + 1000 >= ok.length });
    same('the same in 1000-byte fragments', await p.next(), ok, true);
    p.ws.send(crypto.randomBytes(smallLimit + 1));
    let ev = await p.next();
    t.check('one byte more: server closes 1009', ev.type === 'close' && ev.code === 1009, JSON.stringify(ev));
    p = await connect(smallUrl);
    for (let i = 0; i <= smallLimit; i += 4096) p.ws.send(Buffer.alloc(4096), { binary: true, fin: false });
    ev = await p.next();
    t.check('too big in fragments: server closes 1009', ev.type === 'close' && ev.code === 1009, JSON.stringify(ev));
    // Far too big: the server refuses it at the header while most of it is
    // still on the way; its close frame must still arrive (no reset).
    for (let i = 0; i < 3; i++) {
      p = await connect(smallUrl);
      p.ws.send(Buffer.alloc(8 << 20));
      ev = await p.next();
      t.check(`8 MiB against a ${smallLimit}-byte limit: close 1009 arrives (try ${i + 1})`, ev.type === 'close' && ev.code === 1009, JSON.stringify(ev));
    }
  });

  await t.run('the default limit: 64 MiB messages, whole and in fragments', async () => {
    // echo_server accepts 64 MiB by default (the floor); one byte
    // more is refused with 1009 and a reason.
    const n = 64 << 20;
    let p = await connect(url);
    const big = crypto.randomBytes(n);
    p.ws.send(big, { binary: true });
    same('a 64 MiB binary message is echoed whole', await p.next(240000), big, true);
    const piece = 1 << 16;
    for (let off = 0; off < n; off += piece)
      p.ws.send(big.subarray(off, off + piece), { binary: true, fin: off + piece >= n });
    same('the same in 1024 fragments of 64 KiB', await p.next(240000), big, true);
    t.check('64 MiB: clean close', (await closeNormally(p)) === 1000);
    p = await connect(url);
    p.ws.send(Buffer.alloc(n + 1));
    const ev = await p.next(240000);
    t.check('64 MiB + 1 byte: server closes 1009 with a reason', ev.type === 'close' && ev.code === 1009 && ev.reason.length > 0,
      JSON.stringify(ev));
  }, 600000);

  await t.run('server shutdown closes every connection with 1001', async () => {
    const peers = await Promise.all([connect(url), connect(url), connect(url)]);
    // One of them is in the middle of a fragmented message.
    peers[2].ws.send(Buffer.from('half'), { binary: true, fin: false });
    // Two raw TCP peers: one never sends its upgrade request, one completes
    // the handshake and then ignores everything (it never answers the close,
    // so the server must give up on it after its grace period).
    const u = new URL(url);
    const rawClosed = (sock) => new Promise((resolve) => sock.once('close', () => resolve(Date.now())));
    const silent = net.connect(Number(u.port), u.hostname);
    const mute = net.connect(Number(u.port), u.hostname);
    silent.on('error', () => {});
    mute.on('error', () => {});
    const silentClosed = rawClosed(silent);
    const muteClosed = rawClosed(mute);
    await new Promise((resolve) => mute.once('connect', resolve));
    mute.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    let head = '';
    await new Promise((resolve) => mute.on('data', (d) => { head += d.toString('latin1'); if (head.includes('\r\n\r\n')) resolve(); }));
    t.check('raw peer completes the handshake', head.startsWith('HTTP/1.1 101'), head.split('\r\n')[0]);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    process.kill(Number(serverPid), 'SIGTERM');
    const evs = await Promise.all(peers.map((p) => p.next()));
    t.check('all three get close 1001 "server shutting down"',
      evs.every((e) => e.type === 'close' && e.code === 1001 && e.reason === 'server shutting down'), JSON.stringify(evs));
    const [a, b] = await Promise.all([silentClosed, muteClosed]);
    t.check('a peer that never sent its request is dropped at once', a - t0 < 2000, `${a - t0} ms`);
    t.check('a peer that never answers the close is dropped after the grace period', b - t0 < 15000, `${b - t0} ms`);
    t.check('...and it was sent the close frame first', head.length > 0 && Buffer.from(head, 'latin1').includes(Buffer.from([0x88])));
  });
}

main().then(() => t.finish(), (e) => {
  console.log('FAIL unexpected: ' + (e && e.stack ? e.stack : e));
  t.failed++;
  t.finish();
});

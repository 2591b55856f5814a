'use strict';
// wss:// tests for the mbedTLS adapter of ws.h, one case per CTest test:
//   node tls_test.js CASE --peer PATH/tls_peer [--echo PATH/echo_server]
//                         [--wscat PATH/wscat]
// Certificates are made here with openssl: a test CA, a server certificate
// for localhost, 127.0.0.1 and ::1 signed by it, a second CA that signed
// nothing we serve, and a certificate for another host name. Every peer runs
// on 127.0.0.1 (or ::1) on a free port and is stopped by PID; every wait is
// bounded. Prints "N passed, N failed" and exits non-zero on any failure.
const { spawn, execFileSync } = require('child_process');
const { createRequire } = require('module');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');

const nodeRequire = createRequire(path.join(__dirname, '..', 'node', 'package.json'));
let WebSocket;
try {
  WebSocket = nodeRequire('ws');
} catch (e) {
  console.error('FAIL: the ws package is missing: run `npm ci` in tests/node (' + e.message + ')');
  process.exit(1);
}

// ---- arguments, results, cleanup ----

const argv = process.argv.slice(2);
const CASE = argv[0];
const opt = {};
for (let i = 1; i + 1 < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) passed++;
  else {
    failed++;
    console.error('FAIL: ' + what + (detail !== undefined ? ' (' + detail + ')' : ''));
  }
  return ok;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-tls-'));
const children = new Set();
function cleanup() {
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
  fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timed out: ' + what)), ms); })])
    .finally(() => clearTimeout(t));
}

// ---- certificates ----

function openssl(args) {
  execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCerts() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch (e) {
    console.error('FAIL: openssl not found (see tests/apt-packages.txt)');
    process.exit(1);
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ws.h test CA']);
  openssl(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2',
    '-subj', '/CN=ws.h other CA']);
  const leaf = (name, cn, san, serial) => {
    fs.writeFileSync(path.join(work, name + '.ext'),
      'subjectAltName=' + san + '\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-new', ...ec, '-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=' + cn]);
    openssl(['x509', '-req', '-in', name + '.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial,
      '-days', '2', '-out', name + '.crt', '-extfile', name + '.ext']);
  };
  leaf('server', 'localhost', 'DNS:localhost,IP:127.0.0.1,IP:::1', '2');
  leaf('wrong', 'other.test', 'DNS:other.test', '3');
  const f = (n) => path.join(work, n);
  return {
    ca: f('ca.crt'), otherCa: f('other-ca.crt'), cert: f('server.crt'), key: f('server.key'),
    wrongCert: f('wrong.crt'), wrongKey: f('wrong.key'),
  };
}

// ---- processes ----

// Runs a program to its end (bounded); resolves { code, out, err }.
function run(cmd, args, ms) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => { err += '\n(killed after ' + ms + ' ms)'; p.kill('SIGKILL'); }, ms);
    p.on('error', (e) => { err += String(e); });
    p.on('close', (code, sig) => {
      clearTimeout(t);
      children.delete(p);
      resolve({ code: sig ? 128 : code, out, err });
    });
  });
}

// Starts a server that prints its port; resolves { proc, port, done, log }.
function startServer(cmd, args, portRe) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    const s = { proc: p, out: '', err: '', port: 0 };
    p.stdout.setEncoding('utf8'); // a UTF-8 reason split across reads stays whole
    p.stderr.setEncoding('utf8');
    s.done = new Promise((r) => p.on('close', (code, sig) => { children.delete(p); r(sig ? 128 : code); }));
    const t = setTimeout(() => reject(new Error('server did not start: ' + s.out + s.err)), 60000);
    p.stderr.on('data', (d) => { s.err += d; });
    p.stdout.on('data', (d) => {
      s.out += d;
      const m = portRe.exec(s.out);
      if (m && !s.port) {
        s.port = Number(m[1]);
        clearTimeout(t);
        resolve(s);
      }
    });
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', () => { if (!s.port) { clearTimeout(t); reject(new Error('server exited: ' + s.out + s.err)); } });
  });
}

async function stopServer(s) {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
  const code = await withTimeout(s.done, 30000, 'server exit').catch(() => {
    s.proc.kill('SIGKILL');
    return 137;
  });
  return code;
}

function sanitizerClean(text) {
  return !/AddressSanitizer|LeakSanitizer|runtime error:/.test(text);
}

// ---- a Node wss peer ----

// Echoes every message; "please-close:CODE:REASON" makes it close so.
// Counts what reached it, for the tests that expect nothing to.
function nodeServer(certFile, keyFile, host) {
  return new Promise((resolve, reject) => {
    const stats = { tlsOk: 0, tlsErrors: [], requests: 0, upgrades: 0, connections: 0, errors: [], servernames: [] };
    const srv = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
    // servername: the SNI the client sent (false: none).
    srv.on('secureConnection', (sock) => { stats.tlsOk++; stats.servernames.push(sock.servername); });
    srv.on('tlsClientError', (e) => { stats.tlsErrors.push(e.code || e.message); });
    srv.on('request', (req, res) => { stats.requests++; res.writeHead(404); res.end(); });
    srv.on('upgrade', () => { stats.upgrades++; });
    const wss = new WebSocket.Server({ server: srv, maxPayload: 64 << 20 });
    wss.on('connection', (ws) => {
      stats.connections++;
      ws.on('error', (e) => stats.errors.push(e.message));
      ws.on('message', (data, isBinary) => {
        const m = !isBinary && /^please-close:(\d+):(.*)$/s.exec(data.toString());
        if (m) ws.close(Number(m[1]), m[2]);
        else ws.send(data, { binary: isBinary });
      });
    });
    srv.on('error', reject);
    srv.listen(0, host || '127.0.0.1', () => resolve({ srv, wss, stats, port: srv.address().port }));
  });
}

function closeNodeServer(n) {
  for (const c of n.wss.clients) c.terminate();
  n.wss.close();
  return new Promise((r) => n.srv.close(() => r()));
}

// ---- a Node wss client, one event at a time ----

class Peer {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    ws.on('open', () => this.push({ type: 'open' }));
    ws.on('message', (data, isBinary) => this.push({ type: 'message', data, isBinary }));
    ws.on('pong', (data) => this.push({ type: 'pong', data }));
    ws.on('close', (code, reason) => this.push({ type: 'close', code, reason: reason.toString() }));
    ws.on('error', (err) => this.push({ type: 'error', err }));
  }
  push(ev) {
    const w = this.waiters.shift();
    if (w) w(ev);
    else this.queue.push(ev);
  }
  next(ms = 60000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve) => {
      const h = (ev) => { clearTimeout(t); resolve(ev); };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(h);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve({ type: 'timeout' });
      }, ms);
      this.waiters.push(h);
    });
  }
}

const UNIT = Buffer.from('a\u00e9\u20ac\u{1D11E}', 'utf8');
function textOf(n) {
  const b = Buffer.alloc(n, 0x78);
  for (let i = 0; i + UNIT.length <= n; i += UNIT.length) UNIT.copy(b, i);
  return b;
}
const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 16383, 16384, 16385, 1 << 20, 16 << 20];

// The Node ws client against one of our wss servers.
async function nodeClientBattery(url, certs, opts = {}) {
  const peer = new Peer(new WebSocket(url, { ca: fs.readFileSync(certs.ca), maxPayload: 64 << 20 }));
  let ev = await peer.next();
  if (!check(ev.type === 'open', 'node client opens ' + url, ev.type + ' ' + (ev.err ? ev.err.message : ''))) return;
  for (const n of SIZES) {
    const bin = crypto.randomBytes(n);
    peer.ws.send(bin, { binary: true });
    ev = await peer.next();
    check(ev.type === 'message' && ev.isBinary && Buffer.compare(ev.data, bin) === 0,
      'binary ' + n + ' bytes echoed byte for byte', ev.type);
    const txt = textOf(n);
    peer.ws.send(txt, { binary: false });
    ev = await peer.next();
    check(ev.type === 'message' && !ev.isBinary && Buffer.compare(ev.data, txt) === 0,
      'text ' + n + ' bytes echoed byte for byte', ev.type);
  }
  // Fragmented: pieces cut through code points, a ping between them.
  const whole = textOf(100003);
  const cuts = [0, 1, 2, 3, 50000, 7, 49990];
  let off = 0;
  cuts.forEach((len, i) => {
    peer.ws.send(whole.subarray(off, off + len), { binary: false, fin: i === cuts.length - 1 });
    if (i === 3) peer.ws.ping(Buffer.from('mid'));
    off += len;
  });
  ev = await peer.next();
  check(ev.type === 'pong' && ev.data.toString() === 'mid', 'pong to a ping between fragments', ev.type);
  ev = await peer.next();
  check(ev.type === 'message' && !ev.isBinary && Buffer.compare(ev.data, whole) === 0,
    'fragmented text echoed whole', ev.type);
  const pingData = crypto.randomBytes(125);
  peer.ws.ping(pingData);
  ev = await peer.next();
  check(ev.type === 'pong' && Buffer.compare(ev.data, pingData) === 0, 'pong carries 125 ping bytes', ev.type);
  if (opts.serverClose) {
    peer.ws.send('please-close:4001:server bye \u2713');
    ev = await peer.next();
    check(ev.type === 'close' && ev.code === 4001 && ev.reason === 'server bye \u2713',
      'server closes with code 4001 and its reason', JSON.stringify(ev));
  } else {
    peer.ws.close(4000, 'client bye \u2713');
    ev = await peer.next();
    check(ev.type === 'close' && ev.code === 4000, 'close code 4000 answered', JSON.stringify(ev));
  }
}

// ---- cases ----

const cases = {};

// Node's ws client over wss against examples/echo_server --tls.
cases.node_client_echo_server = async () => {
  const certs = makeCerts();
  const s = await startServer(opt.echo, ['--tls', certs.cert, certs.key, '--host', '127.0.0.1', '--port', '0',
    '--verbose'], /listening on wss:\/\/127\.0\.0\.1:(\d+)\//);
  await nodeClientBattery('wss://127.0.0.1:' + s.port + '/', certs);
  await nodeClientBattery('wss://localhost:' + s.port + '/', certs);
  await sleep(200);
  const code = await stopServer(s);
  check(/closed 4000 "client bye \u2713"/.test(s.err), 'echo_server saw close 4000 with its reason', s.err.slice(-400));
  check(code === 0 && sanitizerClean(s.err), 'echo_server exits 0 and clean', code + ' ' + s.err.slice(-2000));
};

// Node's ws client against our tls_peer server (server-side close too).
cases.node_client_peer = async () => {
  const certs = makeCerts();
  const s = await startServer(opt.peer, ['server', '--cert', certs.cert, '--key', certs.key, '--conns', '2'],
    /PORT (\d+)/);
  await nodeClientBattery('wss://127.0.0.1:' + s.port + '/', certs);
  await nodeClientBattery('wss://localhost:' + s.port + '/', certs, { serverClose: true });
  const code = await withTimeout(s.done, 60000, 'tls_peer server exit').catch(() => 999);
  check(/conn closed 4000 "client bye \u2713"/.test(s.err), 'tls_peer saw the client\'s close 4000 with its reason',
    s.err.slice(-400));
  check(code === 0 && sanitizerClean(s.err), 'tls_peer server ends after 2 connections, exit 0, clean',
    code + ' ' + s.err.slice(-2000));
  check(!/conn error/.test(s.err), 'no connection errors on the server', s.err.slice(-400));
};

// Our client against Node's https + ws server.
cases.c_client = async () => {
  const certs = makeCerts();
  const n = await nodeServer(certs.cert, certs.key);
  for (const host of ['127.0.0.1', 'localhost']) {
    const seen = n.stats.servernames.length;
    const r = await run(opt.peer, ['client', 'wss://' + host + ':' + n.port + '/', '--ca', certs.ca, 'suite'], 300000);
    check(r.code === 0 && /\b0 failed/.test(r.out) && sanitizerClean(r.err),
      'our client suite against Node over wss://' + host, r.code + '\n' + r.out.slice(-500) + r.err.slice(-2000));
    // SNI: the URL's host name; none for an address (RFC 6066 section 3).
    const sni = n.stats.servernames.slice(seen);
    const want = host === 'localhost' ? 'localhost' : false;
    check(sni.length === 2 && sni.every((x) => x === want), 'SNI for wss://' + host + ' is ' + JSON.stringify(want),
      JSON.stringify(sni));
  }
  check(n.stats.errors.length === 0, 'Node server saw no errors', n.stats.errors.join('; '));
  await closeNodeServer(n);
  // IPv6 loopback, where the machine has it.
  let n6 = null;
  try { n6 = await nodeServer(certs.cert, certs.key, '::1'); } catch (e) { console.log('note: no ::1 here, IPv6 part skipped'); }
  if (n6) {
    const r = await run(opt.peer, ['client', 'wss://[::1]:' + n6.port + '/', '--ca', certs.ca, 'suite'], 300000);
    check(r.code === 0 && sanitizerClean(r.err), 'our client suite over wss://[::1] (IP SAN ::1)',
      r.code + '\n' + r.out.slice(-500) + r.err.slice(-2000));
    await closeNodeServer(n6);
  }
};

// Certificate checks: untrusted CA, wrong host name (name and address),
// and the explicit insecure mode. A refused server sees no HTTP at all.
cases.verify = async () => {
  const certs = makeCerts();
  const good = await nodeServer(certs.cert, certs.key);
  let r = await run(opt.peer, ['client', 'wss://localhost:' + good.port + '/', '--ca', certs.otherCa, 'expect-fail',
    'not correctly signed by the trusted CA'], 60000);
  check(r.code === 0 && sanitizerClean(r.err), 'a certificate from another CA is refused, saying so',
    r.out + r.err);
  console.log('untrusted CA -> ' + (r.out.match(/reason: .*/) || [''])[0]);
  // ws_connect_url itself takes wss:// and verifies by default (against the
  // system bundle, which does not hold our test CA).
  r = await run(opt.peer, ['client', 'wss://localhost:' + good.port + '/', '--default', 'expect-fail',
    'not correctly signed by the trusted CA'], 60000);
  check(r.code === 0 && sanitizerClean(r.err), 'ws_connect_url(wss://) verifies against the system CAs by default',
    r.out + r.err);
  check(good.stats.upgrades === 0 && good.stats.requests === 0 && good.stats.tlsOk === 0,
    'no WebSocket traffic reached the server', JSON.stringify(good.stats));
  await closeNodeServer(good);

  const wrong = await nodeServer(certs.wrongCert, certs.wrongKey);
  for (const host of ['localhost', '127.0.0.1']) {
    r = await run(opt.peer, ['client', 'wss://' + host + ':' + wrong.port + '/', '--ca', certs.ca, 'expect-fail',
      'does not match'], 60000);
    check(r.code === 0 && sanitizerClean(r.err), 'a certificate for another name is refused for ' + host,
      r.out + r.err);
    check(/verification failed for /.test(r.out), 'the reason names the host', r.out);
    console.log('wrong host ' + host + ' -> ' + (r.out.match(/reason: .*/) || [''])[0]);
  }
  check(wrong.stats.upgrades === 0 && wrong.stats.requests === 0 && wrong.stats.tlsOk === 0,
    'no WebSocket traffic reached the wrong-name server', JSON.stringify(wrong.stats));
  await closeNodeServer(wrong);

  // Insecure: the same wrong certificate is accepted when asked for.
  const again = await nodeServer(certs.wrongCert, certs.wrongKey);
  r = await run(opt.peer, ['client', 'wss://127.0.0.1:' + again.port + '/', '--insecure', 'suite'], 300000);
  check(r.code === 0 && sanitizerClean(r.err), 'insecure_skip_verify accepts any certificate',
    r.out.slice(-300) + r.err.slice(-1000));
  await closeNodeServer(again);

  // A CA file that does not exist: a setup error that says so.
  r = await run(opt.peer, ['client', 'wss://127.0.0.1:1/', '--ca', path.join(work, 'missing.crt'), 'expect-fail',
    'could not load the trusted CA certificates'], 60000);
  check(r.code === 0 && sanitizerClean(r.err), 'a missing CA file is reported before connecting', r.out + r.err);
};

// Hostile peers: garbage instead of TLS, a handshake cut in the middle, a
// silent peer, garbage after the TLS handshake. No crash, no leak (the
// sanitized build runs this), and the server still serves afterwards.
cases.garbage = async () => {
  const certs = makeCerts();
  // --- against our server ---
  const hostile = 7;
  const s = await startServer(opt.peer, ['server', '--cert', certs.cert, '--key', certs.key, '--conns',
    String(hostile + 1), '--handshake-timeout', '3000'], /PORT (\d+)/);
  const raw = (fn) => new Promise((resolve) => {
    const sock = net.connect(s.port, '127.0.0.1', () => fn(sock));
    sock.on('error', () => {});
    sock.on('close', () => resolve());
    sock.setTimeout(20000, () => sock.destroy());
  });
  await raw((k) => k.write(crypto.randomBytes(4096)));                   // 1 garbage
  await raw((k) => k.end(Buffer.concat([Buffer.from([0x16, 3, 1, 2, 0]), crypto.randomBytes(40)]))); // 2 cut record
  await raw((k) => k.destroy());                                          // 3 connect and go
  await raw(() => {});                                                    // 4 silent: handshake timeout
  // 5 a real ClientHello (Node's, captured), then gone once the server answers
  const hello = await new Promise((resolve) => {
    const cap = net.createServer((k) => k.once('data', (d) => { resolve(d); k.destroy(); cap.close(); }));
    cap.listen(0, '127.0.0.1', () => {
      const t = tls.connect({ port: cap.address().port, host: '127.0.0.1', rejectUnauthorized: false,
        servername: 'localhost' });
      t.on('error', () => {});
    });
  });
  await raw((k) => { k.write(hello); k.once('data', () => k.destroy()); });
  // 6 TLS fine, then garbage instead of an HTTP request
  // 7 TLS fine, then half a request and a hang-up
  for (const bytes of [crypto.randomBytes(3000), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgr')]) {
    await new Promise((resolve) => {
      const t = tls.connect({ port: s.port, host: '127.0.0.1', ca: fs.readFileSync(certs.ca), servername: 'localhost' },
        () => { t.write(bytes); if (bytes.length < 100) setTimeout(() => t.destroy(), 200); });
      t.on('error', () => {});
      t.on('close', () => resolve());
      t.setTimeout(20000, () => t.destroy());
    });
  }
  // 8 and the server still works
  const peer = new Peer(new WebSocket('wss://localhost:' + s.port + '/', { ca: fs.readFileSync(certs.ca) }));
  let ev = await peer.next();
  check(ev.type === 'open', 'the server still serves after hostile peers', ev.type);
  peer.ws.send('still here');
  ev = await peer.next();
  check(ev.type === 'message' && ev.data.toString() === 'still here', 'and echoes', ev.type);
  peer.ws.close(1000);
  await peer.next();
  const code = await withTimeout(s.done, 60000, 'server exit').catch(() => { s.proc.kill('SIGKILL'); return 999; });
  check(code === 0 && sanitizerClean(s.err), 'server exits 0 after ' + (hostile + 1) + ' connections, sanitizers quiet',
    code + ' ' + s.err.slice(-3000));
  const errs = (s.err.match(/conn error: [^\n]*/g) || []);
  check(errs.some((e) => /TLS error: TLS handshake failed/.test(e)), 'garbage gives a TLS handshake error', errs.join('\n'));
  check(errs.some((e) => /the peer closed the connection/.test(e)), 'a cut handshake says the peer closed', errs.join('\n'));
  check(errs.some((e) => /timed out/.test(e)), 'a silent peer times out', errs.join('\n'));
  console.log('server-side errors:\n  ' + errs.join('\n  '));

  // --- against our client ---
  const bad = async (onConn, expect, what) => {
    const socks = new Set();
    const srv = net.createServer((k) => { socks.add(k); k.on('error', () => {}); onConn(k); });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const r = await run(opt.peer, ['client', 'wss://localhost:' + srv.address().port + '/', '--ca', certs.ca,
      'expect-fail', expect], 60000);
    check(r.code === 0 && sanitizerClean(r.err), 'client: ' + what, r.out + r.err);
    console.log('client, ' + what + ' -> ' + (r.out.match(/reason: .*/) || [''])[0]);
    for (const k of socks) k.destroy();
    srv.close();
    await sleep(100);
  };
  await bad((k) => k.write(crypto.randomBytes(2048)), 'TLS handshake failed', 'garbage from the server');
  await bad((k) => k.once('data', () => k.destroy()), 'the peer closed the connection', 'server hangs up after ClientHello');
  await bad((k) => k.once('data', () => k.end(Buffer.from([0x16, 3, 3, 0, 200, 2, 0, 0]))), 'TLS handshake failed',
    'server sends half a ServerHello and hangs up');
};

// examples/wscat over wss to examples/echo_server --tls: --ca, the refusal
// of an untrusted server, --insecure (which must warn), a missing CA file.
cases.wscat = async () => {
  const certs = makeCerts();
  const s = await startServer(opt.echo, ['--tls', certs.cert, certs.key, '--host', '127.0.0.1', '--port', '0'],
    /listening on wss:\/\/127\.0\.0\.1:(\d+)\//);
  const wscat = (args, input) => new Promise((resolve) => {
    const p = spawn(opt.wscat, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('close', (code) => { clearTimeout(t); children.delete(p); resolve({ code, out, err }); });
    // wscat exits before reading its input when it refuses the server: the
    // pipe then breaks (EPIPE), which is expected, not a test failure.
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
  const url = 'wss://localhost:' + s.port + '/';
  const lines = 'hello\nw\u00f6rld \u2713\n' + 'x'.repeat(100000) + '\n';
  let r = await wscat(['--ca', certs.ca, url], lines);
  check(r.code === 0 && r.out === lines && sanitizerClean(r.err), 'wscat --ca: lines echoed over wss', r.code + ' ' + r.err);
  r = await wscat(['--ca', certs.otherCa, url], 'x\n');
  check(r.code === 1 && /not correctly signed by the trusted CA/.test(r.err) && r.out === '',
    'wscat refuses a server its CA did not sign, saying why', r.code + ' ' + r.err);
  r = await wscat(['--insecure', 'wss://127.0.0.1:' + s.port + '/'], 'y\n');
  check(r.code === 0 && r.out === 'y\n' && /WARNING: --insecure/.test(r.err), 'wscat --insecure works and warns',
    r.code + ' ' + r.err);
  r = await wscat(['--ca', path.join(work, 'nope.crt'), url], 'x\n');
  check(r.code === 1 && /could not load the trusted CA certificates from .*nope\.crt/.test(r.err),
    'wscat names a missing CA file', r.code + ' ' + r.err);
  const code = await stopServer(s);
  check(code === 0 && sanitizerClean(s.err), 'echo_server exits 0 and clean', code + ' ' + s.err.slice(-2000));
};

// Headless Chromium over wss to examples/echo_server --tls (or tls_peer),
// from a page served by a tiny Node server on 127.0.0.1.
cases.browser = async () => {
  const certs = makeCerts();
  let pw;
  try {
    pw = nodeRequire('playwright-core');
  } catch (e) {
    check(false, 'playwright-core is installed (npm ci in tests/node)', e.message);
    return;
  }
  const chromium = opt.chromium || '/usr/bin/chromium';
  if (!check(fs.existsSync(chromium), 'chromium exists at ' + chromium)) return;
  const useEcho = opt.echo && opt.echo !== 'none';
  const s = useEcho
    ? await startServer(opt.echo, ['--tls', certs.cert, certs.key, '--host', '127.0.0.1', '--port', '0'],
      /listening on wss:\/\/127\.0\.0\.1:(\d+)\//)
    : await startServer(opt.peer, ['server', '--cert', certs.cert, '--key', certs.key, '--conns', '1'], /PORT (\d+)/);
  // The page comes from 127.0.0.1 too: Chromium blocks a public origin
  // (about:blank counts as one) from reaching loopback.
  const page0 = require('http').createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>wss test</title>');
  });
  await new Promise((r) => page0.listen(0, '127.0.0.1', r));
  const browser = await pw.chromium.launch({
    executablePath: chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--no-proxy-server',
      '--ignore-certificate-errors'],
    timeout: 60000,
  });
  try {
    const page = await browser.newPage();
    await page.goto('http://127.0.0.1:' + page0.address().port + '/');
    const res = await withTimeout(page.evaluate(async (url) => {
      const out = [];
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      const queue = [];
      let wake = null;
      const push = (e) => { queue.push(e); if (wake) { wake(); wake = null; } };
      ws.onopen = () => push({ t: 'open' });
      ws.onmessage = (e) => push({ t: 'msg', d: e.data });
      ws.onclose = (e) => push({ t: 'close', code: e.code, reason: e.reason });
      ws.onerror = () => push({ t: 'error' });
      const next = async () => { while (!queue.length) await new Promise((r) => { wake = r; }); return queue.shift(); };
      let e = await next();
      out.push(['open', e.t === 'open']);
      if (e.t !== 'open') return out;
      for (const n of [0, 1, 125, 126, 65535, 65536, 1 << 20]) {
        const text = 'h\u00e9llo \u2713 '.repeat(Math.ceil(n / 12) + 1).slice(0, n);
        ws.send(text);
        e = await next();
        out.push(['text ' + n, e.t === 'msg' && e.d === text]);
        const bin = new Uint8Array(n);
        for (let i = 0; i < n; i++) bin[i] = (i * 131 + 7) & 255;
        ws.send(bin);
        e = await next();
        let same = e.t === 'msg' && e.d instanceof ArrayBuffer && e.d.byteLength === n;
        if (same) { const g = new Uint8Array(e.d); for (let i = 0; i < n && same; i++) same = g[i] === bin[i]; }
        out.push(['binary ' + n, same]);
      }
      ws.close(4000, 'browser bye');
      e = await next();
      out.push(['close 4000', e.t === 'close' && e.code === 4000]);
      return out;
    }, 'wss://127.0.0.1:' + s.port + '/'), 120000, 'browser exchange');
    for (const [what, ok] of res) check(ok, 'chromium: ' + what);
    check(res.length > 10, 'chromium ran the whole exchange', JSON.stringify(res));
  } finally {
    await browser.close();
    page0.close();
  }
  const code = useEcho ? await stopServer(s)
    : await withTimeout(s.done, 30000, 'tls_peer exit').catch(() => { s.proc.kill('SIGKILL'); return 999; });
  check(sanitizerClean(s.err) && code === 0, 'server stops cleanly', code + ' ' + s.err.slice(-2000));
};

(async () => {
  if (!cases[CASE] || !opt.peer) {
    console.error('usage: node tls_test.js ' + Object.keys(cases).join('|') +
      ' --peer TLS_PEER [--echo ECHO_SERVER] [--wscat WSCAT]');
    process.exit(2);
  }
  const t0 = Date.now();
  try {
    await cases[CASE]();
  } catch (e) {
    check(false, 'case ' + CASE + ' ran to the end', e.stack || e);
  }
  console.log('tls.' + CASE + ': ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s');
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exit(failed ? 1 : 0);
})();

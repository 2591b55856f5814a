'use strict';
// 1000 concurrent connections to echo_server, each exchanging several
// messages that must all come back in order.
//   node load.js URL [CONNECTIONS [MESSAGES]]
const { connect, Runner, sha } = require('./common');
const crypto = require('crypto');

const [url, nArg, mArg] = process.argv.slice(2);
const N = Number(nArg || 1000);
const M = Number(mArg || 6);
const SIZES = [16, 200, 5000, 70000, 0, 125];
const t = new Runner();

function payload(conn, seq) {
  const n = SIZES[seq % SIZES.length];
  const b = crypto.randomBytes(n);
  const text = seq % 2 === 1;
  if (text) for (let i = 0; i < n; i++) b[i] = 0x61 + (b[i] % 26); // ASCII text
  return { data: b, binary: !text };
}

async function main() {
  const t0 = Date.now();
  const peers = new Array(N);
  let openFailures = 0;
  const BATCH = 100; // connection attempts in flight at once
  for (let i = 0; i < N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      batch.push(connect(url).then((p) => { peers[j] = p; }, () => { openFailures++; }));
    await Promise.all(batch);
  }
  const t1 = Date.now();
  t.check(`${N} connections open at once`, openFailures === 0 && peers.every(Boolean), `${openFailures} failed`);
  if (openFailures) return;

  // Every connection sends all its messages at once, then reads them back.
  const sent = peers.map((p, i) => {
    const msgs = [];
    for (let s = 0; s < M; s++) {
      const m = payload(i, s);
      p.ws.send(m.data, { binary: m.binary });
      msgs.push(m);
    }
    return msgs;
  });
  let wrong = 0;
  let firstWrong = '';
  await Promise.all(peers.map(async (p, i) => {
    for (let s = 0; s < M; s++) {
      const ev = await p.next(120000);
      const m = sent[i][s];
      if (ev.type !== 'message' || ev.isBinary !== m.binary || !Buffer.from(ev.data).equals(m.data)) {
        if (!wrong) firstWrong = `conn ${i} msg ${s}: ${ev.type} ${ev.data ? sha(ev.data) : ''} vs ${sha(m.data)}`;
        wrong++;
        return;
      }
    }
  }));
  const t2 = Date.now();
  t.check(`${N * M} messages echoed in order, byte for byte`, wrong === 0, `${wrong} connections wrong; ${firstWrong}`);

  const codes = await Promise.all(peers.map(async (p) => {
    p.ws.close(1000);
    const ev = await p.next(60000);
    return ev.type === 'close' ? ev.code : ev.type;
  }));
  const t3 = Date.now();
  const bad = codes.filter((c) => c !== 1000);
  t.check(`${N} clean closes`, bad.length === 0, `${bad.length} not 1000, e.g. ${bad[0]}`);
  console.log(`timing: open ${t1 - t0} ms, ${N * M} echoes ${t2 - t1} ms, close ${t3 - t2} ms`);
}

const guard = setTimeout(() => {
  t.check('load test finished within 240 s', false);
  t.finish();
  process.exit(1);
}, 240000);
main().then(() => { clearTimeout(guard); t.finish(); }, (e) => {
  clearTimeout(guard);
  t.check('unexpected error', false, e && e.stack ? e.stack : String(e));
  t.finish();
});

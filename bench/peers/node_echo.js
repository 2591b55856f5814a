// node_echo - an echo server on Node's `ws` (the pinned copy in
// tests/node/node_modules), for bench/run_e2e.sh.
//   node node_echo.js --port P     (127.0.0.1; prints "listening on PORT")
// Every message goes back with the opcode it came with; no compression.
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '..', '..', 'tests', 'node', 'node_modules', 'ws'));

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 64 << 20 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`node_echo listening on ${wss.address().port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

// berth's sample app: a tiny HTTP server whose behaviour is set through env, used by the
// quick start, the tests and the benchmarks. No dependencies: it runs on node alone.
//   VERSION           text served at / (default "v1")
//   PORT              listen port (default 8000)
//   STARTUP_DELAY_MS  wait this long before listening (default 0)
//   HEALTHY           "false" makes /health answer 500 forever (so does a file /tmp/unhealthy, from then on)
//   EXIT_AFTER_MS     exit(1) this long after start (a release that crashes)
//   MIGRATE_FAIL      "true" makes `node server.js migrate` exit 1
//   JOB_MS, WORKER_FAIL  `node server.js worker`: a job worker (see below)
//   MISBEHAVE         "true" turns on /alloc?mb=N (holds N MB more per call) and /fork?n=N (starts up
//                     to N idle child processes), and ALLOC_AT_START_MB (held before listening):
//                     the tests' runaway app. Off unless set.
// GET /host answers its version and hostname (the container id): which copy answered.
// GET /env?keys=A,B answers which of those keys are set ({"A":true,"B":false}), never their
// values: a sample is what people copy, and an app's env holds its secrets.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const version = process.env.VERSION || 'v1';
const port = Number(process.env.PORT || 8000);
const delay = Number(process.env.STARTUP_DELAY_MS || 0);
const healthy = () => process.env.HEALTHY !== 'false' && !fs.existsSync('/tmp/unhealthy');
const started = Date.now();
const hoard = [];
const children = [];

const worker = process.argv[2] === 'worker';
if (worker) {
  // A worker: one job after another, each JOB_MS long (default 3000); on SIGTERM it finishes the
  // job in hand and exits 0. WORKER_FAIL=true makes it exit 1 at once (a worker that cannot start).
  if (process.env.WORKER_FAIL === 'true') { console.error(`worker ${version} cannot start`); process.exit(1); }
  const jobMs = Number(process.env.JOB_MS || 3000);
  let stopping = false;
  let n = 0;
  const next = () => {
    if (stopping) { console.log(`worker ${version} stopped after job ${n}`); process.exit(0); }
    const job = ++n;
    console.log(`worker ${version} job ${job} started`);
    setTimeout(() => { console.log(`worker ${version} job ${job} done`); next(); }, jobMs);
  };
  process.on('SIGTERM', () => { stopping = true; console.log(`worker ${version} finishing job ${n}`); });
  next();
}

if (process.argv[2] === 'migrate') {
  console.log(`migrating ${version}`);
  process.exit(process.env.MIGRATE_FAIL === 'true' ? 1 : 0);
}

function wsAccept(req, socket) {
  const key = req.headers['sec-websocket-key'];
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  // Server-to-client text frames (unmasked, < 126 bytes): a tick every 100 ms.
  let n = 0;
  const timer = setInterval(() => {
    const payload = Buffer.from(`${version} tick ${n++}`);
    socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  }, 100);
  socket.on('close', () => clearInterval(timer));
  socket.on('error', () => clearInterval(timer));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/health') {
    const ok = healthy();
    res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' });
    return res.end(ok ? 'ok\n' : 'unhealthy\n');
  }
  if (url.pathname === '/slow') {
    const ms = Number(url.searchParams.get('ms') || 1000);
    return setTimeout(() => { res.writeHead(200); res.end(`${version} slow ${ms}\n`); }, ms);
  }
  if (url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let n = 0;
    const timer = setInterval(() => res.write(`data: ${version} ${n++}\n\n`), 100);
    return req.on('close', () => clearInterval(timer));
  }
  if (url.pathname === '/host') {
    // which copy answered: its container's hostname (Docker sets it to the container id)
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(`${version} ${require('node:os').hostname()}\n`);
  }
  if (url.pathname === '/log') {
    console.log(String(url.searchParams.get('msg') ?? '').slice(0, 200));
    res.writeHead(204);
    return res.end();
  }
  if (url.pathname === '/env') {
    // Which of the asked keys are set, as true/false: never a value. This answers on the app's
    // public domain, and the env holds the app's secrets (DATABASE_URL, S3_SECRET_KEY, ...).
    const keys = (url.searchParams.get('keys') || '').split(',').filter(Boolean).slice(0, 100);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(Object.fromEntries(keys.map((k) => [k, process.env[k] !== undefined]))));
  }
  if (process.env.MISBEHAVE === 'true' && url.pathname === '/alloc') {
    const mb = Number(url.searchParams.get('mb') || 64);
    for (let i = 0; i < mb; i++) hoard.push(Buffer.alloc(1024 * 1024, 1)); // filled: resident, not just reserved
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(`holding ${hoard.length} MB\n`);
  }
  if (process.env.MISBEHAVE === 'true' && url.pathname === '/fork') {
    const n = Number(url.searchParams.get('n') || 100);
    let started = 0;
    let error = null;
    for (; started < n && !error; started++) {
      try {
        const child = spawn(process.execPath, ['--v8-pool-size=0', '-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
        child.on('error', () => undefined);
        if (!child.pid) error = 'spawn failed';
        children.push(child);
      } catch (e) {
        error = e.code || e.message;
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ started: children.filter((c) => c.pid).length, error }));
  }
  if (url.pathname !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return res.end('not found\n');
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${process.env.APP_NAME || 'sample'} ${version}\n`);
});
server.on('upgrade', (req, socket) => wsAccept(req, socket));
server.keepAliveTimeout = 65_000;

function shutdown() {
  console.log(`${version} shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // A proxy may hold a connection that never sends a request; close() waits for it forever.
  setTimeout(() => server.closeAllConnections(), 2000).unref();
  setTimeout(() => process.exit(0), 25_000).unref();
}
if (!worker) {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (process.env.EXIT_AFTER_MS) {
  setTimeout(() => { console.error(`${version} crashing on purpose`); process.exit(1); }, Number(process.env.EXIT_AFTER_MS));
}
if (process.env.MISBEHAVE === 'true') for (let i = 0; i < Number(process.env.ALLOC_AT_START_MB || 0); i++) hoard.push(Buffer.alloc(1024 * 1024, 1));
// after: since this file began (STARTUP_DELAY_MS and the rest); since the process began: node's own start and its loading of modules too
if (!worker) {
  setTimeout(() => server.listen(port, () =>
    console.log(`${version} listening on ${port} after ${Date.now() - started} ms (${Math.round(performance.now())} ms since the process began)`)), delay);
}

// A source directory to build, as an app's repository would hold it: a Dockerfile FROM the local
// sample image (no registry is reachable), a .dockerignore, a multi-stage build with an ARG, and
// a tiny server that says what reached the image. Written afresh by each test that needs one.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// exec-form RUN: the sample image has node but no shell
const node = (script: string) => `RUN ${JSON.stringify(['/usr/bin/node', '-e', script])}`;

const SERVER = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return null; } };
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(200); return res.end('ok'); }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ info: JSON.parse(read('/app/build-info.json') || '{}'), files: fs.readdirSync('/app/src').sort(),
    version: read('/app/src/version.txt'), release: process.env.BERTH_RELEASE }));
}).listen(Number(process.env.PORT || 8000));
`;

export function dockerfile(base: string, o: { cpuMs?: number; sleepMs?: number; token?: string } = {}): string {
  return [
    `FROM ${base} AS deps`,
    'ARG GREETING=unset',
    // the step a second build must take from the cache: its output says when it really ran
    node(`require('fs').writeFileSync('/app/deps.txt', 'deps'); console.log('ran the deps step for ' + process.env.GREETING)`),
    ...(o.cpuMs ? [node(`const t = Date.now(); while (Date.now() - t < ${o.cpuMs}) {} console.log('burned ${o.cpuMs} ms of CPU')`)] : []),
    // a new token each time: never taken from an earlier run's cache
    ...(o.sleepMs ? [node(`setTimeout(() => console.log('slept'), ${o.sleepMs}); console.log('sleeping ${o.sleepMs} ms', '${o.token ?? Date.now()}')`)] : []),
    'FROM deps AS prod',
    'ARG GREETING=unset',
    node("require('fs').writeFileSync('/app/build-info.json', JSON.stringify({ stage: 'prod', greeting: process.env.GREETING }))"),
    'COPY . /app/src/',
    'COPY server.js /app/server.js',
    'FROM prod AS debug',
    node("require('fs').writeFileSync('/app/build-info.json', JSON.stringify({ stage: 'debug' }))"),
    '',
  ].join('\n');
}

/** A Dockerfile whose RUN step fails after printing to stdout and stderr. */
export function failingDockerfile(base: string): string {
  return [`FROM ${base}`, node("console.log('compiling assets'); console.error('error: assets/app.css: unexpected }'); process.exit(3)"), ''].join('\n');
}

/** Writes the source tree; returns its directory. */
export function writeContext(base: string, o: { version?: string; cpuMs?: number; sleepMs?: number; token?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-src-'));
  const files: Record<string, string> = {
    'Dockerfile': dockerfile(base, o),
    'Dockerfile.bad': failingDockerfile(base),
    '.dockerignore': ['# what never reaches the image', 'secret.env', 'node_modules', '*.log', '!keep.log', ''].join('\n'),
    'server.js': SERVER,
    'version.txt': o.version ?? 'one',
    'secret.env': 'PASSWORD=hunter2',
    'debug.log': 'noise',
    'keep.log': 'kept despite *.log',
    'node_modules/big/index.js': 'module.exports = 1',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

// Native TLS: the server itself serves wss:// and https:// with a certificate made here by a test CA.
// pusher-js (in its own Node process, trusting the CA through NODE_EXTRA_CA_CERTS) subscribes to a public
// and a private channel over wss://; the official `pusher` SDK publishes over https:// (trusting the CA
// through its agent), and a client that does not trust the certificate fails its handshake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startServer } from './lib/server.mjs';
import { startAuthEndpoint } from './lib/auth-endpoint.mjs';
import { serverSdk } from './lib/clients.mjs';
import { makeTestCertificates } from './lib/test-ca.mjs';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/pusher-js-wss-client.mjs');
const WAIT_MS = 8000;

let dir;
let ca;
let server;
let endpoint;

/** pusher-js over wss:// in a child process; resolves to the first of its JSON lines matching `match`. */
function pusherJsUntil(match, what, env) {
  const child = spawn(process.execPath, [CLIENT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const lines = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(lines)}\n${stderr}`)), WAIT_MS);
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text);
      lines.push(line);
      if (match(line, lines)) {
        clearTimeout(timer);
        resolve(lines);
      }
    });
  });
  return { child, lines, done, stop: () => { child.stdin.end(); child.kill('SIGTERM'); } };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webman-push-native-tls-'));
  const pki = makeTestCertificates(dir);
  ca = pki.ca;
  server = await startServer({ api: 'https://127.0.0.1:0', ssl: { local_cert: pki.cert, local_pk: pki.key } });
  endpoint = await startAuthEndpoint({ key: server.key, secret: server.secret });
});

after(async () => {
  await endpoint?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('pusher-js over native wss:// receives what the pusher SDK publishes over native https://', async () => {
  const sdk = serverSdk(server, { useTLS: true, agent: new Agent({ ca }) });
  const client = pusherJsUntil(
    (_l, lines) => ['news', 'private-orders'].every((c) => lines.some((l) => l.subscribed === c)),
    'both subscriptions',
    {
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      PUSHER_KEY: server.key,
      PUSHER_PORT: String(server.wsPort),
      PUSHER_AUTH_URL: endpoint.url,
      PUSHER_PUBLIC: 'news',
      PUSHER_PRIVATE: 'private-orders',
    },
  );
  try {
    await client.done;
    const received = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event; lines: ${JSON.stringify(client.lines)}`)), WAIT_MS);
      const check = () => {
        const got = ['news', 'private-orders'].every((c) => client.lines.some((l) => l.event === 'update' && l.channel === c && l.data.n === 1));
        if (got) { clearTimeout(timer); resolve(); } else setTimeout(check, 20);
      };
      check();
    });
    const answer = await sdk.trigger(['news', 'private-orders'], 'update', { n: 1 });
    assert.equal(answer.status, 200);
    await received;
  } finally {
    client.stop();
  }
});

test('a client that does not trust the certificate fails its wss:// handshake and the server keeps serving', async () => {
  const refused = await new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.wsPort}/app/${server.key}?protocol=7`);
    ws.once('open', () => { ws.close(); resolve(null); });
    ws.once('error', (error) => resolve(error));
  });
  assert.match(String(refused?.code ?? refused), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  const trusted = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.wsPort}/app/${server.key}?protocol=7`, { ca });
    ws.once('message', (data) => { ws.close(); resolve(JSON.parse(String(data))); });
    ws.once('error', reject);
  });
  assert.equal(trusted.event, 'pusher:connection_established');
});

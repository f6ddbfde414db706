// Debian's real nginx in front of the server, configured with the README's recipe, TLS at nginx with a
// certificate made here by a test CA: pusher-js over wss:// subscribes to a public and a private channel
// (authorised through nginx by webman's real route.php, for a user signed in by session; without the
// session the private channel is refused), receives API triggers, and after `nginx -s reload`
// (SIGHUP; old workers close their connections after worker_shutdown_timeout) reconnects and still
// receives. With trusted_proxies the per-IP limit counts the address nginx forwarded for; a client that
// does not trust the certificate fails its TLS handshake without disturbing anyone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startServer } from './lib/server.mjs';
import { startWebmanRoute } from './lib/webman-route.mjs';
import { serverSdk } from './lib/clients.mjs';
import { freePort } from './lib/ports.mjs';
import { makeTestCertificates } from './lib/test-ca.mjs';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/pusher-js-wss-client.mjs');
const WAIT_MS = 8000;

let dir;
let server;
let webman;
let nginx;
let nginxPort;
let ca;
const children = new Set();

/** The README's recipe, with this test's ports and paths. */
function nginxConfig(port) {
  const temp = join(dir, 'nginx-temp');
  mkdirSync(temp, { recursive: true });
  return `
${process.getuid?.() === 0 ? 'user root root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log info;
# After a reload, old workers close the WebSocket connections they still hold after this long.
worker_shutdown_timeout 1s;
events { worker_connections 256; }
http {
    access_log ${dir}/nginx-access.log;
    client_body_temp_path ${temp}/body;
    proxy_temp_path ${temp}/proxy;
    fastcgi_temp_path ${temp}/fastcgi;
    uwsgi_temp_path ${temp}/uwsgi;
    scgi_temp_path ${temp}/scgi;
    server {
        listen 127.0.0.1:${port} ssl;
        server_name localhost;
        ssl_certificate     ${dir}/server.pem;
        ssl_certificate_key ${dir}/server.key;

        location /app/ {
            proxy_pass http://127.0.0.1:${server.wsPort};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "Upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 120s;
        }

        location / {
            proxy_pass http://127.0.0.1:${webman.port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}
`;
}

/** Starts nginx in the foreground on a free port; resolves once it accepts TLS connections. */
async function startNginx() {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(port));
    const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { log += d; });
    const exited = new Promise((done) => child.once('exit', (code) => { children.delete(child); done(code); }));
    const up = await Promise.race([
      exited.then(() => false),
      (async () => {
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          if (await tlsReachable(port)) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      })(),
    ]);
    if (up) return { child, port, exited };
    child.kill('SIGTERM');
    await exited;
    if (attempt >= 3) throw new Error(`nginx did not start:\n${log}\n${safeRead(join(dir, 'nginx-error.log'))}`);
  }
}

function safeRead(path) {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function tlsReachable(port) {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => { socket.end(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** The pusher-js child: its JSON lines, awaited one predicate at a time. */
function startPusherJs({ publicChannel, privateChannel, cookie }) {
  const child = spawn(process.execPath, [CLIENT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      PUSHER_KEY: server.key,
      PUSHER_PORT: String(nginxPort),
      PUSHER_AUTH_URL: `https://127.0.0.1:${nginxPort}/plugin/webman/push/auth`,
      ...(cookie ? { PUSHER_AUTH_COOKIE: cookie } : {}),
      PUSHER_PUBLIC: publicChannel,
      PUSHER_PRIVATE: privateChannel,
    },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text);
    lines.push(line);
    for (const w of [...waiters]) w.check();
  });
  return {
    lines,
    /** Resolves to the first line from index `from` on that satisfies `match`. */
    waitFor(match, what, from = 0) {
      return new Promise((resolve, reject) => {
        const waiter = {
          check() {
            const i = lines.findIndex((l, at) => at >= from && match(l));
            if (i < 0) return;
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(waiter), 1);
            resolve({ line: lines[i], index: i });
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(lines)}\n${stderr}`));
        }, WAIT_MS);
        waiters.push(waiter);
        waiter.check();
      });
    },
    stop() {
      child.stdin.end();
      return new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)));
    },
  };
}

/** A raw WebSocket through nginx from the loopback address `from`; resolves to {ws, status, established}. */
function connectThroughNginx(from, { trustCa = true } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${nginxPort}/app/${server.key}?protocol=7`, {
      ...(trustCa ? { ca } : {}),
      localAddress: from,
    });
    ws.once('message', (data) => resolve({ ws, established: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ ws, status: res.statusCode, body }));
    });
    ws.once('error', (error) => resolve({ ws, error }));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webman-push-nginx-'));
  ca = makeTestCertificates(dir).ca;
  server = await startServer({ trusted_proxies: ['127.0.0.1'], max_connections_per_ip: 2 });
  webman = await startWebmanRoute(server);
  nginx = await startNginx();
  nginxPort = nginx.port;
});

after(async () => {
  // SIGTERM to the master stops its workers too (SIGKILL would orphan them).
  for (const child of children) child.kill('SIGTERM');
  if (nginx) {
    const killer = setTimeout(() => nginx.child.kill('SIGKILL'), 5000);
    await nginx.exited;
    clearTimeout(killer);
  }
  await webman?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('pusher-js over wss:// through nginx subscribes, is authorised by route.php, receives, and reconnects after a reload', async () => {
  const publicChannel = 'news';
  const privateChannel = 'private-orders';
  const cookie = webman.login({ id: 'u1', info: { name: 'Ann' } });
  const client = startPusherJs({ publicChannel, privateChannel, cookie });
  const sdk = serverSdk(server);
  try {
    await client.waitFor((l) => l.subscribed === publicChannel, 'the public subscription');
    await client.waitFor((l) => l.subscribed === privateChannel, 'the private subscription (auth through nginx)');
    const first = client.lines.find((l) => l.state === 'connected').socket_id;

    await sdk.trigger([publicChannel, privateChannel], 'update', { n: 1 });
    await client.waitFor((l) => l.event === 'update' && l.channel === publicChannel && l.data.n === 1, 'the public event');
    await client.waitFor((l) => l.event === 'update' && l.channel === privateChannel && l.data.n === 1, 'the private event');

    const before = client.lines.length;
    process.kill(nginx.child.pid, 'SIGHUP');
    const { index } = await client.waitFor((l) => l.state === 'connected' && l.socket_id !== first, 'a reconnect after the reload', before);
    await client.waitFor((l) => l.subscribed === publicChannel, 'the public resubscription', index);
    await client.waitFor((l) => l.subscribed === privateChannel, 'the private resubscription', index);
    await sdk.trigger([publicChannel, privateChannel], 'update', { n: 2 });
    await client.waitFor((l) => l.event === 'update' && l.channel === publicChannel && l.data.n === 2, 'the public event after the reload');
    await client.waitFor((l) => l.event === 'update' && l.channel === privateChannel && l.data.n === 2, 'the private event after the reload');
  } finally {
    await client.stop();
  }
});

test('through nginx route.php refuses the private channel to a client without a session', async () => {
  const client = startPusherJs({ publicChannel: 'news-guest', privateChannel: 'private-guest' });
  try {
    await client.waitFor((l) => l.subscribed === 'news-guest', 'the public subscription');
    const { line } = await client.waitFor((l) => l.subscription_error === 'private-guest', 'the refused private subscription');
    assert.equal(line.status, 403);
    assert.ok(!client.lines.some((l) => l.subscribed === 'private-guest'), JSON.stringify(client.lines));
  } finally {
    await client.stop();
  }
});

test('behind nginx as a trusted proxy the per-IP limit counts the forwarded client address', async () => {
  const held = [];
  try {
    for (let i = 0; i < 2; i++) {
      const c = await connectThroughNginx('127.0.0.5');
      assert.equal(c.established?.event, 'pusher:connection_established', JSON.stringify(c));
      held.push(c.ws);
    }
    const refused = await connectThroughNginx('127.0.0.5');
    assert.equal(refused.status, 429, JSON.stringify({ ...refused, ws: undefined }));
    assert.match(refused.body, /Too many connections from this address/);
    // Another client behind the same nginx is not affected.
    const other = await connectThroughNginx('127.0.0.6');
    assert.equal(other.established?.event, 'pusher:connection_established');
    held.push(other.ws);
  } finally {
    for (const ws of held) ws.terminate();
  }
});

test('a client that does not trust the certificate fails its TLS handshake and others stay connected', async () => {
  const good = await connectThroughNginx('127.0.0.7');
  assert.equal(good.established?.event, 'pusher:connection_established');
  const untrusting = await connectThroughNginx('127.0.0.8', { trustCa: false });
  assert.match(String(untrusting.error?.code), /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/, String(untrusting.error));
  // The trusted client still gets an answer to pusher:ping.
  const pong = new Promise((resolve) => good.ws.once('message', (d) => resolve(JSON.parse(String(d)))));
  good.ws.send(JSON.stringify({ event: 'pusher:ping', data: {} }));
  assert.equal((await pong).event, 'pusher:pong');
  good.ws.terminate();
});

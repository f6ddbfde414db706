// Connection limits, idle detection and shutdown: each needs its own server configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runPhp, toPhp } from './lib/server.mjs';
import { RawClient, connectRaw, connectApp } from './lib/ws-client.mjs';

/** Runs `body(server, clients)` against a fresh server and always cleans both up. */
async function withServer(config, body) {
  const server = await startServer(config);
  const clients = [];
  try {
    await body(server, clients);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}

async function openApp(server, clients, key) {
  const c = await connectApp(server, `/app/${key ?? server.key}`);
  clients.push(c);
  return c;
}

const limitedApps = {
  key: 'main-key',
  secret: 'main-secret',
  apps: [
    { id: '2', key: 'limited-key', secret: 'limited-secret', max_connections: 2 },
    { id: '3', key: 'disabled-key', secret: 'disabled-secret', enabled: false },
  ],
};

test('a connection over an app\'s max_connections gets pusher:error 4004 and a 4004 close', () =>
  withServer(limitedApps, async (server, clients) => {
    await openApp(server, clients, 'limited-key');
    await openApp(server, clients, 'limited-key');
    const third = await connectRaw(server.wsUrl('/app/limited-key'));
    clients.push(third);
    const error = await third.nextEvent('pusher:error');
    assert.equal(error.data.code, 4004);
    assert.equal((await third.waitClosed()).code, 4004);
    assert.ok(!third.frames.some((f) => f.json?.event === 'pusher:connection_established'));
    // The limit is per app: the main app still accepts connections.
    await openApp(server, clients);
  }));

test('a closed connection frees its slot under max_connections', () =>
  withServer(limitedApps, async (server, clients) => {
    const first = await openApp(server, clients, 'limited-key');
    await openApp(server, clients, 'limited-key');
    await first.close();
    // The server learns about the close asynchronously: retry a bounded number of times.
    let accepted = null;
    for (let attempt = 0; attempt < 50 && !accepted; attempt++) {
      const c = await connectRaw(server.wsUrl('/app/limited-key'));
      clients.push(c);
      const first = await c.next();
      if (first.json?.event === 'pusher:connection_established') accepted = c;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(accepted, 'a third connection was accepted after one of two closed');
  }));

test('a disabled app gets pusher:error 4003 and a 4003 close', () =>
  withServer(limitedApps, async (server, clients) => {
    const c = await connectRaw(server.wsUrl('/app/disabled-key'));
    clients.push(c);
    assert.equal((await c.nextEvent('pusher:error')).data.code, 4003);
    assert.equal((await c.waitClosed()).code, 4003);
  }));

test('connection_established carries the configured activity_timeout', () =>
  withServer({ activity_timeout: 17 }, async (server, clients) => {
    const c = await connectRaw(server.wsUrl());
    clients.push(c);
    const data = await c.established();
    assert.equal(data.activity_timeout, 17);
  }));

test('an idle client is sent pusher:ping and closed with 4201 when it does not answer', () =>
  withServer({ activity_timeout: 1, pong_timeout: 1 }, async (server, clients) => {
    const silent = await openApp(server, clients);
    const ping = await silent.next(10000);
    assert.equal(ping.text, '{"event":"pusher:ping","data":"{}"}');
    const closed = await silent.waitClosed(10000);
    assert.equal(closed.code, 4201);
  }));

test('an idle client that answers pusher:ping with pusher:pong stays connected', () =>
  withServer({ activity_timeout: 1, pong_timeout: 1 }, async (server, clients) => {
    const silent = await openApp(server, clients);
    const answering = await openApp(server, clients);
    answering.ws.on('message', (data) => {
      if (JSON.parse(data.toString()).event === 'pusher:ping') answering.send({ event: 'pusher:pong', data: {} });
    });
    // By the time the silent client (connected first) is closed, the answering one has been
    // pinged once; it must then be pinged again, which only happens if it is still connected.
    assert.equal((await silent.waitClosed(10000)).code, 4201);
    await answering.waitFor(
      () => answering.frames.filter((f) => f.json?.event === 'pusher:ping').length >= 2,
      'a second pusher:ping',
      10000,
    );
    assert.equal(answering.closeInfo, undefined);
    assert.deepEqual((await answering.roundTrip()).filter((m) => m.event !== 'pusher:ping'), []);
  }));

test('stopping the server closes every client with 4200', async () => {
  const server = await startServer({});
  const clients = [];
  try {
    for (let i = 0; i < 3; i++) await openApp(server, clients);
    await clients[0].subscribe('some-channel');
    const exit = await server.stop();
    assert.equal(exit.code, 0, `server exit: ${JSON.stringify(exit)}\n${server.stderr()}`);
    for (const c of clients) assert.equal((await c.waitClosed()).code, 4200);
    assert.match(server.stderr(), /webman-push: stopped/);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
});

test('a stopped server refuses new connections', async () => {
  const server = await startServer({});
  await server.stop();
  const c = new RawClient(server.wsUrl());
  await assert.rejects(c.opened, /ECONNREFUSED/);
});

test('Webman\\Push\\Api::trigger returns false when the server is not running', async () => {
  const server = await startServer({});
  await server.stop();
  const run = await runPhp(`
    $api = new Webman\\Push\\Api('http://127.0.0.1:${server.apiPort}', ${toPhp(server.key)}, ${toPhp(server.secret)});
    var_export($api->trigger('c', 'e', ['a' => 1]));
  `);
  assert.equal(run.stdout, 'false', run.stderr);
});

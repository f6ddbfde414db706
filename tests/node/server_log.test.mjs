// The server's log on stderr (where webman's stdout log collects it): `log_level` decides which
// lines appear, `log_format => 'json'` writes one JSON object per line, and at `debug` every
// rejected authentication is logged with its reason but never the secret or the expected signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { privateAuth, sendSubscribe, nextError } from './lib/channels.mjs';
import { apiRequest } from './lib/http.mjs';
import { freePort } from './lib/ports.mjs';

const SECRET = 'log-test-secret-4f1c9a';

/** Resolves once `pattern` matches the server's stderr, failing after `ms`. */
async function logged(server, pattern, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!pattern.test(server.stderr())) {
    if (Date.now() > deadline) assert.fail(`no log line matching ${pattern} in:\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return server.stderr();
}

test('debug logs a rejected private subscription with its reason and channel, without the secret or the expected signature', async () => {
  const server = await startServer({ secret: SECRET, log_level: 'debug' });
  const client = await connectApp(server);
  try {
    const channel = 'private-log-test';
    sendSubscribe(client, { channel, auth: `${server.key}:${'0'.repeat(64)}` });
    assert.equal((await nextError(client)).code, null);
    const log = await logged(server, /subscription rejected.*channel=private-log-test/);
    const line = log.split('\n').find((l) => l.includes('subscription rejected'));
    assert.match(line, /^webman-push: debug subscription rejected /);
    assert.match(line, /reason="the signature does not match"/);
    assert.match(line, new RegExp(`socket_id=${client.socketId.replace('.', '\\.')}`));
    const expected = privateAuth(server, client.socketId, channel).split(':')[1];
    assert.ok(!log.includes(SECRET), `the secret is logged:\n${log}`);
    assert.ok(!log.includes(expected), `the expected signature is logged:\n${log}`);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('debug logs an HTTP API request with a bad signature with the reason and the remote address, without the secret', async () => {
  const server = await startServer({ secret: SECRET, log_level: 'debug' });
  try {
    const res = await apiRequest(server, {
      path: '/apps/1024/events', body: JSON.stringify({ name: 'e', channel: 'c', data: '{}' }), secret: 'wrong-secret',
    });
    assert.equal(res.status, 401, res.text);
    const log = await logged(server, /HTTP API request rejected/);
    assert.match(log, /webman-push: debug HTTP API request rejected app=1024 path=\/apps\/1024\/events remote=127\.0\.0\.1 reason="Invalid signature"/);
    assert.ok(!log.includes(SECRET), `the secret is logged:\n${log}`);
  } finally {
    await server.stop();
  }
});

test('info, the default, logs the start with the bound listeners and hides debug lines', async () => {
  const server = await startServer({ secret: SECRET });
  const client = await connectApp(server);
  try {
    sendSubscribe(client, { channel: 'private-x', auth: `${server.key}:${'0'.repeat(64)}` });
    await nextError(client);
    const log = await logged(server, /webman-push: info started /);
    assert.match(log, new RegExp(`webman-push: info started websocket=127\\.0\\.0\\.1:${server.wsPort} api=127\\.0\\.0\\.1:${server.apiPort}`));
    assert.doesNotMatch(log, /subscription rejected/);
  } finally {
    await client.close();
    await server.stop();
  }
  assert.match(server.stderr(), /webman-push: info stopped /);
});

test('log_level warn hides the info started line and keeps warnings', async () => {
  const receiverDown = `http://127.0.0.1:${await freePort()}/hook`;
  const server = await startServer({ log_level: 'warn', channel_hook: receiverDown });
  const client = await connectApp(server);
  try {
    await client.subscribe('news');
    await logged(server, /webman-push: warn webhook to \S+ failed/);
  } finally {
    await client.close();
    await server.stop();
  }
  assert.doesNotMatch(server.stderr(), /webman-push: info /);
});

test('log_format json writes each line as an object with level, message and fields', async () => {
  const server = await startServer({ log_format: 'json', log_level: 'debug' });
  const client = await connectApp(server);
  try {
    sendSubscribe(client, { channel: 'private-json', auth: `${server.key}:${'0'.repeat(64)}` });
    await nextError(client);
    const log = await logged(server, /"subscription rejected"/);
    const lines = log.split('\n').filter((l) => l.startsWith('{'));
    const entries = lines.map((l) => JSON.parse(l));
    const started = entries.find((e) => e.message === 'started');
    assert.equal(started.level, 'info');
    assert.equal(started.fields.websocket, `127.0.0.1:${server.wsPort}`);
    const rejected = entries.find((e) => e.message === 'subscription rejected');
    assert.equal(rejected.level, 'debug');
    assert.equal(rejected.fields.channel, 'private-json');
    assert.equal(rejected.fields.reason, 'the signature does not match');
  } finally {
    await client.close();
    await server.stop();
  }
});

test('an unknown log_level is a config error naming the key', async () => {
  await assert.rejects(startServer({ log_level: 'verbose' }), /log_level: unknown variant `verbose`/);
});

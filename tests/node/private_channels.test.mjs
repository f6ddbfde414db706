// Private channels: pusher-js authorised by a real PHP auth endpoint (Webman\Push\Api::socketAuth
// behind PHP's built-in web server) and by custom handlers; every way a bad `auth` is refused,
// over raw frames; private-encrypted- channels relayed untouched; the Pusher docs' auth vectors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, runPhp } from './lib/server.mjs';
import { startAuthEndpoint, requestAuth } from './lib/auth-endpoint.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { apiRequest, hmac } from './lib/http.mjs';
import { connectPusherJs, subscribe, collect, disconnect, serverSdk } from './lib/clients.mjs';
import { privateAuth, sendSubscribe, subscribeReply, subscribePrivate, nextError } from './lib/channels.mjs';

const MASTER_KEY = randomBytes(32).toString('base64');

let server;
let endpoint;
let sdk;
const pusherClients = [];
const rawClients = [];

before(async () => {
  server = await startServer({ key: 'private-key', secret: 'private-secret', apps: [{ id: '2', key: 'other-key', secret: 'other-secret' }] });
  endpoint = await startAuthEndpoint({ key: server.key, secret: server.secret, encryptionMasterKeyBase64: MASTER_KEY });
  sdk = serverSdk(server, { encryptionMasterKeyBase64: MASTER_KEY });
});

after(async () => {
  await Promise.all(pusherClients.map(disconnect));
  await Promise.all(rawClients.map((c) => c.close()));
  await endpoint?.stop();
  await server?.stop();
});

async function pusherJs(options) {
  const c = await connectPusherJs(server, options);
  pusherClients.push(c);
  return c;
}

/** pusher-js asking the PHP endpoint through its own ajax transport (xhr polyfill in Node). */
const viaEndpoint = () => ({ channelAuthorization: { endpoint: endpoint.url, transport: 'ajax' } });

async function raw() {
  const c = await connectApp(server);
  rawClients.push(c);
  return c;
}

/** The channel is not joined: an event published to it does not arrive before a later one does. */
async function assertNotJoined(client, channel) {
  await sdk.trigger(channel, 'should-not-arrive', {});
  const marker = `marker-${Math.random().toString(36).slice(2)}`;
  await client.subscribe(marker);
  await sdk.trigger(marker, 'marker', {});
  await client.nextEvent('marker');
  assert.ok(!client.frames.some((f) => f.json?.event === 'should-not-arrive'), client.describe());
  const res = await apiRequest(server, { method: 'GET', path: `/apps/1/channels/${channel}` });
  assert.equal(res.json?.occupied, false, res.text);
}

// ---- pusher-js ----

test('pusher-js joins a private channel authorised by the PHP endpoint (ajax transport) and gets its events', async () => {
  const c = await pusherJs(viaEndpoint());
  const { channel } = await subscribe(c, 'private-orders');
  const got = collect(channel, 'paid');
  await sdk.trigger('private-orders', 'paid', { order: 17 });
  assert.deepEqual(await got.next(), { order: 17 });
});

test('pusher-js joins a private channel through a customHandler that posts JSON to the PHP endpoint', async () => {
  const asked = [];
  const c = await pusherJs({
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        asked.push(channelName);
        requestAuth(endpoint, { channel: channelName, socketId, json: true }).then(
          (res) => (res.status === 200 ? callback(null, res.json) : callback(new Error(`auth endpoint: ${res.status}`), null)),
          (err) => callback(err, null),
        );
      },
    },
  });
  const { channel } = await subscribe(c, 'private-json-auth');
  assert.deepEqual(asked, ['private-json-auth']);
  const got = collect(channel, 'e');
  await sdk.trigger('private-json-auth', 'e', 'via fetch');
  assert.equal(await got.next(), 'via fetch');
});

test('pusher-js joins a private channel through a customHandler that signs with HMAC in Node', async () => {
  const c = await pusherJs({
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        callback(null, { auth: `${server.key}:${hmac(server.secret, `${socketId}:${channelName}`)}` });
      },
    },
  });
  const { channel } = await subscribe(c, 'private-node-signed');
  const got = collect(channel, 'e');
  await sdk.trigger('private-node-signed', 'e', [1, 2]);
  assert.deepEqual(await got.next(), [1, 2]);
});

test('an endpoint answering 403 gives pusher-js a subscription_error with status 403 and no subscription', async () => {
  const c = await pusherJs(viaEndpoint());
  const channel = c.subscribe('private-forbidden');
  const failure = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no subscription_error within 5 s')), 5000);
    channel.bind('pusher:subscription_error', (e) => { clearTimeout(timer); resolve(e); });
    channel.bind('pusher:subscription_succeeded', () => { clearTimeout(timer); reject(new Error('subscribed')); });
  });
  assert.equal(failure.status, 403);
  const res = await apiRequest(server, { method: 'GET', path: '/apps/1/channels/private-forbidden' });
  assert.equal(res.json?.occupied, false, res.text);
});

test('a signature from a customHandler with the wrong secret is refused and pusher-js gets pusher:error', async () => {
  const c = await pusherJs({
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        callback(null, { auth: `${server.key}:${hmac('not-the-secret', `${socketId}:${channelName}`)}` });
      },
    },
  });
  const errors = [];
  c.connection.bind('error', (e) => errors.push(e));
  const channel = c.subscribe('private-wrong-secret');
  const succeeded = [];
  channel.bind('pusher:subscription_succeeded', () => succeeded.push(true));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pusher:error: ${JSON.stringify(errors)}`)), 5000);
    c.connection.bind('error', () => { clearTimeout(timer); resolve(); });
  });
  assert.match(errors[0]?.data?.message ?? '', /^Received invalid Auth/, JSON.stringify(errors));
  assert.deepEqual(succeeded, []);
  assert.equal(c.connection.state, 'connected');
});

// ---- raw frames: accepted ----

test('a correct private signature is answered with subscription_succeeded and data "{}"', async () => {
  const c = await raw();
  sendSubscribe(c, { channel: 'private-exact', auth: privateAuth(server, c.socketId, 'private-exact') });
  assert.equal((await c.next()).text, '{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"private-exact"}');
  await sdk.trigger('private-exact', 'e', { a: 1 });
  assert.deepEqual(await c.nextEvent('e'), { event: 'e', data: '{"a":1}', channel: 'private-exact' });
});

test('the auth the PHP endpoint returns subscribes a raw client', async () => {
  const c = await raw();
  const res = await requestAuth(endpoint, { channel: 'private-from-php', socketId: c.socketId });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.json), ['auth']);
  assert.equal(res.json.auth, privateAuth(server, c.socketId, 'private-from-php'));
  sendSubscribe(c, { channel: 'private-from-php', auth: res.json.auth });
  assert.equal((await subscribeReply(c, 'private-from-php')).event, 'pusher_internal:subscription_succeeded');
});

// ---- raw frames: refused ----

const badAuths = {
  'a missing auth': () => undefined,
  'an empty auth': () => '',
  'a signature made with the wrong secret': (c, ch) => `${server.key}:${hmac('wrong-secret', `${c.socketId}:${ch}`)}`,
  'a signature made for another socket_id': (c, ch) => privateAuth(server, '1234.5678', ch),
  'a signature made for another channel': (c) => privateAuth(server, c.socketId, 'private-elsewhere'),
  "another app's key in front of a correct signature": (c, ch) => `other-key:${hmac(server.secret, `${c.socketId}:${ch}`)}`,
  'a correct signature without the key: prefix': (c, ch) => hmac(server.secret, `${c.socketId}:${ch}`),
  'a correct signature with one hex digit changed': (c, ch) => {
    const good = privateAuth(server, c.socketId, ch);
    return good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
  },
  'a correct signature with a character appended': (c, ch) => `${privateAuth(server, c.socketId, ch)}0`,
  'a correct signature cut short by one character': (c, ch) => privateAuth(server, c.socketId, ch).slice(0, -1),
  'a signature of another app signed with its own secret': (c, ch) => `other-key:${hmac('other-secret', `${c.socketId}:${ch}`)}`,
};

let badSeq = 0;
for (const [what, makeAuth] of Object.entries(badAuths)) {
  test(`${what} gets "Received invalid Auth", without the expected signature, and no subscription`, async () => {
    const c = await raw();
    const channel = `private-bad-${++badSeq}`;
    const auth = makeAuth(c, channel);
    sendSubscribe(c, auth === undefined ? { channel } : { channel, auth });
    const error = await nextError(c);
    assert.equal(error.code, null);
    assert.match(error.message, /^Received invalid Auth/);
    const expected = hmac(server.secret, `${c.socketId}:${channel}`);
    assert.ok(!error.message.includes(expected), `the error reveals the signature: ${error.message}`);
    assert.ok(!error.message.includes(expected.slice(0, 16)), `the error reveals part of the signature: ${error.message}`);
    await assertNotJoined(c, channel);
  });
}

test('an auth that is not a string gets a pusher:error and no subscription', async () => {
  const c = await raw();
  sendSubscribe(c, { channel: 'private-numeric-auth', auth: 12345 });
  const error = await nextError(c);
  assert.equal(error.code, null);
  assert.ok(error.message.length > 0);
  await assertNotJoined(c, 'private-numeric-auth');
});

test('after a refused auth the same connection can subscribe with the right one', async () => {
  const c = await raw();
  sendSubscribe(c, { channel: 'private-retry', auth: `${server.key}:${'0'.repeat(64)}` });
  assert.match((await nextError(c)).message, /^Received invalid Auth/);
  await subscribePrivate(c, server, 'private-retry');
  await sdk.trigger('private-retry', 'e', {});
  assert.equal((await c.nextEvent('e')).channel, 'private-retry');
});

test('a private signature made for one connection does not subscribe another connection', async () => {
  const owner = await raw();
  const thief = await raw();
  const auth = privateAuth(server, owner.socketId, 'private-stolen');
  sendSubscribe(thief, { channel: 'private-stolen', auth });
  assert.match((await nextError(thief)).message, /^Received invalid Auth/);
  sendSubscribe(owner, { channel: 'private-stolen', auth });
  assert.equal((await subscribeReply(owner, 'private-stolen')).event, 'pusher_internal:subscription_succeeded');
});

// ---- private-encrypted- ----

test('pusher-js decrypts an event the Node SDK encrypted on a private-encrypted channel authorised by the PHP endpoint', async () => {
  const c = await pusherJs(viaEndpoint());
  const { channel } = await subscribe(c, 'private-encrypted-vault');
  const got = collect(channel, 'secret');
  const res = await sdk.trigger('private-encrypted-vault', 'secret', { pin: '1234', note: 'Grüße' });
  assert.equal(res.status, 200);
  assert.deepEqual(await got.next(), { pin: '1234', note: 'Grüße' });
});

test('the server relays a private-encrypted event\'s data byte for byte', async () => {
  const c = await raw();
  const reply = await subscribePrivate(c, server, 'private-encrypted-relay');
  assert.equal(reply.data, '{}');
  const data = JSON.stringify({ nonce: randomBytes(24).toString('base64'), ciphertext: randomBytes(40).toString('base64') });
  const res = await apiRequest(server, { path: '/apps/1/events', body: { name: 'sealed', data, channels: ['private-encrypted-relay'] } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(await c.nextEvent('sealed'), { event: 'sealed', data, channel: 'private-encrypted-relay' });
});

test('a private-encrypted channel needs the same auth as a private one', async () => {
  const c = await raw();
  sendSubscribe(c, { channel: 'private-encrypted-x', auth: privateAuth(server, c.socketId, 'private-x') });
  assert.match((await nextError(c)).message, /^Received invalid Auth/);
  sendSubscribe(c, { channel: 'private-encrypted-x' });
  assert.match((await nextError(c)).message, /^Received invalid Auth/);
  await assertNotJoined(c, 'private-encrypted-x');
});

// ---- auth vectors ----

const DOCS = { key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8', socketId: '1234.1234' };

function phpAuth(app, expr) {
  return runPhp(`$api = new Webman\\Push\\Api('http://127.0.0.1:3232', '${app.key}', '${app.secret}'); echo ${expr};`);
}

test('the Pusher docs\' private vector: HMAC and Api::socketAuth give 58df8b0c…', async () => {
  const sig = '58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4';
  assert.equal(hmac(DOCS.secret, '1234.1234:private-foobar'), sig);
  const run = await phpAuth(DOCS, "$api->socketAuth('private-foobar', '1234.1234')");
  assert.equal(run.stdout, `{"auth":"${DOCS.key}:${sig}"}`, run.stderr);
});

test('the Pusher docs\' presence vectors: Api::presenceAuth signs the exact channel_data it returns', async () => {
  for (const [name, sig] of [
    ['Mr. Pusher', 'afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c'],
    ['Mr. Channels', '31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80'],
  ]) {
    const channelData = `{"user_id":10,"user_info":{"name":"${name}"}}`;
    assert.equal(hmac(DOCS.secret, `1234.1234:presence-foobar:${channelData}`), sig);
    const run = await phpAuth(DOCS, `$api->presenceAuth('presence-foobar', '1234.1234', 10, ['name' => '${name}'])`);
    assert.equal(run.stdout, JSON.stringify({ auth: `${DOCS.key}:${sig}`, channel_data: channelData }), run.stderr);
  }
});

test('webman/push\'s own vectors: socketAuth private-user-1 and presenceAuth presence-room', async () => {
  const app = { key: 'app-key-123', secret: 'app-secret-456' };
  let run = await phpAuth(app, "$api->socketAuth('private-user-1', '1.5')");
  assert.equal(run.stdout, '{"auth":"app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"}', run.stderr);
  run = await phpAuth(app, "$api->presenceAuth('presence-room', '1.5', 100, ['name' => 'Tom'])");
  assert.equal(JSON.parse(run.stdout).auth, 'app-key-123:dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea', run.stderr);
});

test('socketAuth with custom data and presenceAuth are byte-identical to the original\'s json_encode output', async () => {
  // The original builds these with json_encode($x) (flags 0): "\/" and "\u00e9" escapes included.
  const run = await runPhp(`
    $key = 'k'; $secret = 's'; $sid = '12.34';
    $api = new Webman\\Push\\Api('http://127.0.0.1:3232', $key, $secret);
    $original = function ($channel, $custom) use ($key, $secret, $sid) {
      $sig = hash_hmac('sha256', $custom ? "$sid:$channel:$custom" : "$sid:$channel", $secret);
      $out = ['auth' => "$key:$sig"];
      if ($custom) { $out['channel_data'] = $custom; }
      return json_encode($out);
    };
    $cases = [];
    $custom = '{"a":"/é","n":1}';
    $cases[] = [$api->socketAuth('private-c', $sid, $custom), $original('private-c', $custom)];
    $cases[] = [$api->socketAuth('private-c', $sid, ''), $original('private-c', '')];
    foreach ([[7, ['name' => 'Grüße/x', 'tags' => []]], ['u/é', null], [0, ['a' => 1.5]], ['7', ['x' => true]]] as [$uid, $info]) {
      $data = ['user_id' => $uid];
      if ($info) { $data['user_info'] = $info; }
      $cases[] = [$api->presenceAuth('presence-c', $sid, $uid, $info), $original('presence-c', json_encode($data))];
    }
    echo json_encode($cases);
  `);
  assert.equal(run.code, 0, run.stderr);
  for (const [ours, original] of JSON.parse(run.stdout)) assert.equal(ours, original);
});

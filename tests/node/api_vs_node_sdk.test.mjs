// The PHP Api (Webman\Push\Api, run in a real `php` with the extension) next to the Node `pusher` SDK,
// both talking to the same real server: every Api method must give a user what the SDK gives (the same
// frames at the subscribers, the same answers, the same auth strings), except where webman/push
// deliberately differs (a string $data is JSON-encoded, as webman/push always did).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, runPhp } from './lib/server.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { connectPusherJs, collect, disconnect, serverSdk } from './lib/clients.mjs';
import PusherServer from 'pusher';

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const WAIT_MS = 10000;

let server;
let sdk;
let encryptingSdk;
let hooks; // the webhook receiver: {port, requests, next()}
const rawClients = [];
const pusherClients = [];

before(async () => {
  hooks = await webhookReceiver();
  server = await startServer({
    key: 'cmp-key',
    secret: 'cmp-secret',
    channel_hook: `http://127.0.0.1:${hooks.port}/hook`,
    webhook_delay: 0,
  });
  sdk = serverSdk(server);
  encryptingSdk = serverSdk(server, { encryptionMasterKeyBase64: MASTER_KEY });
});

after(async () => {
  await Promise.all(pusherClients.map(disconnect));
  await Promise.all(rawClients.map((c) => c.close()));
  await server?.stop();
  await hooks?.close();
});

/**
 * Calls `$api->{method}(...args)` in a fresh PHP process with the extension loaded; the arguments travel
 * as JSON (objects become PHP arrays). Resolves to {type: get_debug_type($result), value: $result as JSON}.
 */
async function api(method, args, { options = null, secret = server.secret } = {}) {
  const job = Buffer.from(JSON.stringify({
    address: `http://127.0.0.1:${server.apiPort}`, key: server.key, secret, options, method, args,
  })).toString('base64');
  const code = `
    $job = json_decode(base64_decode('${job}'), true);
    $api = new Webman\\Push\\Api($job['address'], $job['key'], $job['secret'], $job['options']);
    $result = $api->{$job['method']}(...$job['args']);
    echo json_encode(['type' => get_debug_type($result), 'value' => $result], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
  `;
  const run = await runPhp(code);
  assert.equal(run.code, 0, `php ${method}: exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.stderr, '', `php ${method} wrote to stderr`);
  return JSON.parse(run.stdout);
}

async function subscriber(channel) {
  const c = await connectApp(server, `/app/${server.key}`);
  rawClients.push(c);
  await c.subscribe(channel);
  return c;
}

/** A raw client that joined `channel` (presence) with the auth string the PHP Api produced. */
async function presenceMember(channel, userId, userInfo) {
  const c = await connectApp(server, `/app/${server.key}`);
  rawClients.push(c);
  const { value } = await api('presenceAuth', [channel, c.socketId, userId, userInfo]);
  c.send({ event: 'pusher:subscribe', data: { channel, ...JSON.parse(value) } });
  const reply = await c.nextMatching(
    (m) => (m.event === 'pusher_internal:subscription_succeeded' && m.channel === channel) || m.event === 'pusher:error',
    `subscription to ${channel}`,
  );
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
  return c;
}

/** The events (frames) with this name that `client` received from now on, in order. */
function nextEvents(client, event, count) {
  return (async () => {
    const out = [];
    for (let i = 0; i < count; i++) out.push(await client.nextEvent(event));
    return out;
  })();
}

/** An HTTP server on a free loopback port that records every request (the push server's webhooks). */
function webhookReceiver() {
  const requests = [];
  const waiters = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      while (waiters.length > 0 && waiters[0].check()) waiters.shift();
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    port: srv.address().port,
    requests,
    /** Resolves to the first recorded request whose decoded body satisfies `predicate`. */
    find(predicate, what) {
      return new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no webhook ${what} within ${WAIT_MS} ms; got ${JSON.stringify(requests)}`)), WAIT_MS);
        const check = () => {
          const found = requests.find((r) => { try { return predicate(JSON.parse(r.body)); } catch { return false; } });
          if (found) { clearTimeout(timer); done(found); return true; }
          return false;
        };
        if (!check()) waiters.push({ check });
      });
    },
    close: () => new Promise((done) => { srv.closeAllConnections?.(); srv.close(done); }),
  })));
}

// ---------------------------------------------------------------- trigger

test('trigger: the Api and the SDK publish the same frame to a subscriber', async () => {
  const ws = await subscriber('cmp-trigger');
  const data = { text: 'hello', list: [1, 2, 3], nested: { ok: true } };
  const fromPhp = await api('trigger', ['cmp-trigger', 'news', data]);
  assert.deepEqual(fromPhp, { type: 'bool', value: true });
  const res = await sdk.trigger('cmp-trigger', 'news', data);
  assert.equal(res.status, 200);
  const [a, b] = await nextEvents(ws, 'news', 2);
  assert.deepEqual(a, b);
  assert.deepEqual(a, { event: 'news', channel: 'cmp-trigger', data: JSON.stringify(data) });
});

test('trigger to a list of channels reaches every channel, as the SDK\'s does', async () => {
  const one = await subscriber('cmp-list-1');
  const two = await subscriber('cmp-list-2');
  assert.equal((await api('trigger', [['cmp-list-1', 'cmp-list-2'], 'multi', { from: 'api' }])).value, true);
  assert.equal((await sdk.trigger(['cmp-list-1', 'cmp-list-2'], 'multi', { from: 'api' })).status, 200);
  for (const [ws, channel] of [[one, 'cmp-list-1'], [two, 'cmp-list-2']]) {
    const [a, b] = await nextEvents(ws, 'multi', 2);
    assert.deepEqual(a, { event: 'multi', channel, data: '{"from":"api"}' });
    assert.deepEqual(b, a);
  }
});

test('trigger with a socket_id skips that connection, like the SDK\'s params.socket_id', async () => {
  const sender = await subscriber('cmp-exclude');
  const other = await subscriber('cmp-exclude');
  assert.equal((await api('trigger', ['cmp-exclude', 'skip', { n: 1 }, sender.socketId])).value, true);
  assert.equal((await api('trigger', ['cmp-exclude', 'skip', { n: 2 }, { socket_id: sender.socketId }])).value, true);
  assert.equal((await sdk.trigger('cmp-exclude', 'skip', { n: 3 }, { socket_id: sender.socketId })).status, 200);
  assert.equal((await sdk.trigger('cmp-exclude', 'mark', { n: 4 })).status, 200);
  assert.deepEqual((await nextEvents(other, 'skip', 3)).map((m) => m.data), ['{"n":1}', '{"n":2}', '{"n":3}']);
  // The sender's next frame of this channel is the unfiltered marker: none of the three reached it.
  const first = await sender.nextMatching((m) => m.channel === 'cmp-exclude' && m.event !== 'pusher_internal:subscription_succeeded', 'an event');
  assert.deepEqual(first, { event: 'mark', channel: 'cmp-exclude', data: '{"n":4}' });
});

test('trigger with info returns the attributes the SDK gets', async () => {
  await subscriber('cmp-info');
  await subscriber('cmp-info');
  const fromPhp = await api('trigger', ['cmp-info', 'e', { x: 1 }, { info: 'subscription_count' }]);
  const res = await sdk.trigger('cmp-info', 'e', { x: 1 }, { info: 'subscription_count' });
  assert.equal(res.status, 200);
  const fromSdk = await res.json();
  assert.deepEqual(fromSdk, { channels: { 'cmp-info': { subscription_count: 2 } } });
  assert.equal(fromPhp.type, 'stdClass');
  assert.deepEqual(fromPhp.value, fromSdk);
});

test('string data: the Api JSON-encodes it (as webman/push does), the SDK sends it as it is', async () => {
  const ws = await subscriber('cmp-string');
  assert.equal((await api('trigger', ['cmp-string', 's', 'hi/ü'])).value, true);
  assert.equal((await sdk.trigger('cmp-string', 's', 'hi/ü')).status, 200);
  const [a, b] = await nextEvents(ws, 's', 2);
  assert.equal(a.data, '"hi/ü"');
  assert.equal(b.data, 'hi/ü');
});

test('trigger answers false where the SDK gets an HTTP error (a wrong secret)', async () => {
  assert.deepEqual(await api('trigger', ['cmp-bad', 'e', { x: 1 }], { secret: 'not-the-secret' }), { type: 'bool', value: false });
  const wrong = new PusherServer({ appId: server.appId, key: server.key, secret: 'not-the-secret', host: '127.0.0.1', port: String(server.apiPort), useTLS: false });
  await assert.rejects(wrong.trigger('cmp-bad', 'e', { x: 1 }), (err) => err.status === 401);
});

// ---------------------------------------------------------------- triggerBatch

test('triggerBatch publishes the same frames as the SDK\'s triggerBatch', async () => {
  const one = await subscriber('cmp-batch-1');
  const two = await subscriber('cmp-batch-2');
  const batch = () => [
    { channel: 'cmp-batch-1', name: 'b', data: { i: 1 } },
    { channel: 'cmp-batch-2', name: 'b', data: { i: 2 } },
  ];
  assert.deepEqual(await api('triggerBatch', [batch()]), { type: 'bool', value: true });
  assert.equal((await sdk.triggerBatch(batch())).status, 200);
  const [a1, b1] = await nextEvents(one, 'b', 2);
  const [a2, b2] = await nextEvents(two, 'b', 2);
  assert.deepEqual(a1, { event: 'b', channel: 'cmp-batch-1', data: '{"i":1}' });
  assert.deepEqual(b1, a1);
  assert.deepEqual(a2, { event: 'b', channel: 'cmp-batch-2', data: '{"i":2}' });
  assert.deepEqual(b2, a2);
});

test('triggerBatch with already-encoded data sends each data string as it is, like the SDK does with strings', async () => {
  const ws = await subscriber('cmp-batch-raw');
  const batch = [{ channel: 'cmp-batch-raw', name: 'r', data: '{"pre":"encoded"}' }];
  assert.equal((await api('triggerBatch', [batch, true])).value, true);
  assert.equal((await sdk.triggerBatch(batch.map((e) => ({ ...e })))).status, 200);
  const [a, b] = await nextEvents(ws, 'r', 2);
  assert.deepEqual(a, { event: 'r', channel: 'cmp-batch-raw', data: '{"pre":"encoded"}' });
  assert.deepEqual(b, a);
});

test('triggerBatch with info returns the per-event attributes the SDK gets', async () => {
  await subscriber('cmp-batch-info');
  const batch = () => [
    { channel: 'cmp-batch-info', name: 'b', data: { i: 1 }, info: 'subscription_count' },
    { channel: 'cmp-batch-none', name: 'b', data: { i: 2 }, info: 'subscription_count' },
  ];
  const fromPhp = await api('triggerBatch', [batch()]);
  const res = await sdk.triggerBatch(batch());
  assert.equal(res.status, 200);
  const fromSdk = await res.json();
  assert.deepEqual(fromSdk, { batch: [{ subscription_count: 1 }, { subscription_count: 0 }] });
  assert.equal(fromPhp.type, 'stdClass');
  assert.deepEqual(fromPhp.value, fromSdk);
});

// ---------------------------------------------------------------- channel queries

test('getChannels returns the body, status and decoded result of the SDK\'s GET /channels', async () => {
  await presenceMember('presence-cmp-list', 'u1', { name: 'One' });
  await presenceMember('presence-cmp-list', 'u2', { name: 'Two' });
  const params = { filter_by_prefix: 'presence-cmp-', info: 'user_count' };
  const fromPhp = await api('getChannels', [params]);
  const res = await sdk.get({ path: '/channels', params });
  assert.equal(res.status, 200);
  const fromSdk = await res.json();
  assert.deepEqual(fromSdk, { channels: { 'presence-cmp-list': { user_count: 2 } } });
  assert.equal(fromPhp.value.status, 200);
  assert.deepEqual(JSON.parse(fromPhp.value.body), fromSdk);
  assert.deepEqual(fromPhp.value.result, fromSdk);
});

test('getChannelInfo returns (as stdClass) what the SDK\'s GET /channels/{name} returns', async () => {
  await presenceMember('presence-cmp-info', 'u1', { name: 'One' });
  await presenceMember('presence-cmp-info', 'u1', { name: 'One' }); // same user twice: one user, two subscriptions
  const fromPhp = await api('getChannelInfo', ['presence-cmp-info', { info: ['user_count', 'subscription_count'] }]);
  const res = await sdk.get({ path: '/channels/presence-cmp-info', params: { info: 'user_count,subscription_count' } });
  assert.equal(res.status, 200);
  const fromSdk = await res.json();
  assert.deepEqual(fromSdk, { occupied: true, user_count: 1, subscription_count: 2 });
  assert.equal(fromPhp.type, 'stdClass');
  assert.deepEqual(fromPhp.value, fromSdk);
});

test('getChannelInfo of an empty channel: occupied false, as the SDK sees it', async () => {
  const fromPhp = await api('getChannelInfo', ['cmp-nobody']);
  const fromSdk = await (await sdk.get({ path: '/channels/cmp-nobody' })).json();
  assert.deepEqual(fromSdk, { occupied: false });
  assert.deepEqual(fromPhp, { type: 'stdClass', value: fromSdk });
});

test('getPresenceUsers lists the members the SDK gets from GET /channels/{name}/users', async () => {
  await presenceMember('presence-cmp-users', 'alice', { name: 'Alice' });
  await presenceMember('presence-cmp-users', 42, { name: 'Bob' });
  const fromPhp = await api('getPresenceUsers', ['presence-cmp-users']);
  const fromSdk = await (await sdk.get({ path: '/channels/presence-cmp-users/users' })).json();
  const ids = (body) => body.users.map((u) => String(u.id)).sort();
  assert.deepEqual(ids(fromSdk), ['42', 'alice']);
  assert.equal(fromPhp.type, 'stdClass');
  assert.deepEqual(fromPhp.value, fromSdk);
});

test('get() of any path answers like the SDK\'s get(), errors included', async () => {
  await subscriber('cmp-get');
  for (const [path, params] of [['/channels', { filter_by_prefix: 'cmp-get' }], ['/channels/cmp-get', {}], ['/no-such-route', {}]]) {
    const fromPhp = (await api('get', [path, params])).value;
    let status;
    let body;
    try {
      const res = await sdk.get({ path, params });
      status = res.status;
      body = await res.text();
    } catch (err) {
      status = err.status;
      body = err.body;
    }
    assert.equal(fromPhp.status, status, path);
    assert.deepEqual(JSON.parse(fromPhp.body), JSON.parse(body), path);
    assert.equal('result' in fromPhp, status === 200, `${path}: result only on 200`);
  }
});

test('post() publishes like the SDK\'s post() to /events', async () => {
  const ws = await subscriber('cmp-post');
  const body = { name: 'p', channels: ['cmp-post'], data: '{"via":"post"}' };
  const fromPhp = (await api('post', ['/events', body])).value;
  const res = await sdk.post({ path: '/events', body });
  assert.equal(res.status, 200);
  assert.equal(fromPhp.status, 200);
  assert.deepEqual(JSON.parse(fromPhp.body), await res.json());
  const [a, b] = await nextEvents(ws, 'p', 2);
  assert.deepEqual(a, { event: 'p', channel: 'cmp-post', data: '{"via":"post"}' });
  assert.deepEqual(b, a);
});

// ---------------------------------------------------------------- auth strings

test('authorizeChannel (and socketAuth) produce the SDK\'s authorizeChannel for a private channel', async () => {
  for (const [socketId, channel] of [['1.5', 'private-user-1'], ['123456.7890', 'private-a_b-c=d@e,f.g;h']]) {
    const expected = sdk.authorizeChannel(socketId, channel);
    for (const method of ['authorizeChannel', 'socketAuth']) {
      const out = await api(method, [channel, socketId]);
      assert.equal(out.type, 'string');
      assert.deepEqual(JSON.parse(out.value), expected, `${method}(${channel}, ${socketId})`);
    }
  }
});

test('authorizePresenceChannel (and presenceAuth) produce the SDK\'s authorizeChannel with presence data', async () => {
  for (const [userId, userInfo] of [['u-7', { name: 'Tom', age: 30 }], [100, { name: 'Ann' }]]) {
    const expected = sdk.authorizeChannel('42.17', 'presence-room', { user_id: userId, user_info: userInfo });
    for (const method of ['authorizePresenceChannel', 'presenceAuth']) {
      const out = await api(method, ['presence-room', '42.17', userId, userInfo]);
      assert.deepEqual(JSON.parse(out.value), expected, `${method}(${JSON.stringify(userId)})`);
    }
  }
});

test('authorizeChannel for a private-encrypted channel carries the same shared_secret as the SDK\'s', async () => {
  const expected = encryptingSdk.authorizeChannel('3.4', 'private-encrypted-vault');
  assert.ok(expected.shared_secret);
  const out = await api('authorizeChannel', ['private-encrypted-vault', '3.4'], { options: { encryption_master_key_base64: MASTER_KEY } });
  assert.deepEqual(JSON.parse(out.value), expected);
});

test('trigger on a private-encrypted channel: pusher-js decrypts the Api\'s event as it decrypts the SDK\'s', async () => {
  const client = await connectPusherJs(server, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => callback(null, encryptingSdk.authorizeChannel(socketId, channelName)),
    },
  });
  pusherClients.push(client);
  const channel = client.subscribe('private-encrypted-cmp');
  await new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', resolve);
    channel.bind('pusher:subscription_error', (e) => reject(new Error(JSON.stringify(e))));
  });
  const got = collect(channel, 'secret');
  const out = await api('trigger', ['private-encrypted-cmp', 'secret', { pin: '0042' }], { options: { encryption_master_key_base64: MASTER_KEY } });
  assert.equal(out.value, true);
  assert.equal((await encryptingSdk.trigger('private-encrypted-cmp', 'secret', { pin: '0042' })).status, 200);
  assert.deepEqual(await got.next(), { pin: '0042' });
  assert.deepEqual(await got.next(), { pin: '0042' });
});

test('authenticateUser produces the SDK\'s authenticateUser', async () => {
  for (const userData of [{ id: 'u-1' }, { id: '99', user_info: { name: 'Ann' }, watchlist: ['u-2', 'u-3'] }]) {
    const expected = sdk.authenticateUser('8.9', userData);
    const out = await api('authenticateUser', ['8.9', userData]);
    assert.equal(out.type, 'string');
    assert.deepEqual(JSON.parse(out.value), expected, JSON.stringify(userData));
  }
});

// ---------------------------------------------------------------- users

/** A pusher-js client signed in as `userId` through the PHP Api's authenticateUser answer. */
async function signedInPusherJs(userId) {
  const client = await connectPusherJs(server, {
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        api('authenticateUser', [socketId, { id: userId }])
          .then(({ value }) => callback(null, JSON.parse(value)), (err) => callback(err, null));
      },
    },
  });
  pusherClients.push(client);
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pusher-js did not sign in as ${userId}`)), WAIT_MS);
    client.connection.bind('message', (m) => {
      if (m.event === 'pusher_internal:subscription_succeeded' && m.channel === `#server-to-user-${userId}`) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  client.signin();
  await ready;
  return client;
}

test('sendToUser reaches a pusher-js client signed in with the Api\'s authenticateUser, like the SDK\'s sendToUser', async () => {
  const client = await signedInPusherJs('cmp-user-1');
  const notes = [];
  const arrived = new Promise((resolve) => client.user.bind('note', (data) => {
    notes.push(data);
    if (notes.length === 2) resolve();
  }));
  assert.equal((await api('sendToUser', ['cmp-user-1', 'note', { from: 'php' }])).value, true);
  assert.equal((await sdk.sendToUser('cmp-user-1', 'note', { from: 'php' })).status, 200);
  await arrived;
  assert.deepEqual(notes, [{ from: 'php' }, { from: 'php' }]);
});

/** A raw connection signed in as `userId` (pusher:signin with the PHP Api's authenticateUser answer). */
async function signedInRaw(userId) {
  const c = await connectApp(server, `/app/${server.key}`);
  rawClients.push(c);
  const { value } = await api('authenticateUser', [c.socketId, { id: userId }]);
  c.send({ event: 'pusher:signin', data: JSON.parse(value) });
  await c.nextEvent('pusher:signin_success');
  return c;
}

test('terminateUserConnections closes the user\'s connections as the SDK\'s does, and only theirs', async () => {
  const viaPhp = [await signedInRaw('cmp-term-1'), await signedInRaw('cmp-term-1')];
  const viaSdk = [await signedInRaw('cmp-term-2'), await signedInRaw('cmp-term-2')];
  const bystander = await signedInRaw('cmp-term-3');
  assert.deepEqual(await api('terminateUserConnections', ['cmp-term-1']), { type: 'bool', value: true });
  assert.equal((await sdk.terminateUserConnections('cmp-term-2')).status, 200);
  const closes = await Promise.all([...viaPhp, ...viaSdk].map((c) => c.waitClosed()));
  assert.deepEqual(closes.map((c) => c.code), [4009, 4009, 4009, 4009]);
  // The other user is still connected: a round trip works.
  await bystander.roundTrip();
});

// ---------------------------------------------------------------- webhooks

test('verifyWebhook accepts a webhook the server sent and decodes it as the SDK does', async () => {
  const ws = await subscriber('cmp-hook');
  const hook = await hooks.find((b) => b.events?.some((e) => e.channel === 'cmp-hook'), 'for cmp-hook');
  const fromSdk = sdk.webhook({ headers: hook.headers, rawBody: hook.body });
  assert.equal(fromSdk.isValid(), true);
  const out = await api('verifyWebhook', [hook.headers, hook.body]);
  assert.equal(out.type, 'array');
  assert.deepEqual(out.value, fromSdk.getData());
  assert.deepEqual(out.value.events.find((e) => e.channel === 'cmp-hook').name, 'channel_added');
  await ws.close();
});

test('verifyWebhook returns false for a tampered body, a wrong signature, another key or no signature, where the SDK says invalid', async () => {
  await subscriber('cmp-hook-bad');
  const hook = await hooks.find((b) => b.events?.some((e) => e.channel === 'cmp-hook-bad'), 'for cmp-hook-bad');
  const cases = {
    'tampered body': { headers: hook.headers, body: hook.body.replace('cmp-hook-bad', 'cmp-hook-bax') },
    'wrong signature': { headers: { ...hook.headers, 'x-pusher-signature': '0'.repeat(64) }, body: hook.body },
    'another key': { headers: { ...hook.headers, 'x-pusher-key': 'other-key' }, body: hook.body },
  };
  for (const [what, { headers, body }] of Object.entries(cases)) {
    assert.equal(sdk.webhook({ headers, rawBody: body }).isValid(), false, `SDK: ${what}`);
    assert.deepEqual(await api('verifyWebhook', [headers, body]), { type: 'bool', value: false }, `Api: ${what}`);
  }
  // Without the signature header (the SDK 5.3.4 throws a TypeError there instead of answering).
  const unsigned = { 'x-pusher-key': hook.headers['x-pusher-key'], 'content-type': 'application/json' };
  assert.deepEqual(await api('verifyWebhook', [unsigned, hook.body]), { type: 'bool', value: false });
});

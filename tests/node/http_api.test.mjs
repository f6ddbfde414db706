// The HTTP API through raw node:http requests: signing, validation, limits, keep-alive, and the
// channel queries (with a real pusher-js presence member).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from './lib/server.mjs';
import { apiRequest, rawRequest, signQuery, md5, hmac } from './lib/http.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { connectPusherJs, subscribe, disconnect, serverSdk } from './lib/clients.mjs';

let server;
let agent;
const wsClients = [];
const pusherClients = [];

// A second app whose channels only the channel-query tests touch, so their listings are exact.
const QUERY_APP = { id: '77', key: 'query-key', secret: 'query-secret' };
const OTHER_APP = { id: '88', key: 'other-key', secret: 'other-secret' };

before(async () => {
  server = await startServer({ key: 'api-key', secret: 'api-secret', apps: [QUERY_APP, OTHER_APP] });
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
});

after(async () => {
  agent?.destroy();
  await Promise.all(pusherClients.map(disconnect));
  await Promise.all(wsClients.map((c) => c.close()));
  await server?.stop();
});

async function subscriber(channel, key = server.key) {
  const c = await connectApp(server, `/app/${key}`);
  wsClients.push(c);
  await c.subscribe(channel);
  return c;
}

const post = (path, body, extra = {}) => apiRequest(server, { method: 'POST', path, body, agent, ...extra });
const get = (path, params, extra = {}) => apiRequest(server, { method: 'GET', path, params, agent, ...extra });
const event = (over = {}) => ({ name: 'e', data: '{"x":1}', channels: ['api-c'], ...over });

function assertError(res, status) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /application\/json/);
  assert.equal(typeof res.json?.error, 'string', `error body: ${res.text}`);
  assert.ok(res.json.error.length > 0);
}

// ---- publishing ----

test('POST /apps/{id}/events answers 200 {} and the subscriber gets the event', async () => {
  const ws = await subscriber('api-events');
  const res = await post('/apps/1024/events', event({ channels: ['api-events'], data: '{"hello":"world"}' }));
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /application\/json/);
  assert.deepEqual(res.json, {});
  assert.deepEqual(await ws.nextEvent('e'), { event: 'e', data: '{"hello":"world"}', channel: 'api-events' });
});

test('the app id in the path is not trusted: the app is the one of auth_key', async () => {
  const ws = await subscriber('any-id');
  const res = await post('/apps/whatever/events', event({ channels: ['any-id'] }));
  assert.equal(res.status, 200, res.text);
  assert.equal((await ws.nextEvent('e')).channel, 'any-id');
});

test('an event reaches only the clients of the app whose key signed it', async () => {
  const mine = await subscriber('same-name');
  const otherApp = await subscriber('same-name', OTHER_APP.key);
  const res = await post('/apps/88/events', event({ channels: ['same-name'], data: 'for other app' }),
    { key: OTHER_APP.key, secret: OTHER_APP.secret });
  assert.equal(res.status, 200, res.text);
  assert.equal((await otherApp.nextEvent('e')).data, 'for other app');
  await post('/apps/1024/events', event({ channels: ['same-name'], data: 'for main app' }));
  // Each client's first event is its own app's: neither saw the other app's event.
  assert.equal((await mine.nextEvent('e')).data, 'for main app');
  await post('/apps/88/events', event({ channels: ['same-name'], data: 'other again' }),
    { key: OTHER_APP.key, secret: OTHER_APP.secret });
  assert.equal((await otherApp.nextEvent('e')).data, 'other again');
});

test('the singular "channel" field publishes to that channel', async () => {
  const ws = await subscriber('singular');
  const res = await post('/apps/1024/events', { name: 'one', data: 'd', channel: 'singular' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(await ws.nextEvent('one'), { event: 'one', data: 'd', channel: 'singular' });
});

test('data given as a JSON object is delivered as its JSON string', async () => {
  const ws = await subscriber('object-data');
  const res = await post('/apps/1024/events', { name: 'o', data: { a: [1, 2] }, channels: ['object-data'] });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(JSON.parse((await ws.nextEvent('o')).data), { a: [1, 2] });
});

test('POST /apps/{id}/batch_events publishes every event and answers {}', async () => {
  const ws = await subscriber('batch-a');
  await ws.subscribe('batch-b');
  const res = await post('/apps/1024/batch_events', {
    batch: [
      { name: 'first', data: '1', channel: 'batch-a' },
      { name: 'second', data: '2', channel: 'batch-b' },
    ],
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, {});
  assert.deepEqual(await ws.nextEvent('first'), { event: 'first', data: '1', channel: 'batch-a' });
  assert.deepEqual(await ws.nextEvent('second'), { event: 'second', data: '2', channel: 'batch-b' });
});

test('a socket_id in the body excludes that connection', async () => {
  const excluded = await subscriber('excl');
  const other = await subscriber('excl');
  await post('/apps/1024/events', event({ channels: ['excl'], data: 'first', socket_id: excluded.socketId }));
  assert.equal((await other.nextEvent('e')).data, 'first');
  await post('/apps/1024/events', event({ channels: ['excl'], data: 'second' }));
  assert.equal((await excluded.nextEvent('e')).data, 'second', 'the excluded client\'s first event is the second one');
});

// ---- authentication ----

test('a request without auth parameters gets 401 with a JSON error', async () => {
  const body = JSON.stringify(event());
  const res = await rawRequest({ port: server.apiPort, method: 'POST', path: '/apps/1024/events', body, agent });
  assertError(res, 401);
});

test('a wrong signature gets 401', async () => {
  const res = await post('/apps/1024/events', event(), { override: { auth_signature: 'a'.repeat(64) } });
  assertError(res, 401);
});

test('a request signed with the wrong secret gets 401 and publishes nothing', async () => {
  const ws = await subscriber('wrong-secret');
  const res = await post('/apps/1024/events', event({ channels: ['wrong-secret'], data: 'forged' }), { secret: 'not-the-secret' });
  assertError(res, 401);
  await post('/apps/1024/events', event({ channels: ['wrong-secret'], data: 'genuine' }));
  assert.equal((await ws.nextEvent('e')).data, 'genuine');
});

test('a signature over another path gets 401', async () => {
  const res = await post('/apps/1024/events', event(), { signPath: '/apps/1024/batch_events' });
  assertError(res, 401);
});

test('a timestamp 700 s in the past gets 401', async () => {
  const res = await post('/apps/1024/events', event(), { timestamp: Math.floor(Date.now() / 1000) - 700 });
  assertError(res, 401);
});

test('a timestamp 700 s in the future gets 401', async () => {
  const res = await post('/apps/1024/events', event(), { timestamp: Math.floor(Date.now() / 1000) + 700 });
  assertError(res, 401);
});

test('a timestamp 500 s old is inside the window and accepted', async () => {
  const res = await post('/apps/1024/events', event(), { timestamp: Math.floor(Date.now() / 1000) - 500 });
  assert.equal(res.status, 200, res.text);
});

test('a body_md5 that does not match the body gets 401, even when correctly signed', async () => {
  const body = JSON.stringify(event({ data: 'tampered' }));
  const signedFor = JSON.stringify(event({ data: 'original' }));
  // Sign a query whose body_md5 is that of another body, then send this body.
  const query = signQuery({ method: 'POST', path: '/apps/1024/events', body: signedFor, key: server.key, secret: server.secret });
  const res = await rawRequest({ port: server.apiPort, method: 'POST', path: `/apps/1024/events?${query}`, body, agent });
  assertError(res, 401);
});

test('a body without body_md5 gets 401', async () => {
  const body = JSON.stringify(event());
  const ts = String(Math.floor(Date.now() / 1000));
  const toSign = `auth_key=${server.key}&auth_timestamp=${ts}&auth_version=1.0`;
  const sig = hmac(server.secret, `POST\n/apps/1024/events\n${toSign}`);
  const res = await rawRequest({ port: server.apiPort, method: 'POST', path: `/apps/1024/events?${toSign}&auth_signature=${sig}`, body, agent });
  assertError(res, 401);
});

test('an unknown auth_key gets 401', async () => {
  const res = await post('/apps/1024/events', event(), { key: 'nobody', secret: 'whatever' });
  assertError(res, 401);
});

test('the documented signature example verifies (string to sign and HMAC)', () => {
  // Pusher REST docs test vector: same algorithm as signQuery.
  const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
  assert.equal(md5(body), 'ec365a775a4cd0599faeb73354201b6f');
  const toSign = 'POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f';
  assert.equal(hmac('7ad3773142a6692b25b8', toSign), 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c');
  const query = new URLSearchParams(signQuery({ method: 'POST', path: '/apps/3/events', body, key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8', timestamp: 1353088179 }));
  assert.equal(query.get('auth_signature'), 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c');
});

// ---- routes and validation ----

test('an unknown route gets 404 with a JSON error', async () => {
  assertError(await get('/apps/1024/nothing-here'), 404);
  assertError(await get('/not/an/api/path'), 404);
});

test('a body that is not JSON gets 400', async () => {
  assertError(await post('/apps/1024/events', '{"name": "e", '), 400);
});

test('a JSON body that is not an object gets 400', async () => {
  assertError(await post('/apps/1024/events', '["e"]'), 400);
});

test('an event without name gets 400', async () => {
  assertError(await post('/apps/1024/events', { data: 'x', channels: ['a'] }), 400);
});

test('an event without channels gets 400', async () => {
  assertError(await post('/apps/1024/events', { name: 'e', data: 'x' }), 400);
});

test('an invalid channel name gets 400', async () => {
  assertError(await post('/apps/1024/events', event({ channels: ['bad channel'] })), 400);
});

test('100 channels are accepted, 101 channels get 400', async () => {
  const names = (n) => Array.from({ length: n }, (_, i) => `many-${i}`);
  assert.equal((await post('/apps/1024/events', event({ channels: names(100) }))).status, 200);
  assertError(await post('/apps/1024/events', event({ channels: names(101) })), 400);
});

test('a batch of 10 is accepted, a batch of 11 gets 400 and publishes nothing', async () => {
  const ws = await subscriber('batch-limit');
  const batch = (n, data) => ({ batch: Array.from({ length: n }, () => ({ name: 'b', data, channel: 'batch-limit' })) });
  assertError(await post('/apps/1024/batch_events', batch(11, 'eleven')), 400);
  assert.equal((await post('/apps/1024/batch_events', batch(10, 'ten'))).status, 200);
  for (let i = 0; i < 10; i++) assert.equal((await ws.nextEvent('b')).data, 'ten');
});

test('a batch with one bad event gets 400 and publishes none of it', async () => {
  const ws = await subscriber('batch-atomic');
  const res = await post('/apps/1024/batch_events', {
    batch: [
      { name: 'b', data: 'good', channel: 'batch-atomic' },
      { name: 'b', data: 'bad', channel: 'bad channel' },
    ],
  });
  assertError(res, 400);
  await post('/apps/1024/events', event({ channels: ['batch-atomic'], name: 'b', data: 'marker' }));
  assert.equal((await ws.nextEvent('b')).data, 'marker');
});

test('data of exactly max_event_payload (102400 bytes) is accepted', async () => {
  assert.equal((await post('/apps/1024/events', event({ data: 'd'.repeat(102400) }))).status, 200);
});

test('data over max_event_payload gets 413', async () => {
  assertError(await post('/apps/1024/events', event({ data: 'd'.repeat(102401) })), 413);
});

test('a body over max_request_body (1 MiB) gets 413', async () => {
  const body = JSON.stringify(event({ data: 'x', padding: 'p'.repeat(1024 * 1024) }));
  // The server answers 413 from the Content-Length alone and closes without reading the body, so a
  // client that is still writing it may see the connection reset before it reads the answer. A
  // careful client asks first (Expect: 100-continue), as curl does for large bodies: then the 413
  // arrives instead of a 100 Continue and nothing of the body is sent.
  const query = signQuery({ method: 'POST', path: '/apps/1024/events', body, key: server.key, secret: server.secret });
  const res = await new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: server.apiPort, method: 'POST', path: `/apps/1024/events?${query}`, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' },
    }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c) => { text += c; });
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, text, json: JSON.parse(text) }));
      r.on('error', reject);
    });
    req.on('continue', () => req.end(body));
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('no answer within 10 s')));
  });
  assertError(res, 413);
});

test('an invalid socket_id gets 400', async () => {
  assertError(await post('/apps/1024/events', event({ socket_id: 'not-a-socket' })), 400);
  assertError(await post('/apps/1024/events', event({ socket_id: '1.2.3' })), 400);
});

test('several requests, failed ones included, share one keep-alive connection', async () => {
  const single = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ports = [];
    const statuses = [];
    const requests = [
      () => post('/apps/1024/events', event(), { agent: single }),
      () => post('/apps/1024/events', event(), { agent: single, override: { auth_signature: 'x' } }),
      () => get('/apps/1024/channels', undefined, { agent: single }),
      () => post('/apps/1024/events', '{bad json', { agent: single }),
      () => get('/apps/1024/nothing', undefined, { agent: single }),
      () => post('/apps/1024/events', event(), { agent: single }),
    ];
    for (const send of requests) {
      const res = await send();
      statuses.push(res.status);
      ports.push(res.localPort);
      assert.equal(res.headers.connection?.toLowerCase() === 'close', false, 'the server did not ask to close');
    }
    assert.deepEqual(statuses, [200, 401, 200, 400, 404, 200]);
    assert.equal(new Set(ports).size, 1, `local ports used: ${ports}`);
  } finally {
    single.destroy();
  }
});

// ---- channel queries (on the second app, with a real presence member) ----

const queryApp = () => ({ ...server, key: QUERY_APP.key, secret: QUERY_APP.secret, appId: QUERY_APP.id });
const qget = (path, params) => apiRequest(queryApp(), { method: 'GET', path: `/apps/77${path}`, params, agent });

let queryReady = null;
function setUpQueryChannels() {
  // Shared by the query tests: presence-room has users 7 (two sockets) and 8; pub-a has two
  // subscribers, pub-b one.
  queryReady ??= (async () => {
    const app = queryApp();
    const ann1 = await connectPusherJs(app, { presence: { user_id: '7', user_info: { name: 'Ann' } } });
    const ann2 = await connectPusherJs(app, { presence: { user_id: '7', user_info: { name: 'Ann' } } });
    const bob = await connectPusherJs(app, { presence: { user_id: 8 } });
    pusherClients.push(ann1, ann2, bob);
    const { channel } = await subscribe(ann1, 'presence-room');
    await subscribe(ann2, 'presence-room');
    await subscribe(bob, 'presence-room');
    await subscribe(ann1, 'pub-a');
    await subscribe(bob, 'pub-a');
    await subscribe(bob, 'pub-b');
    return { ann1, channel };
  })();
  return queryReady;
}

test('GET /channels lists every occupied channel with an empty attribute object', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { channels: { 'presence-room': {}, 'pub-a': {}, 'pub-b': {} } });
});

test('GET /channels with no occupied channel answers {"channels":{}}', async () => {
  const res = await get('/apps/1024/channels', { filter_by_prefix: 'nothing-starts-like-this-' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { channels: {} });
});

test('GET /channels filter_by_prefix and info=subscription_count', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels', { filter_by_prefix: 'pub-', info: 'subscription_count' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { channels: { 'pub-a': { subscription_count: 2 }, 'pub-b': { subscription_count: 1 } } });
});

test('GET /channels info=user_count counts distinct presence users', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels', { filter_by_prefix: 'presence-', info: 'user_count' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { channels: { 'presence-room': { user_count: 2 } } });
});

test('GET /channels info=user_count without the presence- prefix gets 400', async () => {
  assertError(await qget('/channels', { info: 'user_count' }), 400);
});

test('GET /channels/{name} of a public channel: occupied and subscription_count', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels/pub-a', { info: 'subscription_count' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { occupied: true, subscription_count: 2 });
  assert.deepEqual((await qget('/channels/pub-a')).json, { occupied: true });
});

test('GET /channels/{name} of an empty channel answers occupied false', async () => {
  const res = await qget('/channels/nobody-here');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { occupied: false });
});

test('GET /channels/{name} of a presence channel: user_count and subscription_count', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels/presence-room', { info: 'user_count,subscription_count' });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { occupied: true, user_count: 2, subscription_count: 3 });
});

test('GET /channels/{name}/users lists each presence user once', async () => {
  await setUpQueryChannels();
  const res = await qget('/channels/presence-room/users');
  assert.equal(res.status, 200, res.text);
  const ids = res.json.users.map((u) => u.id).sort((a, b) => String(a).localeCompare(String(b)));
  assert.deepEqual(Object.keys(res.json), ['users']);
  for (const u of res.json.users) assert.deepEqual(Object.keys(u), ['id']);
  assert.deepEqual(ids.map(String), ['7', '8']);
});

test('GET /channels/{name}/users of a non-presence channel gets 400', async () => {
  assertError(await qget('/channels/pub-a/users'), 400);
});

test('pusher-js sees the presence members the API counts', async () => {
  const { ann1, channel } = await setUpQueryChannels();
  assert.equal(channel.members.count, 2);
  assert.deepEqual(channel.members.me, { id: '7', info: { name: 'Ann' } });
  const seen = [];
  channel.members.each((m) => seen.push(String(m.id)));
  assert.deepEqual(seen.sort(), ['7', '8']);
  assert.equal(ann1.connection.state, 'connected');
});

test('the Node SDK\'s get() reads channel info from the API', async () => {
  await setUpQueryChannels();
  const sdk = serverSdk(queryApp());
  const res = await sdk.get({ path: '/channels/presence-room', params: { info: 'user_count' } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { occupied: true, user_count: 2 });
});

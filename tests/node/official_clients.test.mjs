// The Pusher features beyond webman/push, driven by the official clients against the real server:
// pusher-js (signin, pusher.user.bind, pusher.user.watchlist, subscription counts, cache channels,
// decrypting private-encrypted channels) and the Node `pusher` SDK (authenticateUser,
// authorizeChannel, sendToUser, terminateUserConnections, trigger/triggerBatch with info, get()).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './lib/server.mjs';
import { connectPusherJs, subscribe, collect, disconnect } from './lib/clients.mjs';
import { asApp, sdkFor, recordMessages, waitState, connectAsUser, signIn, collectFrom, keepSocket, releaseSockets } from './lib/official.mjs';

const MASTER_KEY = randomBytes(32).toString('base64');
const APPS = {
  counted: { id: '201', key: 'counted-key', secret: 'counted-secret', subscription_count: true },
  guarded: { id: '202', key: 'guarded-key', secret: 'guarded-secret', user_authentication_timeout: 1 },
  shortCache: { id: '203', key: 'short-cache-key', secret: 'short-cache-secret', cache_ttl: 1 },
  query: { id: '204', key: 'query-key', secret: 'query-secret' },
};

let server;
let sdk; // the main app, with an encryption master key
const clients = [];

before(async () => {
  server = await startServer({ key: 'official-key', secret: 'official-secret', apps: Object.values(APPS) });
  sdk = sdkFor(server, { encryptionMasterKeyBase64: MASTER_KEY });
});

after(async () => {
  await Promise.all(clients.map(disconnect));
  releaseSockets();
  await server?.stop();
});

/** A pusher-js client on the main app (or `app`), disconnected after the file. */
async function pusherJs(options = {}, app = server) {
  const c = keepSocket(await connectPusherJs(app, options));
  clients.push(c);
  return c;
}

/** A pusher-js client set up to sign in as `userData` (not signed in yet). */
async function asUser(userData, { app = server, appSdk = sdk, ...options } = {}) {
  const user = await connectAsUser(app, appSdk, userData, options);
  clients.push(keepSocket(user.client));
  return user;
}

/** Records, in order, every event name (and data) pusher-js hands to `channel`'s global callback. */
function recordChannel(channel) {
  const seen = [];
  channel.bind_global((event, data) => seen.push({ event, data }));
  return seen;
}

// ---------------------------------------------------------------- sign-in and server-to-user

test('pusher.signin() with the Node SDK\'s authenticateUser gets pusher:signin_success and pusher-js keeps the user data', async () => {
  const userData = { id: 'ann', user_info: { name: 'Ann' } };
  const ann = await asUser(userData);
  const success = await signIn(ann);
  assert.deepEqual(success.data, { user_data: JSON.stringify(userData) });
  assert.deepEqual(ann.client.user.user_data, userData);
  assert.equal(ann.client.user.serverToUserChannel.name, '#server-to-user-ann');
  assert.equal(ann.client.user.serverToUserChannel.subscribed, true);
});

test('pusher.user.bind receives sendToUser events on every connection of that user and nowhere else', async () => {
  const first = await asUser({ id: 'bea' });
  const second = await asUser({ id: 'bea' });
  const other = await asUser({ id: 'cal' });
  await Promise.all([signIn(first), signIn(second), signIn(other)]);
  const gotFirst = collectFrom(first.client.user, 'my-event', 'my-event on bea #1');
  const gotSecond = collectFrom(second.client.user, 'my-event', 'my-event on bea #2');
  const gotOther = collectFrom(other.client.user, 'my-event', 'my-event on cal');
  const marker = collectFrom(other.client.user, 'marker', 'marker on cal');

  const res = await sdk.sendToUser('bea', 'my-event', { text: 'hello Bea', n: 1 });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  assert.deepEqual(await gotFirst.next(), { text: 'hello Bea', n: 1 });
  assert.deepEqual(await gotSecond.next(), { text: 'hello Bea', n: 1 });

  await sdk.sendToUser('cal', 'marker', {});
  await marker.next();
  assert.deepEqual(gotOther.all, [], 'cal got nothing meant for bea');
});

test('a signin signed with the wrong secret gets pusher:error "Received invalid Auth" and no user', async () => {
  const wrong = sdkFor({ ...server, secret: 'not-the-secret' });
  const eve = await asUser({ id: 'eve' }, { authSdk: wrong });
  eve.client.signin();
  const error = await eve.log.waitFor((m) => m.event === 'pusher:error', 'pusher:error');
  assert.match(error.data.message, /^Received invalid Auth/);
  assert.ok(!eve.log.all.some((m) => m.event === 'pusher:signin_success'), JSON.stringify(eve.log.all));
  assert.equal(eve.client.user.user_data, null);
  assert.equal(eve.client.user.serverToUserChannel, null);
});

// ---------------------------------------------------------------- watchlist

test('pusher.user.watchlist reports who is online at signin, then online and offline changes', async () => {
  const bob = await asUser({ id: 'w-bob' });
  await signIn(bob);

  const alice = await asUser({ id: 'w-alice', watchlist: ['w-bob', 'w-carol'] });
  const online = collectFrom(alice.client.user.watchlist, 'online', 'watchlist online');
  const offline = collectFrom(alice.client.user.watchlist, 'offline', 'watchlist offline');
  await signIn(alice);
  assert.deepEqual(await online.next(), { name: 'online', user_ids: ['w-bob'] });
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['w-carol'] });

  const carol = await asUser({ id: 'w-carol' });
  await signIn(carol);
  assert.deepEqual(await online.next(), { name: 'online', user_ids: ['w-carol'] });

  await disconnect(bob.client);
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['w-bob'] });
});

test('a user on two connections goes offline for watchers only when the last one leaves', async () => {
  const dan1 = await asUser({ id: 'w-dan' });
  const dan2 = await asUser({ id: 'w-dan' });
  await signIn(dan1);
  await signIn(dan2);
  const watcher = await asUser({ id: 'w-watcher', watchlist: ['w-dan', 'w-marker'] });
  const online = collectFrom(watcher.client.user.watchlist, 'online', 'watchlist online');
  const offline = collectFrom(watcher.client.user.watchlist, 'offline', 'watchlist offline');
  await signIn(watcher);
  assert.deepEqual(await online.next(), { name: 'online', user_ids: ['w-dan'] });
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['w-marker'] });

  await disconnect(dan1.client);
  // w-marker coming online orders the watcher's events: nothing about w-dan may come before it.
  const marker = await asUser({ id: 'w-marker' });
  await signIn(marker);
  assert.deepEqual(await online.next(), { name: 'online', user_ids: ['w-marker'] });
  assert.deepEqual(offline.all.length, 1, `no offline for w-dan while a connection remains: ${JSON.stringify(offline.all)}`);

  await disconnect(dan2.client);
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['w-dan'] });
});

test('a watchlist of 101 ids gets pusher:error 4302, the signin succeeds and the first 100 ids are watched', async () => {
  const ids = Array.from({ length: 101 }, (_, i) => `many-${i}`);
  const watcher = await asUser({ id: 'w-many', watchlist: ids });
  const offline = collectFrom(watcher.client.user.watchlist, 'offline', 'watchlist offline');
  await signIn(watcher);
  const error = await watcher.log.waitFor((m) => m.event === 'pusher:error', 'pusher:error 4302');
  assert.equal(error.data.code, 4302);
  assert.deepEqual((await offline.next()).user_ids, ids.slice(0, 100));
  assert.deepEqual(watcher.client.user.user_data.id, 'w-many');
});

// ---------------------------------------------------------------- terminate connections

test('terminateUserConnections answers {} and closes every pusher-js connection of that user with 4009', async () => {
  const a1 = await asUser({ id: 'term-a' });
  const a2 = await asUser({ id: 'term-a' });
  const b = await asUser({ id: 'term-b' });
  await Promise.all([signIn(a1), signIn(a2), signIn(b)]);

  const res = await sdk.terminateUserConnections('term-a');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});

  for (const a of [a1, a2]) {
    const frame = await a.log.waitFor((m) => m.event === 'pusher:error', 'pusher:error 4009');
    assert.equal(frame.data.code, 4009);
    // A close code in 4000-4099 makes pusher-js give up ("refused") instead of reconnecting.
    await waitState(a.client, 'disconnected');
    assert.ok(a.log.errors.some((e) => e.data?.code === 4009), JSON.stringify(a.log.errors));
  }

  const stillThere = collectFrom(b.client.user, 'after-terminate', 'after-terminate on term-b');
  await sdk.sendToUser('term-b', 'after-terminate', { ok: true });
  assert.deepEqual(await stillThere.next(), { ok: true });
  assert.equal(b.client.connection.state, 'connected');
});

test('terminateUserConnections of a user with no connection answers {}', async () => {
  const res = await sdk.terminateUserConnections('nobody-here');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
});

// ---------------------------------------------------------------- user_authentication_timeout

test('with user_authentication_timeout, a pusher-js client that neither signs in nor joins a private channel is closed with 4009', async () => {
  const app = asApp(server, APPS.guarded);
  const idle = await pusherJs({}, app);
  const log = recordMessages(idle);
  await subscribe(idle, 'public-only'); // a public channel does not count
  await waitState(idle, 'disconnected', 5000);
  assert.ok(log.errors.some((e) => e.data?.code === 4009), JSON.stringify(log.errors));
});

test('with user_authentication_timeout, signed-in and private-channel pusher-js clients stay connected', async () => {
  const app = asApp(server, APPS.guarded);
  const appSdk = sdkFor(app);
  const signed = await asUser({ id: 'guarded-user' }, { app, appSdk });
  await signIn(signed);
  const privateClient = await pusherJs({}, app);
  const { channel } = await subscribe(privateClient, 'private-guarded');
  // A client connected after both: once it is closed, the others' time is over too.
  const idle = await pusherJs({}, app);
  await waitState(idle, 'disconnected', 5000);

  const toUser = collectFrom(signed.client.user, 'still-here', 'still-here');
  const toChannel = collect(channel, 'still-here');
  await appSdk.sendToUser('guarded-user', 'still-here', { to: 'user' });
  await appSdk.trigger('private-guarded', 'still-here', { to: 'channel' });
  assert.deepEqual(await toUser.next(), { to: 'user' });
  assert.deepEqual(await toChannel.next(), { to: 'channel' });
  assert.equal(signed.client.connection.state, 'connected');
  assert.equal(privateClient.connection.state, 'connected');
});

// ---------------------------------------------------------------- subscription_count

test('pusher-js gets pusher:subscription_count as subscribers join and leave (app with subscription_count)', async () => {
  const app = asApp(server, APPS.counted);
  const a = await pusherJs({}, app);
  const channelA = a.subscribe('counted-room');
  const counts = collectFrom(channelA, 'pusher:subscription_count', 'pusher:subscription_count');
  assert.deepEqual(await counts.next(), { subscription_count: 1 });
  assert.equal(channelA.subscriptionCount, 1);

  const b = await pusherJs({}, app);
  await subscribe(b, 'counted-room');
  assert.deepEqual(await counts.next(), { subscription_count: 2 });
  assert.equal(channelA.subscriptionCount, 2);

  b.unsubscribe('counted-room');
  assert.deepEqual(await counts.next(), { subscription_count: 1 });
  assert.equal(channelA.subscriptionCount, 1);
});

test('a pusher-js subscriber leaving by disconnecting lowers the count the others see', async () => {
  const app = asApp(server, APPS.counted);
  const a = await pusherJs({}, app);
  const counts = collectFrom(a.subscribe('counted-leave'), 'pusher:subscription_count', 'pusher:subscription_count');
  assert.deepEqual(await counts.next(), { subscription_count: 1 });
  const b = await pusherJs({}, app);
  await subscribe(b, 'counted-leave');
  assert.deepEqual(await counts.next(), { subscription_count: 2 });
  await disconnect(b);
  assert.deepEqual(await counts.next(), { subscription_count: 1 });
});

test('presence channels get no subscription_count, even with the app toggle on', async () => {
  const app = asApp(server, APPS.counted);
  const c = await pusherJs({ presence: { user_id: 'p1' } }, app);
  const log = recordMessages(c);
  const { channel } = await subscribe(c, 'presence-counted');
  const got = collect(channel, 'after');
  await sdkFor(app).trigger('presence-counted', 'after', {});
  await got.next();
  assert.ok(!log.all.some((m) => m.event === 'pusher_internal:subscription_count'), JSON.stringify(log.all));
});

test('an app without subscription_count sends no pusher_internal:subscription_count', async () => {
  const c = await pusherJs();
  const log = recordMessages(c);
  const { channel } = await subscribe(c, 'uncounted-room');
  const got = collect(channel, 'after');
  await sdk.trigger('uncounted-room', 'after', {});
  await got.next();
  assert.ok(!log.all.some((m) => m.event === 'pusher_internal:subscription_count'), JSON.stringify(log.all));
});

// ---------------------------------------------------------------- cache channels

test('subscribing to an empty cache channel gives pusher:cache_miss right after subscription_succeeded', async () => {
  const c = await pusherJs();
  const channel = c.subscribe('cache-empty');
  const seen = recordChannel(channel);
  const miss = collectFrom(channel, 'pusher:cache_miss', 'pusher:cache_miss');
  assert.deepEqual(await miss.next(), {});
  assert.deepEqual(seen.map((s) => s.event), ['pusher:subscription_succeeded', 'pusher:cache_miss']);
});

test('a new subscriber of a cache channel gets only the last triggered event, right after subscription_succeeded', async () => {
  await sdk.trigger('cache-news', 'headline', { title: 'first' });
  await sdk.trigger('cache-news', 'headline', { title: 'second' });
  const c = await pusherJs();
  const channel = c.subscribe('cache-news');
  const seen = recordChannel(channel);
  const headlines = collect(channel, 'headline');
  assert.deepEqual(await headlines.next(), { title: 'second' });
  await sdk.trigger('cache-news', 'headline', { title: 'third' });
  assert.deepEqual(await headlines.next(), { title: 'third' });
  assert.deepEqual(seen, [
    { event: 'pusher:subscription_succeeded', data: {} },
    { event: 'headline', data: { title: 'second' } },
    { event: 'headline', data: { title: 'third' } },
  ]);
});

test('private-cache- and presence-cache- channels replay their last event to pusher-js', async () => {
  await sdk.trigger('private-cache-orders', 'status', { order: 1, status: 'paid' });
  await sdk.trigger('presence-cache-room', 'topic', { topic: 'lunch' });
  const c = await pusherJs({ presence: { user_id: 'cache-user', user_info: { name: 'C' } } });
  const status = collect(c.subscribe('private-cache-orders'), 'status');
  const topic = collect(c.subscribe('presence-cache-room'), 'topic');
  assert.deepEqual(await status.next(), { order: 1, status: 'paid' });
  assert.deepEqual(await topic.next(), { topic: 'lunch' });
});

test('a private-encrypted-cache- channel replays the encrypted event and pusher-js decrypts it', async () => {
  await sdk.trigger('private-encrypted-cache-vault', 'secret', { pin: '0042' });
  const c = await pusherJs({
    channelAuthorization: { customHandler: ({ socketId, channelName }, cb) => cb(null, sdk.authorizeChannel(socketId, channelName)) },
  });
  const got = collect(c.subscribe('private-encrypted-cache-vault'), 'secret');
  assert.deepEqual(await got.next(), { pin: '0042' });
});

test('client events are not cached: a later subscriber gets pusher:cache_miss', async () => {
  const sender = await pusherJs();
  const receiver = await pusherJs();
  const { channel: senderChannel } = await subscribe(sender, 'private-cache-chat');
  const { channel: receiverChannel } = await subscribe(receiver, 'private-cache-chat');
  const typing = collect(receiverChannel, 'client-typing');
  assert.equal(senderChannel.trigger('client-typing', { who: 'sender' }), true);
  assert.deepEqual(await typing.next(), { who: 'sender' });

  const late = await pusherJs();
  const lateChannel = late.subscribe('private-cache-chat');
  const miss = collectFrom(lateChannel, 'pusher:cache_miss', 'pusher:cache_miss');
  const replayed = collect(lateChannel, 'client-typing');
  assert.deepEqual(await miss.next(), {});
  assert.deepEqual(replayed.all, []);
});

test('GET /channels/{name}?info=cache through the Node SDK gives the cached data and its ttl', async () => {
  await sdk.trigger('cache-info', 'stored', { v: 1 });
  const res = await sdk.get({ path: '/channels/cache-info', params: { info: 'cache' } });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.occupied, false);
  assert.equal(body.cache.data, JSON.stringify({ v: 1 }));
  assert.ok(Number.isInteger(body.cache.ttl) && body.cache.ttl > 0 && body.cache.ttl <= 1800, JSON.stringify(body));
});

test('GET /channels/{name}?info=cache of a non-cache channel is rejected with 400', async () => {
  await assert.rejects(sdk.get({ path: '/channels/not-cached', params: { info: 'cache' } }), (err) => {
    assert.equal(err.status, 400, String(err.body));
    return true;
  });
});

test('a cached event older than the app\'s cache_ttl is not replayed: pusher:cache_miss', async () => {
  const app = asApp(server, APPS.shortCache);
  await sdkFor(app).trigger('cache-short', 'old', { v: 'stale' });
  await sleep(2100); // cache_ttl is 1 s
  const c = await pusherJs({}, app);
  const channel = c.subscribe('cache-short');
  const miss = collectFrom(channel, 'pusher:cache_miss', 'pusher:cache_miss');
  const old = collect(channel, 'old');
  assert.deepEqual(await miss.next(), {});
  assert.deepEqual(old.all, []);
});

// ---------------------------------------------------------------- private-encrypted-

test('pusher-js decrypts what the Node SDK encrypted on a private-encrypted channel, authorised by authorizeChannel', async () => {
  const handed = [];
  const c = await pusherJs({
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) => {
        const auth = sdk.authorizeChannel(socketId, channelName);
        handed.push({ ...auth }); // pusher-js deletes shared_secret from the object it is given
        cb(null, auth);
      },
    },
  });
  const { channel } = await subscribe(c, 'private-encrypted-x');
  assert.equal(handed.length, 1);
  assert.match(handed[0].auth, /^official-key:[0-9a-f]{64}$/);
  assert.equal(Buffer.from(handed[0].shared_secret, 'base64').length, 32);

  const log = recordMessages(c);
  const got = collect(channel, 'secret');
  const payload = { card: '4111 1111', note: 'Grüße 👋', nested: { list: [1, 2, 3] } };
  const res = await sdk.trigger('private-encrypted-x', 'secret', payload);
  assert.equal(res.status, 200);
  assert.deepEqual(await got.next(), payload);
  // What crossed the wire was the SDK's ciphertext, not the payload.
  const wire = log.all.find((m) => m.event === 'secret');
  assert.deepEqual(Object.keys(wire.data).sort(), ['ciphertext', 'nonce']);
  assert.ok(!JSON.stringify(wire).includes('4111'), JSON.stringify(wire));
});

// ---------------------------------------------------------------- Node SDK: HTTP API

test('trigger with info returns subscription_count per channel and user_count for presence channels', async () => {
  const app = asApp(server, APPS.query);
  const appSdk = sdkFor(app);
  const one = await pusherJs({ presence: { user_id: 'q1' } }, app);
  const two = await pusherJs({ presence: { user_id: 'q1' } }, app);
  const three = await pusherJs({ presence: { user_id: 'q2' } }, app);
  await subscribe(one, 'info-public');
  await subscribe(two, 'info-public');
  for (const c of [one, two, three]) await subscribe(c, 'presence-info');

  const res = await appSdk.trigger(['info-public', 'presence-info'], 'ping', {}, { info: 'user_count,subscription_count' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    channels: {
      'info-public': { subscription_count: 2 },
      'presence-info': { user_count: 2, subscription_count: 3 },
    },
  });
});

test('triggerBatch with info answers one attribute object per item, {} for items without info', async () => {
  const app = asApp(server, APPS.query);
  const appSdk = sdkFor(app);
  const c = await pusherJs({ presence: { user_id: 'b1' } }, app);
  await subscribe(c, 'batch-info');
  await subscribe(c, 'presence-batch-info');
  const res = await appSdk.triggerBatch([
    { channel: 'batch-info', name: 'e', data: { i: 1 }, info: 'subscription_count' },
    { channel: 'batch-info', name: 'e', data: { i: 2 } },
    { channel: 'presence-batch-info', name: 'e', data: { i: 3 }, info: 'user_count,subscription_count' },
  ]);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    batch: [{ subscription_count: 1 }, {}, { user_count: 1, subscription_count: 1 }],
  });
});

test('the Node SDK\'s get() queries channels: list, prefix filter with user_count, one channel, its users', async () => {
  const app = asApp(server, APPS.query);
  const appSdk = sdkFor(app);
  const x = await pusherJs({ presence: { user_id: 'qx', user_info: { name: 'X' } } }, app);
  const y = await pusherJs({ presence: { user_id: 'qy' } }, app);
  await subscribe(x, 'presence-lobby');
  await subscribe(y, 'presence-lobby');
  await subscribe(x, 'query-public');

  const all = await (await appSdk.get({ path: '/channels' })).json();
  assert.deepEqual(all.channels['presence-lobby'], {});
  assert.deepEqual(all.channels['query-public'], {});

  const presence = await (await appSdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.deepEqual(presence.channels['presence-lobby'], { user_count: 2 });
  assert.ok(Object.keys(presence.channels).every((name) => name.startsWith('presence-')), JSON.stringify(presence));

  const one = await (await appSdk.get({ path: '/channels/presence-lobby', params: { info: 'user_count,subscription_count' } })).json();
  assert.deepEqual(one, { occupied: true, user_count: 2, subscription_count: 2 });

  const publicOne = await (await appSdk.get({ path: '/channels/query-public', params: { info: 'subscription_count' } })).json();
  assert.deepEqual(publicOne, { occupied: true, subscription_count: 1 });

  const users = await (await appSdk.get({ path: '/channels/presence-lobby/users' })).json();
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['qx', 'qy']);
});

test('the Node SDK\'s get() of /channels with info=user_count and no presence- prefix is rejected with 400', async () => {
  const appSdk = sdkFor(asApp(server, APPS.query));
  await assert.rejects(appSdk.get({ path: '/channels', params: { info: 'user_count' } }), (err) => {
    assert.equal(err.status, 400, String(err.body));
    return true;
  });
});

// Presence channels: pusher-js members authorised by the real PHP endpoint (Api::presenceAuth)
// and by a custom handler; member_added / member_removed across several connections, one user on
// several sockets counting once; the exact wire frames; every refusal; the member limits; and
// 1,000 join/leave cycles after which the hub holds no member and no channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { startAuthEndpoint, requestAuth } from './lib/auth-endpoint.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { apiRequest } from './lib/http.mjs';
import { connectPusherJs, subscribe, collect, disconnect, serverSdk } from './lib/clients.mjs';
import { presenceAuth, privateAuth, sendSubscribe, subscribeReply, subscribePresence } from './lib/channels.mjs';

let server;
let endpoint;
let sdk;
const pusherClients = [];
const rawClients = [];

before(async () => {
  // subscription_rate off: the churn test joins and leaves far faster than a client may by default
  // (limits.test.mjs tests the rate).
  server = await startServer({ key: 'presence-key', secret: 'presence-secret', subscription_rate: 0 });
  endpoint = await startAuthEndpoint({ key: server.key, secret: server.secret });
  sdk = serverSdk(server);
});

after(async () => {
  await Promise.all(pusherClients.map(disconnect));
  await Promise.all(rawClients.map((c) => c.close()));
  await endpoint?.stop();
  await server?.stop();
});

/** A pusher-js client that gets its presence identity from the PHP endpoint (X-User header). */
async function member(user) {
  const c = await connectPusherJs(server, {
    channelAuthorization: { endpoint: endpoint.url, transport: 'ajax', headers: { 'X-User': JSON.stringify(user) } },
  });
  pusherClients.push(c);
  return c;
}

async function raw() {
  const c = await connectApp(server);
  rawClients.push(c);
  return c;
}

/** member_added / member_removed as pusher-js reports them, in order: ['+alice', '-bob', ...]. */
function memberLog(channel) {
  const log = [];
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (log.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(log.slice());
      }
    }
  };
  channel.bind('pusher:member_added', (m) => { log.push(`+${m.id}`); check(); });
  channel.bind('pusher:member_removed', (m) => { log.push(`-${m.id}`); check(); });
  return {
    log,
    /** Resolves once `n` member events arrived in all. */
    until(n) {
      return new Promise((resolve, reject) => {
        const w = { n, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out waiting for ${n} member events on ${channel.name}: ${JSON.stringify(log)}`));
        }, 5000);
        waiters.push(w);
        check();
      });
    },
  };
}

function membersOf(channel) {
  const out = {};
  channel.members.each((m) => { out[m.id] = m.info; });
  return out;
}

const users = (channel) => apiRequest(server, { method: 'GET', path: `/apps/1/channels/${channel}/users` });

// ---- pusher-js ----

test('pusher-js joins a presence channel authorised by the PHP endpoint and is its only member', async () => {
  const c = await member({ user_id: 'alice', user_info: { name: 'Alice' } });
  const { channel, data: members } = await subscribe(c, 'presence-lobby');
  assert.equal(members.count, 1);
  assert.deepEqual(members.me, { id: 'alice', info: { name: 'Alice' } });
  assert.deepEqual(membersOf(channel), { alice: { name: 'Alice' } });
});

test('the PHP endpoint can take the user from its query string, a numeric user_id included', async () => {
  const user = encodeURIComponent(JSON.stringify({ user_id: 7, user_info: { role: 'admin' } }));
  const c = await connectPusherJs(server, {
    channelAuthorization: { endpoint: `${endpoint.url}?user=${user}`, transport: 'ajax' },
  });
  pusherClients.push(c);
  const { channel, data: members } = await subscribe(c, 'presence-query-user');
  assert.equal(members.count, 1);
  assert.equal(String(members.me.id), '7');
  assert.deepEqual(membersOf(channel), { 7: { role: 'admin' } });
});

test('pusher-js joins a presence channel through a customHandler that signs in Node', async () => {
  const c = await connectPusherJs(server, { presence: { user_id: 'node-user', user_info: { via: 'hmac' } } });
  pusherClients.push(c);
  const { data: members } = await subscribe(c, 'presence-node-signed');
  assert.deepEqual(members.me, { id: 'node-user', info: { via: 'hmac' } });
});

test('three pusher-js members see each other join and leave', async () => {
  const alice = await member({ user_id: 'alice', user_info: { name: 'Alice' } });
  const a = await subscribe(alice, 'presence-trio');
  const aLog = memberLog(a.channel);

  const bob = await member({ user_id: 'bob', user_info: { name: 'Bob' } });
  const b = await subscribe(bob, 'presence-trio');
  const bLog = memberLog(b.channel);
  assert.deepEqual(await aLog.until(1), ['+bob']);
  assert.deepEqual(membersOf(b.channel), { alice: { name: 'Alice' }, bob: { name: 'Bob' } });

  const carol = await member({ user_id: 'carol', user_info: { name: 'Carol' } });
  const c = await subscribe(carol, 'presence-trio');
  const cLog = memberLog(c.channel);
  assert.deepEqual(await aLog.until(2), ['+bob', '+carol']);
  assert.deepEqual(await bLog.until(1), ['+carol']);
  assert.equal(c.data.count, 3);
  assert.deepEqual(membersOf(c.channel), { alice: { name: 'Alice' }, bob: { name: 'Bob' }, carol: { name: 'Carol' } });
  assert.deepEqual(membersOf(a.channel), membersOf(c.channel));

  await disconnect(bob);
  assert.deepEqual(await aLog.until(3), ['+bob', '+carol', '-bob']);
  assert.deepEqual(await cLog.until(1), ['-bob']);
  assert.equal(a.channel.members.count, 2);

  carol.unsubscribe('presence-trio');
  assert.deepEqual(await aLog.until(4), ['+bob', '+carol', '-bob', '-carol']);
  assert.deepEqual(membersOf(a.channel), { alice: { name: 'Alice' } });
  assert.deepEqual((await users('presence-trio')).json, { users: [{ id: 'alice' }] });
});

test('one user on two pusher-js connections is one member: added on the first, removed after the last', async () => {
  const watcher = await member({ user_id: 'watcher' });
  const w = await subscribe(watcher, 'presence-twice');
  const log = memberLog(w.channel);

  const dave1 = await member({ user_id: 'dave', user_info: { device: 'phone' } });
  await subscribe(dave1, 'presence-twice');
  assert.deepEqual(await log.until(1), ['+dave']);

  const dave2 = await member({ user_id: 'dave', user_info: { device: 'laptop' } });
  const d2 = await subscribe(dave2, 'presence-twice');
  assert.equal(d2.data.count, 2, 'watcher and dave');
  // The first socket's user_info stands while dave stays.
  assert.deepEqual(membersOf(d2.channel), { watcher: null, dave: { device: 'phone' } });
  assert.equal(w.channel.members.count, 2);

  await disconnect(dave1);
  // Dave still has a socket: no member_removed. Eve's join is the next member event the watcher sees.
  const eve = await member({ user_id: 'eve' });
  await subscribe(eve, 'presence-twice');
  assert.deepEqual(await log.until(2), ['+dave', '+eve']);
  assert.deepEqual((await users('presence-twice')).json.users.map((u) => u.id).sort(), ['dave', 'eve', 'watcher']);

  await disconnect(dave2);
  assert.deepEqual(await log.until(3), ['+dave', '+eve', '-dave']);
  assert.equal(w.channel.members.count, 2);
});

test('a pusher-js member receives events published to its presence channel', async () => {
  const c = await member({ user_id: 'reader' });
  const { channel } = await subscribe(c, 'presence-news');
  const got = collect(channel, 'headline');
  await sdk.trigger('presence-news', 'headline', { t: 'x' });
  assert.deepEqual(await got.next(), { t: 'x' });
});

// ---- wire format (raw frames) ----

test('subscription_succeeded lists members in join order: ids as strings, hash, count, null info when absent', async () => {
  const first = await raw();
  const own = await subscribePresence(first, server, 'presence-wire', { user_id: 7, user_info: { name: 'A' } });
  assert.deepEqual(own, { presence: { ids: ['7'], hash: { 7: { name: 'A' } }, count: 1 } });
  const second = await raw();
  sendSubscribe(second, {
    channel: 'presence-wire',
    auth: presenceAuth(server, second.socketId, 'presence-wire', '{"user_id":"b"}'),
    channel_data: '{"user_id":"b"}',
  });
  const reply = await subscribeReply(second, 'presence-wire');
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
  assert.equal(reply.data, '{"presence":{"ids":["7","b"],"hash":{"7":{"name":"A"},"b":null},"count":2}}');
});

test('member_added goes to the others only, user_id as a string, user_info omitted when absent', async () => {
  const a = await raw();
  await subscribePresence(a, server, 'presence-added', { user_id: 'a' });
  const b = await raw();
  await subscribePresence(b, server, 'presence-added', { user_id: 42, user_info: { n: 'B', list: [1, '/'] } });
  assert.equal(
    (await a.next()).text,
    '{"event":"pusher_internal:member_added","data":"{\\"user_id\\":\\"42\\",\\"user_info\\":{\\"n\\":\\"B\\",\\"list\\":[1,\\"/\\"]}}","channel":"presence-added"}',
  );
  const c = await raw();
  await subscribePresence(c, server, 'presence-added', { user_id: 'c' });
  assert.equal((await a.next()).text, '{"event":"pusher_internal:member_added","data":"{\\"user_id\\":\\"c\\"}","channel":"presence-added"}');
  assert.equal((await b.nextEvent('pusher_internal:member_added')).data, '{"user_id":"c"}');
  // Nobody was told about their own arrival.
  assert.deepEqual(await c.roundTrip(), []);
  assert.deepEqual(await b.roundTrip(), []);
});

test('member_removed goes to the remaining members when one unsubscribes; the leaver gets nothing', async () => {
  const stay = await raw();
  await subscribePresence(stay, server, 'presence-removed', { user_id: 'stay' });
  const leave = await raw();
  await subscribePresence(leave, server, 'presence-removed', { user_id: 9, user_info: { x: 1 } });
  await stay.nextEvent('pusher_internal:member_added');
  leave.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-removed' } });
  assert.equal((await stay.next()).text, '{"event":"pusher_internal:member_removed","data":"{\\"user_id\\":\\"9\\"}","channel":"presence-removed"}');
  assert.deepEqual(await leave.roundTrip(), []);
  assert.deepEqual((await users('presence-removed')).json, { users: [{ id: 'stay' }] });
});

test('closing a member\'s connection removes it like unsubscribing', async () => {
  const stay = await raw();
  await subscribePresence(stay, server, 'presence-closed', { user_id: 'stay' });
  const gone = await raw();
  await subscribePresence(gone, server, 'presence-closed', { user_id: 'gone' });
  await stay.nextEvent('pusher_internal:member_added');
  await gone.close();
  assert.equal((await stay.nextEvent('pusher_internal:member_removed')).data, '{"user_id":"gone"}');
  assert.deepEqual((await users('presence-closed')).json, { users: [{ id: 'stay' }] });
});

test('user_id 7 and "7" are the same member: one member_added, member_removed after both left', async () => {
  const watcher = await raw();
  await subscribePresence(watcher, server, 'presence-same-id', { user_id: 'w' });
  const asNumber = await raw();
  await subscribePresence(asNumber, server, 'presence-same-id', { user_id: 7 });
  const asString = await raw();
  const seen = await subscribePresence(asString, server, 'presence-same-id', { user_id: '7' });
  assert.deepEqual(seen.presence.ids, ['w', '7']);
  assert.equal(seen.presence.count, 2);
  asNumber.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-same-id' } });
  await asNumber.roundTrip();
  await asString.close();
  const events = [];
  events.push(await watcher.nextMatching((m) => m.event.startsWith('pusher_internal:member_')));
  events.push(await watcher.nextMatching((m) => m.event.startsWith('pusher_internal:member_')));
  assert.deepEqual(events.map((m) => [m.event, m.data]), [
    ['pusher_internal:member_added', '{"user_id":"7"}'],
    ['pusher_internal:member_removed', '{"user_id":"7"}'],
  ]);
  assert.deepEqual(await watcher.roundTrip(), []);
});

test('subscribing twice to a presence channel from one connection announces the member once', async () => {
  const watcher = await raw();
  await subscribePresence(watcher, server, 'presence-double', { user_id: 'w' });
  const c = await raw();
  await subscribePresence(c, server, 'presence-double', { user_id: 'x' });
  const again = await subscribePresence(c, server, 'presence-double', { user_id: 'x' });
  assert.equal(again.presence.count, 2);
  await watcher.nextEvent('pusher_internal:member_added');
  assert.deepEqual(await watcher.roundTrip(), []);
  await c.close();
  assert.equal((await watcher.nextEvent('pusher_internal:member_removed')).data, '{"user_id":"x"}');
  assert.deepEqual((await users('presence-double')).json, { users: [{ id: 'w' }] });
});

test('unsubscribing from a presence channel never joined is a no-op', async () => {
  const member1 = await raw();
  await subscribePresence(member1, server, 'presence-noop', { user_id: 'm' });
  const stranger = await raw();
  stranger.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-noop' } });
  stranger.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-never-existed' } });
  assert.deepEqual(await stranger.roundTrip(), []);
  assert.deepEqual(await member1.roundTrip(), []);
  assert.deepEqual((await users('presence-noop')).json, { users: [{ id: 'm' }] });
  // The member is still subscribed and gets events.
  await sdk.trigger('presence-noop', 'e', {});
  assert.equal((await member1.nextEvent('e')).channel, 'presence-noop');
});

test('the auth the PHP endpoint returns (Api::presenceAuth) joins a raw client with its channel_data', async () => {
  const c = await raw();
  const res = await requestAuth(endpoint, { channel: 'presence-php', socketId: c.socketId, user: { user_id: 5, user_info: { n: 'é/' } } });
  assert.equal(res.status, 200, res.text);
  // PHP's json_encode escapes as the original did; the signature covers these exact bytes.
  assert.equal(res.json.channel_data, '{"user_id":5,"user_info":{"n":"\\u00e9\\/"}}');
  sendSubscribe(c, { channel: 'presence-php', auth: res.json.auth, channel_data: res.json.channel_data });
  const reply = await subscribeReply(c, 'presence-php');
  assert.equal(reply.data, '{"presence":{"ids":["5"],"hash":{"5":{"n":"é/"}},"count":1}}');
});

// ---- refusals (raw frames) ----

/** Sends a presence subscribe with `channelData` signed (or `auth` given) and returns the pusher:error. */
async function refused(channel, channelData, { auth } = {}) {
  const c = await raw();
  const data = { channel };
  if (channelData !== undefined) data.channel_data = channelData;
  data.auth = auth ? auth(c) : presenceAuth(server, c.socketId, channel, channelData ?? '');
  sendSubscribe(c, data);
  const reply = await subscribeReply(c, channel);
  assert.equal(reply.event, 'pusher:error', `expected a refusal, got ${JSON.stringify(reply)}`);
  assert.equal(reply.data.code, null);
  // Not a member: the channel is not even occupied.
  const info = await apiRequest(server, { method: 'GET', path: `/apps/1/channels/${channel}` });
  assert.equal(info.json?.occupied, false, info.text);
  return reply.data.message;
}

test('a presence subscribe without channel_data gets "Empty channel_data"', async () => {
  assert.equal(await refused('presence-no-data', undefined, { auth: (c) => privateAuth(server, c.socketId, 'presence-no-data') }), 'Empty channel_data');
});

test('channel_data changed after signing gets "Received invalid Auth"', async () => {
  const signed = '{"user_id":"honest"}';
  const message = await refused('presence-tampered', '{"user_id":"admin"}', {
    auth: (c) => presenceAuth(server, c.socketId, 'presence-tampered', signed),
  });
  assert.match(message, /^Received invalid Auth/);
});

test('a presence auth signed without channel_data (as for a private channel) is refused', async () => {
  const message = await refused('presence-unsigned-data', '{"user_id":"u"}', {
    auth: (c) => privateAuth(server, c.socketId, 'presence-unsigned-data'),
  });
  assert.match(message, /^Received invalid Auth/);
});

test('the presence auth error does not reveal the expected signature', async () => {
  let expected;
  const message = await refused('presence-no-leak', '{"user_id":"u"}', {
    auth: (c) => {
      expected = presenceAuth(server, c.socketId, 'presence-no-leak', '{"user_id":"u"}').split(':')[1];
      return `${server.key}:${'f'.repeat(64)}`;
    },
  });
  assert.match(message, /^Received invalid Auth/);
  assert.ok(!message.includes(expected.slice(0, 16)), message);
});

const badChannelData = {
  'channel_data without user_id': '{"user_info":{"name":"x"}}',
  'a null user_id': '{"user_id":null}',
  'a boolean user_id': '{"user_id":true}',
  'an object user_id': '{"user_id":{"id":1}}',
  'an empty string user_id': '{"user_id":""}',
  'channel_data that is not JSON': 'user_id=1',
  'channel_data that is a JSON array': '[1]',
  'a user_id of 129 characters': JSON.stringify({ user_id: 'u'.repeat(129) }),
};
let badSeq = 0;
for (const [what, channelData] of Object.entries(badChannelData)) {
  test(`${what} gets "Bad channel_data"`, async () => {
    assert.match(await refused(`presence-bad-${++badSeq}`, channelData), /^Bad channel_data/);
  });
}

test('a user_id of 128 characters and a user_info of exactly 1024 bytes are accepted', async () => {
  const c = await raw();
  const info = { p: 'x'.repeat(1024 - '{"p":""}'.length) };
  assert.equal(JSON.stringify(info).length, 1024);
  const joined = await subscribePresence(c, server, 'presence-big-ok', { user_id: 'u'.repeat(128), user_info: info });
  assert.deepEqual(joined.presence.hash, { ['u'.repeat(128)]: info });
});

test('a user_info of 1025 bytes gets "Bad channel_data: user_info is 1025 bytes"', async () => {
  const info = { p: 'x'.repeat(1025 - '{"p":""}'.length) };
  const message = await refused('presence-big', JSON.stringify({ user_id: 'u', user_info: info }));
  assert.match(message, /^Bad channel_data: user_info is 1025 bytes/);
  assert.match(message, /1024/, 'the message names the limit');
});

test('the user_info limit counts bytes, not characters', async () => {
  // "é" is two bytes in UTF-8: 508 of them make 1024 bytes with the wrapper, 509 make 1026.
  const c = await raw();
  await subscribePresence(c, server, 'presence-bytes', { user_id: 'fits', user_info: { p: 'é'.repeat(508) } });
  const message = await refused('presence-bytes-over', JSON.stringify({ user_id: 'u', user_info: { p: 'é'.repeat(509) } }));
  assert.match(message, /^Bad channel_data: user_info is 1026 bytes/);
});

test('the 101st member gets "Presence channel … is full: it has the maximum of 100 members"; a present user still joins', async () => {
  const channel = 'presence-full';
  const members = [];
  for (let i = 0; i < 100; i++) {
    const c = await raw();
    await subscribePresence(c, server, channel, { user_id: `m${i}` });
    members.push(c);
  }
  const extra = await raw();
  sendSubscribe(extra, {
    channel,
    auth: presenceAuth(server, extra.socketId, channel, '{"user_id":"m100"}'),
    channel_data: '{"user_id":"m100"}',
  });
  const reply = await subscribeReply(extra, channel);
  assert.equal(reply.event, 'pusher:error');
  assert.equal(reply.data.message, `Presence channel ${channel} is full: it has the maximum of 100 members`);
  // The refused socket is not in the channel; nobody heard of m100.
  await sdk.trigger(channel, 'e', {});
  await members[0].nextEvent('e');
  assert.deepEqual(await extra.roundTrip(), []);
  assert.ok(!members[0].frames.some((f) => f.json?.data?.includes?.('m100')));

  // A second socket of a user who is already a member does not add a member: allowed.
  const again = await raw();
  const joined = await subscribePresence(again, server, channel, { user_id: 'm5' });
  assert.equal(joined.presence.count, 100);

  // Once a member leaves there is room again.
  await members[99].close();
  assert.equal((await members[0].nextEvent('pusher_internal:member_removed')).data, '{"user_id":"m99"}');
  const now = await subscribePresence(extra, server, channel, { user_id: 'm100' });
  assert.equal(now.presence.count, 100);
  assert.equal((await users(channel)).json.users.length, 100);
  await Promise.all([...members, extra, again].map((c) => c.close()));
});

// ---- churn ----

test('after 1,000 presence join/leave cycles the hub holds no member and no channel', async () => {
  const CHANNELS = ['presence-churn-a', 'presence-churn-b'];
  const USERS = 7;
  const steady = [];
  for (let i = 0; i < 4; i++) steady.push(await raw());
  let cycle = 0;
  const next = () => (cycle < 1000 ? cycle++ : -1);

  // Four connections work through the cycles concurrently, so joins and leaves of the same users
  // interleave; every 25th cycle uses a fresh connection that leaves by closing instead.
  await Promise.all(steady.map(async (c) => {
    for (let n = next(); n >= 0; n = next()) {
      const channel = CHANNELS[n % CHANNELS.length];
      const user = { user_id: `u${n % USERS}`, user_info: { n: n % 3 } };
      if (n % 25 === 0) {
        const fresh = await connectApp(server);
        await subscribePresence(fresh, server, channel, user);
        await fresh.close();
      } else {
        await subscribePresence(c, server, channel, user);
        c.send({ event: 'pusher:unsubscribe', data: { channel } });
      }
    }
    await c.roundTrip();
  }));
  assert.equal(cycle, 1000);

  // Closed sockets are cleaned up as the server notices the close: allow it a moment, bounded.
  let listing;
  for (let i = 0; i < 50; i++) {
    listing = await apiRequest(server, { method: 'GET', path: '/apps/1/channels', params: { filter_by_prefix: 'presence-churn' } });
    if (JSON.stringify(listing.json) === '{"channels":{}}') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(listing.status, 200, listing.text);
  assert.deepEqual(listing.json, { channels: {} });
  for (const channel of CHANNELS) {
    assert.deepEqual((await users(channel)).json, { users: [] });
    const info = await apiRequest(server, { method: 'GET', path: `/apps/1/channels/${channel}`, params: { info: 'user_count,subscription_count' } });
    assert.equal(info.json.occupied, false, info.text);
  }
  // A newcomer is alone: no ghost member was left behind.
  const last = await raw();
  const joined = await subscribePresence(last, server, CHANNELS[0], { user_id: 'u1' });
  assert.deepEqual(joined.presence, { ids: ['u1'], hash: { u1: null }, count: 1 });
  await last.close();
  await Promise.all(steady.map((c) => c.close()));
});

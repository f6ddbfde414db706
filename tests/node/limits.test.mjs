// Per-app limits, set at the top level of the config for the main app and inside `apps` entries
// for the others: every app enforces its own values, and an app without them gets the defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connectApp, connectRaw } from './lib/ws-client.mjs';
import { apiRequest } from './lib/http.mjs';
import { presenceAuth, sendSubscribe, subscribeReply, subscribePrivate, subscribePresence, nextError } from './lib/channels.mjs';

// Top-level keys: the main app's limits.
const MAIN_LIMITS = {
  max_event_payload: 64,
  max_channels_per_event: 3,
  max_batch_size: 2,
  max_event_name_length: 20,
  max_channel_name_length: 30,
  presence_max_members: 2,
  presence_max_member_size: 40,
  client_event_rate: 3,
  max_channels_per_connection: 3,
  subscription_rate: 10,
};
const MAIN = { key: 'limits-key', secret: 'limits-secret', ...MAIN_LIMITS };
const TIGHT = {
  id: '5', key: 'tight-key', secret: 'tight-secret',
  max_event_payload: 10,
  max_channels_per_event: 1,
  max_batch_size: 1,
  max_event_name_length: 10,
  max_channel_name_length: 24,
  presence_max_members: 1,
  presence_max_member_size: 10,
  client_event_rate: 1,
  max_channels_per_connection: 1,
  subscription_rate: 4,
};
// No limit keys: the defaults.
const ROOMY = { id: '6', key: 'roomy-key', secret: 'roomy-secret' };

let server;
const clients = [];

before(async () => {
  server = await startServer({ ...MAIN, apps: [TIGHT, ROOMY] });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function raw(app) {
  const c = await connectApp(server, `/app/${app.key}`);
  clients.push(c);
  return c;
}

const publish = (app, body) => apiRequest(server, { path: '/apps/1/events', body, key: app.key, secret: app.secret });
const batch = (app, events) => apiRequest(server, { path: '/apps/1/batch_events', body: { batch: events }, key: app.key, secret: app.secret });
const names = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function assertRefused(res, status, limit) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.equal(typeof res.json?.error, 'string', res.text);
  assert.match(res.json.error, new RegExp(`\\b${limit}\\b`), `the error names the limit ${limit}: ${res.json.error}`);
}

// ---- HTTP API ----

test('each app enforces its own max_channels_per_event on POST /events (400 beyond it)', async () => {
  assert.equal((await publish(MAIN, { name: 'e', data: '{}', channels: names('c', 3) })).status, 200);
  assertRefused(await publish(MAIN, { name: 'e', data: '{}', channels: names('c', 4) }), 400, 3);
  assert.equal((await publish(TIGHT, { name: 'e', data: '{}', channels: names('c', 1) })).status, 200);
  assertRefused(await publish(TIGHT, { name: 'e', data: '{}', channels: names('c', 2) }), 400, 1);
  assert.equal((await publish(ROOMY, { name: 'e', data: '{}', channels: names('c', 100) })).status, 200);
  assertRefused(await publish(ROOMY, { name: 'e', data: '{}', channels: names('c', 101) }), 400, 100);
});

test('each app enforces its own max_batch_size on POST /batch_events (400 beyond it)', async () => {
  const ev = (i) => ({ name: 'e', data: '{}', channel: `b${i}` });
  assert.equal((await batch(MAIN, [ev(1), ev(2)])).status, 200);
  assertRefused(await batch(MAIN, [ev(1), ev(2), ev(3)]), 400, 2);
  assert.equal((await batch(TIGHT, [ev(1)])).status, 200);
  assertRefused(await batch(TIGHT, [ev(1), ev(2)]), 400, 1);
  assert.equal((await batch(ROOMY, Array.from({ length: 10 }, (_, i) => ev(i)))).status, 200);
  assertRefused(await batch(ROOMY, Array.from({ length: 11 }, (_, i) => ev(i))), 400, 10);
});

test('each app enforces its own max_event_name_length on published events (400 beyond it)', async () => {
  assert.equal((await publish(MAIN, { name: 'n'.repeat(20), data: '{}', channel: 'x' })).status, 200);
  assertRefused(await publish(MAIN, { name: 'n'.repeat(21), data: '{}', channel: 'x' }), 400, 20);
  assert.equal((await publish(TIGHT, { name: 'n'.repeat(10), data: '{}', channel: 'x' })).status, 200);
  assertRefused(await publish(TIGHT, { name: 'n'.repeat(11), data: '{}', channel: 'x' }), 400, 10);
  assert.equal((await publish(ROOMY, { name: 'n'.repeat(200), data: '{}', channel: 'x' })).status, 200);
  assertRefused(await publish(ROOMY, { name: 'n'.repeat(201), data: '{}', channel: 'x' }), 400, 200);
});

test('each app enforces its own max_event_payload on published data (413 beyond it) and the subscriber gets what passed', async () => {
  const c = await raw(MAIN);
  await c.subscribe('payload');
  assert.equal((await publish(MAIN, { name: 'e', data: 'p'.repeat(64), channel: 'payload' })).status, 200);
  assertRefused(await publish(MAIN, { name: 'e', data: 'p'.repeat(65), channel: 'payload' }), 413, 64);
  assertRefused(await publish(TIGHT, { name: 'e', data: 'p'.repeat(11), channel: 'payload' }), 413, 10);
  assert.equal((await publish(TIGHT, { name: 'e', data: 'p'.repeat(10), channel: 'payload' })).status, 200);
  assert.equal((await publish(ROOMY, { name: 'e', data: 'p'.repeat(65), channel: 'payload' })).status, 200);
  assert.equal((await c.nextEvent('e')).data, 'p'.repeat(64));
  assert.deepEqual(await c.roundTrip(), [], 'the refused event was not delivered');
});

test('each app enforces its own max_channel_name_length when publishing (400 beyond it)', async () => {
  assert.equal((await publish(MAIN, { name: 'e', data: '{}', channel: 'c'.repeat(30) })).status, 200);
  assertRefused(await publish(MAIN, { name: 'e', data: '{}', channel: 'c'.repeat(31) }), 400, 30);
  assertRefused(await publish(TIGHT, { name: 'e', data: '{}', channel: 'c'.repeat(25) }), 400, 24);
  assert.equal((await publish(ROOMY, { name: 'e', data: '{}', channel: 'c'.repeat(200) })).status, 200);
});

// ---- WebSocket ----

test('each app enforces its own max_channel_name_length when subscribing', async () => {
  for (const [app, max] of [[MAIN, 30], [TIGHT, 24], [ROOMY, 200]]) {
    const c = await raw(app);
    await c.subscribe('s'.repeat(max));
    c.send({ event: 'pusher:subscribe', data: { channel: 's'.repeat(max + 1) } });
    const error = await nextError(c);
    assert.match(error.message, /^Invalid channel name/);
    assert.match(error.message, new RegExp(`\\b${max}\\b`), error.message);
  }
});

test('each app enforces its own presence_max_members', async () => {
  for (const [app, max] of [[MAIN, 2], [TIGHT, 1]]) {
    const channel = `presence-cap-${app.key}`;
    for (let i = 0; i < max; i++) await subscribePresence(await raw(app), app, channel, { user_id: `u${i}` });
    const extra = await raw(app);
    const data = JSON.stringify({ user_id: `u${max}` });
    sendSubscribe(extra, { channel, auth: presenceAuth(app, extra.socketId, channel, data), channel_data: data });
    const reply = await subscribeReply(extra, channel);
    assert.equal(reply.event, 'pusher:error', JSON.stringify(reply));
    assert.equal(reply.data.message, `Presence channel ${channel} is full: it has the maximum of ${max} members`);
  }
  // The defaults let the same three users into an app without the key.
  for (let i = 0; i < 3; i++) await subscribePresence(await raw(ROOMY), ROOMY, 'presence-cap-roomy', { user_id: `u${i}` });
});

test('each app enforces its own presence_max_member_size', async () => {
  for (const [app, max] of [[MAIN, 40], [TIGHT, 10], [ROOMY, 1024]]) {
    const channel = `presence-size-${app.key}`;
    const info = (n) => ({ p: 'x'.repeat(n - '{"p":""}'.length) });
    await subscribePresence(await raw(app), app, channel, { user_id: 'fits', user_info: info(max) });
    const c = await raw(app);
    const data = JSON.stringify({ user_id: 'too-big', user_info: info(max + 1) });
    sendSubscribe(c, { channel, auth: presenceAuth(app, c.socketId, channel, data), channel_data: data });
    const reply = await subscribeReply(c, channel);
    assert.equal(reply.event, 'pusher:error', JSON.stringify(reply));
    assert.match(reply.data.message, new RegExp(`^Bad channel_data: user_info is ${max + 1} bytes`));
    assert.match(reply.data.message, new RegExp(`\\b${max}\\b`));
  }
});

test('each app enforces its own max_event_payload and max_event_name_length on client events', async () => {
  for (const [app, payload, name] of [[MAIN, 64, 20], [TIGHT, 10, 10]]) {
    const channel = `private-ce-${app.key}`;
    const sender = await raw(app);
    const receiver = await raw(app);
    await subscribePrivate(sender, app, channel);
    await subscribePrivate(receiver, app, channel);
    sender.send({ event: 'client-e', channel, data: 'd'.repeat(payload + 1) });
    assert.equal((await nextError(sender)).message, `Client event rejected - data is larger than ${payload} bytes`);
    sender.send({ event: `client-${'n'.repeat(name - 6)}`, channel, data: '' });
    const error = await nextError(sender);
    assert.match(error.message, /^Client event rejected - /);
    assert.match(error.message, new RegExp(`\\b${name}\\b`));
    // At the limits exactly, the event is relayed.
    sender.send({ event: `client-${'n'.repeat(name - 7)}`, channel, data: 'd'.repeat(payload) });
    const got = await receiver.next();
    assert.deepEqual(got.json, { event: `client-${'n'.repeat(name - 7)}`, data: 'd'.repeat(payload), channel });
  }
});

test('each app enforces its own client_event_rate', async () => {
  for (const [app, rate] of [[MAIN, 3], [TIGHT, 1]]) {
    const channel = `private-rate-${app.key}`;
    const sender = await raw(app);
    const receiver = await raw(app);
    await subscribePrivate(sender, app, channel);
    await subscribePrivate(receiver, app, channel);
    const BURST = 4 * rate + 2;
    for (let i = 0; i < BURST; i++) sender.send({ event: 'client-n', channel, data: String(i) });
    await sender.roundTrip();
    await receiver.roundTrip();
    const refused = sender.frames.filter((f) => f.json?.event === 'pusher:error').map((f) => f.json.data);
    const relayed = receiver.frames.filter((f) => f.json?.event === 'client-n');
    assert.equal(relayed.length + refused.length, BURST);
    // A burst this short spans at most two one-second windows.
    assert.ok(relayed.length >= rate && relayed.length <= 2 * rate, `${app.key}: relayed ${relayed.length} at rate ${rate}`);
    for (const e of refused) {
      assert.equal(e.code, 4301);
      assert.match(e.message, new RegExp(`rate limit of ${rate}\\b`));
    }
  }
});

test('each app enforces its own max_channels_per_connection: over it pusher:error 4303, the other channels keep working', async () => {
  for (const [app, max] of [[MAIN, 3], [TIGHT, 1]]) {
    const c = await raw(app);
    const joined = names(`slots-${app.key}-`, max);
    for (const channel of joined) await c.subscribe(channel);
    const extra = `slots-${app.key}-extra`;
    sendSubscribe(c, { channel: extra });
    const reply = await subscribeReply(c, extra);
    assert.equal(reply.event, 'pusher:error', JSON.stringify(reply));
    assert.equal(reply.data.code, 4303);
    assert.match(reply.data.message, new RegExp(`maximum of ${max} channels`));
    for (const channel of [extra, joined[0]]) {
      assert.equal((await publish(app, { name: 'e', data: channel === extra ? 'refused' : 'joined', channel })).status, 200);
    }
    assert.equal((await c.nextEvent('e')).data, 'joined');
    assert.deepEqual(await c.roundTrip(), [], 'nothing arrives from the refused channel');
  }
});

test('unsubscribing frees a slot under max_channels_per_connection', async () => {
  const c = await raw(TIGHT);
  await c.subscribe('slot-first');
  sendSubscribe(c, { channel: 'slot-second' });
  assert.equal((await subscribeReply(c, 'slot-second')).data.code, 4303, 'TIGHT has one slot');
  c.send({ event: 'pusher:unsubscribe', data: { channel: 'slot-first' } });
  await c.subscribe('slot-second');
});

test('each app enforces its own subscription_rate on subscribes and unsubscribes (pusher:error 4301 over it)', async () => {
  for (const [app, rate] of [[MAIN, 10], [TIGHT, 4]]) {
    const c = await raw(app);
    const BURST = 4 * rate + 2;
    for (let i = 0; i < BURST; i++) {
      c.send({ event: i % 2 ? 'pusher:unsubscribe' : 'pusher:subscribe', data: { channel: 'churn' } });
    }
    const replies = await c.roundTrip();
    const refused = replies.filter((f) => f.event === 'pusher:error').map((f) => f.data);
    const accepted = BURST - refused.length;
    // A burst this short spans at most two one-second windows.
    assert.ok(accepted >= rate && accepted <= 2 * rate, `${app.key}: accepted ${accepted} at rate ${rate}`);
    for (const e of refused) {
      assert.equal(e.code, 4301);
      assert.match(e.message, new RegExp(`rate limit of ${rate}\\b`));
    }
  }
});

test('subscription_rate bounds the member_added/member_removed frames presence churn makes for the other members', async () => {
  const channel = 'presence-churn';
  const watcher = await raw(MAIN);
  await subscribePresence(watcher, MAIN, channel, { user_id: 'watcher' });
  const churner = await raw(MAIN);
  const data = JSON.stringify({ user_id: 'churner' });
  const auth = presenceAuth(MAIN, churner.socketId, channel, data);
  for (let i = 0; i < 100; i++) {
    sendSubscribe(churner, { channel, auth, channel_data: data });
    churner.send({ event: 'pusher:unsubscribe', data: { channel } });
  }
  await churner.roundTrip();
  const frames = await watcher.roundTrip();
  const churn = frames.filter((f) => f.event?.startsWith('pusher_internal:member_'));
  // 200 requests at 10 per second: at most two windows' worth got through.
  assert.ok(churn.length >= 1 && churn.length <= 20, `the watcher got ${churn.length} member frames`);
});

test('max_connections set at the top level and in apps entries: over it, pusher:error 4004 and close 4004', async () => {
  const capped = await startServer({
    key: 'cap-key', secret: 'cap-secret', max_connections: 2,
    apps: [{ id: '8', key: 'one-key', secret: 'one-secret', max_connections: 1 }, { id: '9', key: 'free-key', secret: 'free-secret' }],
  });
  const open = [];
  try {
    for (const [key, max] of [['cap-key', 2], ['one-key', 1]]) {
      for (let i = 0; i < max; i++) {
        const c = await connectApp(capped, `/app/${key}`);
        open.push(c);
      }
      const over = await connectRaw(capped.wsUrl(`/app/${key}`));
      open.push(over);
      const frame = await over.nextEvent('pusher:error');
      assert.equal(frame.data.code, 4004);
      assert.match(frame.data.message, new RegExp(`\\b${max}\\b`));
      assert.equal((await over.waitClosed()).code, 4004);
      assert.ok(!over.frames.some((f) => f.json?.event === 'pusher:connection_established'), over.describe());
    }
    // Another app's quota is its own: the unlimited app still admits connections.
    for (let i = 0; i < 5; i++) open.push(await connectApp(capped, '/app/free-key'));
  } finally {
    await Promise.all(open.map((c) => c.close()));
    await capped.stop();
  }
});

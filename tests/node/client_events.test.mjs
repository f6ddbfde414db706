// Client events (`client-*`): relayed between members of private and presence channels, never back
// to the sender, with the sender's user_id on presence channels; refused with webman/push's
// messages in its check order; limited per connection (rate, 4301) and per app (size, on/off).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { connectPusherJs, subscribe, collect, disconnect, serverSdk } from './lib/clients.mjs';
import { subscribePrivate, subscribePresence, nextError } from './lib/channels.mjs';

const QUIET = { id: '3', key: 'quiet-key', secret: 'quiet-secret', client_events: false };
const SMALL = { id: '4', key: 'small-key', secret: 'small-secret', max_event_payload: 100 };

let server;
let sdk;
const pusherClients = [];
const rawClients = [];

before(async () => {
  server = await startServer({ key: 'client-key', secret: 'client-secret', apps: [QUIET, SMALL] });
  sdk = serverSdk(server);
});

after(async () => {
  await Promise.all(pusherClients.map(disconnect));
  await Promise.all(rawClients.map((c) => c.close()));
  await server?.stop();
});

async function pusherJs(presence) {
  const c = await connectPusherJs(server, { presence });
  pusherClients.push(c);
  return c;
}

async function raw(app = server) {
  const c = await connectApp(server, `/app/${app.key}`);
  rawClients.push(c);
  return c;
}

/** Two (or more) raw connections subscribed to a private channel. */
async function privatePeers(channel, n = 2, app = server) {
  const peers = [];
  for (let i = 0; i < n; i++) {
    const c = await raw(app);
    await subscribePrivate(c, app, channel);
    peers.push(c);
  }
  return peers;
}

const clientEvent = (event, channel, data) => ({ event, channel, data });

// ---- pusher-js ----

test('a client event from one pusher-js client reaches the other and not the sender', async () => {
  const alice = await pusherJs();
  const bob = await pusherJs();
  const a = (await subscribe(alice, 'private-chat')).channel;
  const b = (await subscribe(bob, 'private-chat')).channel;
  const toAlice = collect(a, 'client-typing');
  const toBob = collect(b, 'client-typing');
  assert.equal(a.trigger('client-typing', { who: 'alice', text: 'Grüße /' }), true);
  assert.deepEqual(await toBob.next(), { who: 'alice', text: 'Grüße /' });
  // A server event sent afterwards reaches Alice; the client event never did.
  const marker = collect(a, 'marker');
  await sdk.trigger('private-chat', 'marker', {});
  await marker.next();
  assert.deepEqual(toAlice.all, []);
});

test('on a presence channel pusher-js hands the receiver the sender\'s user_id as metadata', async () => {
  const alice = await pusherJs({ user_id: 7, user_info: { name: 'Alice' } });
  const bob = await pusherJs({ user_id: 'bob' });
  const a = (await subscribe(alice, 'presence-room')).channel;
  const b = (await subscribe(bob, 'presence-room')).channel;
  const got = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no client event within 5 s')), 5000);
    b.bind('client-wave', (data, metadata) => { clearTimeout(timer); resolve({ data, metadata }); });
  });
  assert.equal(a.trigger('client-wave', { hi: true }), true);
  const { data, metadata } = await got;
  assert.deepEqual(data, { hi: true });
  assert.equal(metadata.user_id, '7');
});

// ---- relaying (raw frames) ----

test('a client event is relayed as {event, data: JSON string, channel} to every other subscriber', async () => {
  const [sender, one, two] = await privatePeers('private-relay', 3);
  sender.send(clientEvent('client-move', 'private-relay', { x: 1, path: '/a', s: 'é' }));
  const expected = '{"event":"client-move","data":"{\\"x\\":1,\\"path\\":\\"/a\\",\\"s\\":\\"é\\"}","channel":"private-relay"}';
  assert.equal((await one.next()).text, expected);
  assert.equal((await two.next()).text, expected);
  assert.deepEqual(await sender.roundTrip(), [], 'the sender gets no echo and no reply');
});

test('a client event whose data is a string is relayed with that string as data', async () => {
  const [sender, receiver] = await privatePeers('private-string');
  sender.send(clientEvent('client-note', 'private-string', 'just text'));
  assert.equal((await receiver.next()).text, '{"event":"client-note","data":"just text","channel":"private-string"}');
});

test('on a presence channel the relayed client event carries the sender\'s user_id as a string', async () => {
  const sender = await raw();
  await subscribePresence(sender, server, 'presence-ids', { user_id: 7, user_info: { n: 1 } });
  const receiver = await raw();
  await subscribePresence(receiver, server, 'presence-ids', { user_id: 'r' });
  await sender.nextEvent('pusher_internal:member_added');
  sender.send(clientEvent('client-ping', 'presence-ids', { t: 1 }));
  assert.equal((await receiver.next()).text, '{"event":"client-ping","data":"{\\"t\\":1}","channel":"presence-ids","user_id":"7"}');
  receiver.send(clientEvent('client-pong', 'presence-ids', { t: 2 }));
  assert.equal((await sender.nextEvent('client-pong')).user_id, 'r');
});

test('a client event is not relayed to a connection that unsubscribed, and the unsubscribed sender is refused', async () => {
  const [sender, receiver, leaver] = await privatePeers('private-left', 3);
  leaver.send({ event: 'pusher:unsubscribe', data: { channel: 'private-left' } });
  await leaver.roundTrip();
  sender.send(clientEvent('client-a', 'private-left', {}));
  await receiver.nextEvent('client-a');
  assert.deepEqual(await leaver.roundTrip(), []);
  leaver.send(clientEvent('client-b', 'private-left', {}));
  assert.equal((await nextError(leaver)).message, "Client event rejected - you didn't subscribe this channel");
});

// ---- refusals, in webman/push's check order ----

/**
 * `sender` sends `message`; it gets a pusher:error with code null and `expected` as message, and
 * `receiver` (subscribed to the channels involved) gets nothing.
 */
async function refused(sender, receiver, message, expected) {
  sender.send(message);
  const error = await nextError(sender);
  assert.equal(error.code, null);
  if (expected instanceof RegExp) assert.match(error.message, expected);
  else assert.equal(error.message, expected);
  assert.deepEqual(await receiver.roundTrip(), [], 'nothing was relayed');
  return error.message;
}

const ONLY = 'Client event rejected - only supported on private and presence channels';
const NOT_SUBSCRIBED = "Client event rejected - you didn't subscribe this channel";
const PREFIX = "Client event rejected - client events must be prefixed by 'client-'";

test('a client event without a channel gets "Empty channel"', async () => {
  const [sender, receiver] = await privatePeers('private-e1');
  await refused(sender, receiver, { event: 'client-x', data: {} }, 'Empty channel');
});

test('a client- event on a subscribed public channel gets "only supported on private and presence channels"', async () => {
  const sender = await raw();
  const receiver = await raw();
  await sender.subscribe('public-room');
  await receiver.subscribe('public-room');
  await refused(sender, receiver, clientEvent('client-x', 'public-room', {}), ONLY);
});

test('a non-client- event on a public channel gets the channel-type error first, not the prefix error', async () => {
  const sender = await raw();
  const receiver = await raw();
  await sender.subscribe('public-room2');
  await receiver.subscribe('public-room2');
  await refused(sender, receiver, clientEvent('foo', 'public-room2', {}), ONLY);
});

test('a client- event on a private channel not subscribed gets "you didn\'t subscribe this channel"', async () => {
  const [receiver] = await privatePeers('private-e2', 1);
  const sender = await raw();
  await refused(sender, receiver, clientEvent('client-x', 'private-e2', {}), NOT_SUBSCRIBED);
});

test('a non-client- event on a private channel not subscribed gets the subscription error first', async () => {
  const [receiver] = await privatePeers('private-e3', 1);
  const sender = await raw();
  await refused(sender, receiver, clientEvent('foo', 'private-e3', {}), NOT_SUBSCRIBED);
});

test('a non-client- event on a subscribed private channel gets "client events must be prefixed by \'client-\'"', async () => {
  const [sender, receiver] = await privatePeers('private-e4');
  await refused(sender, receiver, clientEvent('typing', 'private-e4', {}), PREFIX);
});

test('a non-client- event on a subscribed presence channel gets the prefix error', async () => {
  const sender = await raw();
  const receiver = await raw();
  await subscribePresence(sender, server, 'presence-e5', { user_id: 's' });
  await subscribePresence(receiver, server, 'presence-e5', { user_id: 'r' });
  await sender.nextEvent('pusher_internal:member_added');
  await refused(sender, receiver, clientEvent('typing', 'presence-e5', {}), PREFIX);
});

test('a client cannot forge pusher_internal:member_added: it gets the prefix error', async () => {
  const sender = await raw();
  const receiver = await raw();
  await subscribePresence(sender, server, 'presence-forge', { user_id: 's' });
  await subscribePresence(receiver, server, 'presence-forge', { user_id: 'r' });
  await sender.nextEvent('pusher_internal:member_added');
  await refused(sender, receiver, clientEvent('pusher_internal:member_added', 'presence-forge', '{"user_id":"ghost"}'), PREFIX);
});

test('a pusher: event with a channel gets "Unknown event"', async () => {
  const [sender, receiver] = await privatePeers('private-e6');
  await refused(sender, receiver, clientEvent('pusher:client-x', 'private-e6', {}), 'Unknown event');
});

test('a client event on a subscribed private-encrypted channel is refused (the server cannot encrypt it)', async () => {
  const [sender, receiver] = await privatePeers('private-encrypted-e7');
  await refused(sender, receiver, clientEvent('client-x', 'private-encrypted-e7', {}), /^Client event rejected - /);
});

test('a client event name longer than 200 characters is refused', async () => {
  const [sender, receiver] = await privatePeers('private-e8');
  const message = await refused(sender, receiver, clientEvent(`client-${'n'.repeat(194)}`, 'private-e8', {}), /^Client event rejected - /);
  assert.match(message, /200/);
  // 200 characters exactly is fine.
  sender.send(clientEvent(`client-${'n'.repeat(193)}`, 'private-e8', {}));
  assert.equal((await receiver.next()).json.event.length, 200);
});

test('an app with client_events => false refuses them: "client events are disabled for this app"', async () => {
  const [sender, receiver] = await privatePeers('private-quiet', 2, QUIET);
  await refused(sender, receiver, clientEvent('client-x', 'private-quiet', {}), 'Client event rejected - client events are disabled for this app');
});

test('client event data over the app\'s max_event_payload gets "data is larger than N bytes"; N bytes pass', async () => {
  const [sender, receiver] = await privatePeers('private-small', 2, SMALL);
  await refused(sender, receiver, clientEvent('client-x', 'private-small', 'd'.repeat(101)), 'Client event rejected - data is larger than 100 bytes');
  sender.send(clientEvent('client-x', 'private-small', 'd'.repeat(100)));
  assert.equal((await receiver.next()).json.data, 'd'.repeat(100));
});

// ---- rate limit ----

test('client events beyond 10 per second from one connection get pusher:error 4301; the rest are relayed', async () => {
  const [sender, receiver, other] = await privatePeers('private-rate', 3);
  const BURST = 30;
  for (let i = 0; i < BURST; i++) sender.send(clientEvent('client-n', 'private-rate', { i }));
  await sender.roundTrip();
  const errors = sender.frames.filter((f) => f.json?.event === 'pusher:error').map((f) => f.json.data);
  // Everything sent was either relayed or refused, never both; the relayed ones in order.
  await receiver.roundTrip();
  const relayed = receiver.frames.filter((f) => f.json?.event === 'client-n').map((f) => JSON.parse(f.json.data).i);
  assert.equal(relayed.length + errors.length, BURST, `relayed ${relayed.length}, refused ${errors.length}`);
  assert.deepEqual(relayed, [...relayed].sort((x, y) => x - y));
  // A burst sent in well under a second spans at most two one-second windows.
  assert.ok(relayed.length >= 10 && relayed.length <= 20, `relayed ${relayed.length}`);
  assert.deepEqual(relayed.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const e of errors) {
    assert.equal(e.code, 4301);
    assert.match(e.message, /rate limit/);
  }
  assert.equal(sender.closeInfo, undefined, 'the connection stays open');

  // The limit is per connection: another subscriber is not affected.
  other.send(clientEvent('client-other', 'private-rate', {}));
  assert.equal((await receiver.nextEvent('client-other')).channel, 'private-rate');

  // A second later the sender may send again.
  await new Promise((r) => setTimeout(r, 1100));
  sender.send(clientEvent('client-later', 'private-rate', {}));
  assert.equal((await receiver.nextEvent('client-later')).channel, 'private-rate');
});

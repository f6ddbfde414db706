// Laravel Echo (broadcaster 'pusher', on pusher-js) against the real server, the way a Laravel front
// end uses it: Echo.private/channel/join with listen, here/joining/leaving, whisper and
// listenForWhisper, notifications, toOthers via Echo.socketId(), encryptedPrivate and signin. The
// channel authorisation is Echo's `authorizer` option, signing with the Node `pusher` SDK as a
// Laravel /broadcasting/auth route would; events come from the Node SDK as Laravel's Pusher
// broadcaster sends them (class names in the App\Events namespace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Echo from 'laravel-echo';
import PusherJs from 'pusher-js';
import { startServer } from './lib/server.mjs';
import { sdkFor, waitState, keepSocket, releaseSockets, collectFrom } from './lib/official.mjs';

const MASTER_KEY = randomBytes(32).toString('base64');
const WAIT_MS = 5000;

let server;
let sdk;
const echos = [];

before(async () => {
  server = await startServer({ key: 'echo-key', secret: 'echo-secret' });
  sdk = sdkFor(server, { encryptionMasterKeyBase64: MASTER_KEY });
});

after(async () => {
  for (const echo of echos) echo.disconnect();
  await Promise.all(echos.map((echo) => waitState(echo.connector.pusher, 'disconnected').catch(() => {})));
  releaseSockets();
  await server?.stop();
});

/**
 * A connected Echo for `user` ({id, name}). Its authorizer answers like Laravel's
 * /broadcasting/auth: private channels get {auth}, presence channels {auth, channel_data} with
 * the user as user_info, encrypted ones also {shared_secret}.
 */
async function echoFor(user, options = {}) {
  const echo = new Echo({
    broadcaster: 'pusher',
    key: server.key,
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: server.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    Pusher: PusherJs,
    authorizer: (channel) => ({
      authorize: (socketId, callback) => {
        const presence = channel.name.startsWith('presence-') ? { user_id: user.id, user_info: user } : undefined;
        callback(null, sdk.authorizeChannel(socketId, channel.name, presence));
      },
    }),
    ...options,
  });
  echos.push(echo);
  await waitState(echo.connector.pusher, 'connected');
  keepSocket(echo.connector.pusher);
  return echo;
}

/** Collects what an Echo callback registration (listen, here, joining, ...) delivers. */
function collector(label) {
  const all = [];
  const waiters = [];
  let read = 0;
  return {
    all,
    push: (value) => {
      all.push(value);
      while (waiters.length > 0 && read < all.length) waiters.shift()(all[read++]);
    },
    next() {
      if (read < all.length) return Promise.resolve(all[read++]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}; got ${JSON.stringify(all)}`)), WAIT_MS);
        waiters.push((v) => { clearTimeout(timer); resolve(v); });
      });
    },
  };
}

/** Resolves once Echo's channel reports subscribed(). */
function subscribed(channel, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${name} to be subscribed`)), WAIT_MS);
    channel.subscribed(() => { clearTimeout(timer); resolve(); });
    channel.error((e) => { clearTimeout(timer); reject(new Error(`${name}: ${JSON.stringify(e)}`)); });
  });
}

const byId = (a, b) => String(a.id).localeCompare(String(b.id));

test('Echo.private(...).listen receives a Laravel broadcast named after its App\\Events class', async () => {
  const echo = await echoFor({ id: 1, name: 'Ann' });
  const shipped = collector('OrderShipped');
  const channel = echo.private('orders.1').listen('OrderShipped', shipped.push);
  await subscribed(channel, 'private-orders.1');
  const res = await sdk.trigger('private-orders.1', 'App\\Events\\OrderShipped', { order: { id: 1, total: 9.5 } });
  assert.equal(res.status, 200);
  assert.deepEqual(await shipped.next(), { order: { id: 1, total: 9.5 } });
});

test('Echo.channel(...).listen with a leading dot receives an event by its broadcastAs name', async () => {
  const echo = await echoFor({ id: 2, name: 'Ben' });
  const got = collector('.price.updated');
  const channel = echo.channel('prices').listen('.price.updated', got.push);
  await subscribed(channel, 'prices');
  await sdk.trigger('prices', 'price.updated', { sku: 'A-1', price: 12 });
  assert.deepEqual(await got.next(), { sku: 'A-1', price: 12 });
});

test('Echo.private(...).notification receives a Laravel broadcast notification', async () => {
  const echo = await echoFor({ id: 3, name: 'Cid' });
  const notes = collector('notification');
  const channel = echo.private('App.Models.User.3').notification(notes.push);
  await subscribed(channel, 'private-App.Models.User.3');
  const payload = { id: 'a1b2', type: 'App\\Notifications\\InvoicePaid', amount: 30 };
  await sdk.trigger('private-App.Models.User.3', 'Illuminate\\Notifications\\Events\\BroadcastNotificationCreated', payload);
  assert.deepEqual(await notes.next(), payload);
});

test('Echo.join: here lists the members, joining and leaving report the others\' user_info', async () => {
  const ann = { id: 11, name: 'Ann' };
  const ben = { id: 12, name: 'Ben' };
  const cid = { id: 13, name: 'Cid' };
  const echoAnn = await echoFor(ann);
  const hereAnn = collector('here (Ann)');
  const joining = collector('joining');
  const leaving = collector('leaving');
  echoAnn.join('chat.1').here(hereAnn.push).joining(joining.push).leaving(leaving.push);
  assert.deepEqual(await hereAnn.next(), [ann]);

  const echoBen = await echoFor(ben);
  const hereBen = collector('here (Ben)');
  echoBen.join('chat.1').here(hereBen.push);
  assert.deepEqual((await hereBen.next()).sort(byId), [ann, ben]);
  assert.deepEqual(await joining.next(), ben);

  const echoCid = await echoFor(cid);
  const hereCid = collector('here (Cid)');
  echoCid.join('chat.1').here(hereCid.push);
  assert.deepEqual((await hereCid.next()).sort(byId), [ann, ben, cid]);
  assert.deepEqual(await joining.next(), cid);

  echoBen.leave('chat.1');
  assert.deepEqual(await leaving.next(), ben);
  echoCid.disconnect();
  assert.deepEqual(await leaving.next(), cid);
});

test('whisper on a private channel reaches listenForWhisper of the other subscribers, not the sender', async () => {
  const echoA = await echoFor({ id: 21, name: 'A' });
  const echoB = await echoFor({ id: 22, name: 'B' });
  const atA = collector('typing at A');
  const atB = collector('typing at B');
  const markerAtA = collector('marker at A');
  const channelA = echoA.private('room.21').listenForWhisper('typing', atA.push).listen('.marker', markerAtA.push);
  const channelB = echoB.private('room.21').listenForWhisper('typing', atB.push);
  await Promise.all([subscribed(channelA, 'A'), subscribed(channelB, 'B')]);

  channelA.whisper('typing', { name: 'A', typing: true });
  assert.deepEqual(await atB.next(), { name: 'A', typing: true });
  // The sender is not sent its own whisper: a later event reaches it with nothing before it.
  await sdk.trigger('private-room.21', 'marker', {});
  await markerAtA.next();
  assert.deepEqual(atA.all, []);
});

test('whisper on a presence channel reaches the other members', async () => {
  const echoA = await echoFor({ id: 31, name: 'A' });
  const echoB = await echoFor({ id: 32, name: 'B' });
  const hereA = collector('here A');
  const hereB = collector('here B');
  const atA = collector('typing at A');
  echoA.join('doc.7').here(hereA.push).listenForWhisper('editing', atA.push);
  await hereA.next();
  const channelB = echoB.join('doc.7').here(hereB.push);
  await hereB.next();
  channelB.whisper('editing', { line: 12 });
  assert.deepEqual(await atA.next(), { line: 12 });
});

test('a broadcast toOthers (the request carries Echo.socketId()) skips that Echo client only', async () => {
  const sender = await echoFor({ id: 41, name: 'Sender' });
  const other = await echoFor({ id: 42, name: 'Other' });
  const atSender = collector('at sender');
  const atOther = collector('at other');
  const senderChannel = sender.private('team.4').listen('MessagePosted', atSender.push);
  const otherChannel = other.private('team.4').listen('MessagePosted', atOther.push);
  await Promise.all([subscribed(senderChannel, 'sender'), subscribed(otherChannel, 'other')]);
  assert.match(sender.socketId(), /^\d+\.\d+$/);

  await sdk.trigger('private-team.4', 'App\\Events\\MessagePosted', { text: 'first' }, { socket_id: sender.socketId() });
  await sdk.trigger('private-team.4', 'App\\Events\\MessagePosted', { text: 'second' });
  assert.deepEqual(await atOther.next(), { text: 'first' });
  assert.deepEqual(await atOther.next(), { text: 'second' });
  assert.deepEqual(await atSender.next(), { text: 'second' }, 'the sender gets only the event not excluded');
});

test('Echo.encryptedPrivate decrypts what the Node SDK encrypted', async () => {
  const echo = await echoFor({ id: 51, name: 'Vault' });
  const got = collector('SecretShared');
  const channel = echo.encryptedPrivate('vault.51').listen('SecretShared', got.push);
  await subscribed(channel, 'private-encrypted-vault.51');
  await sdk.trigger('private-encrypted-vault.51', 'App\\Events\\SecretShared', { code: 'XK-42' });
  assert.deepEqual(await got.next(), { code: 'XK-42' });
});

test('Echo.connector.signin() with a user-auth customHandler receives sendToUser', async () => {
  const echo = await echoFor({ id: 61, name: 'Signed' }, {
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, sdk.authenticateUser(socketId, { id: '61', user_info: { name: 'Signed' } })),
    },
  });
  const pusher = echo.connector.pusher;
  const notices = collectFrom(pusher.user, 'notice', 'notice');
  const userChannel = new Promise((resolve) => pusher.connection.bind('message', (m) => {
    if (m.event === 'pusher_internal:subscription_succeeded' && m.channel === '#server-to-user-61') resolve();
  }));
  echo.connector.signin();
  await userChannel;
  await sdk.sendToUser('61', 'notice', { text: 'just for you' });
  assert.deepEqual(await notices.next(), { text: 'just for you' });
});

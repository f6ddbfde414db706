// The WebSocket handshake and the frames of a healthy connection, seen through a raw client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { RawClient, connectRaw, connectApp } from './lib/ws-client.mjs';
import { serverSdk } from './lib/clients.mjs';

let server;
let sdk;
const clients = [];

before(async () => {
  server = await startServer({ key: 'conn-key', secret: 'conn-secret' });
  sdk = serverSdk(server);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function open(path) {
  const c = await connectApp(server, path);
  clients.push(c);
  return c;
}

const ESTABLISHED = /^\{"event":"pusher:connection_established","data":"\{\\"socket_id\\":\\"(\d+\.\d+)\\",\\"activity_timeout\\":(\d+)\}"\}$/;

test('the first frame is connection_established with a socket_id and activity_timeout 55', async () => {
  const c = new RawClient(server.wsUrl(`/app/${server.key}?protocol=7&client=js&version=8.6.0&flash=false`));
  clients.push(c);
  await c.opened;
  const first = await c.next();
  assert.match(first.text, ESTABLISHED);
  assert.equal(typeof first.json.data, 'string', 'data is a JSON-encoded string');
  const data = JSON.parse(first.json.data);
  assert.match(data.socket_id, /^\d+\.\d+$/);
  assert.equal(data.activity_timeout, 55);
});

test('every connection gets a different socket_id', async () => {
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push((await open()).socketId);
  for (const id of ids) assert.match(id, /^\d+\.\d+$/);
  assert.equal(new Set(ids).size, ids.length, `duplicate socket ids: ${ids}`);
});

test('a path without a query string is accepted (webman push.js connects to /app/KEY)', async () => {
  const c = await open(`/app/${server.key}`);
  assert.match(c.socketId, /^\d+\.\d+$/);
});

test('a path prefix before /app/ is accepted', async () => {
  const c = await open(`/some/proxy/prefix/app/${server.key}?protocol=7`);
  assert.match(c.socketId, /^\d+\.\d+$/);
});

test('an unknown app key gets pusher:error 4001 and a 4001 close', async () => {
  const c = await connectRaw(server.wsUrl('/app/no-such-key?protocol=7'));
  clients.push(c);
  const error = await c.nextEvent('pusher:error');
  assert.equal(error.data.code, 4001);
  assert.equal(typeof error.data.message, 'string');
  assert.ok(error.data.message.length > 0);
  const closed = await c.waitClosed();
  assert.equal(closed.code, 4001);
  assert.ok(!c.frames.some((f) => f.json?.event === 'pusher:connection_established'));
});

test('a path that is not /app/{key} is refused with HTTP 404', async () => {
  for (const path of ['/', '/apps/conn-key', '/app/', '/socket']) {
    const c = new RawClient(server.wsUrl(path));
    await assert.rejects(c.opened, /Unexpected server response: 404/, path);
  }
});

test('pusher:ping is answered with exactly {"event":"pusher:pong","data":"{}"}', async () => {
  const c = await open();
  c.send({ event: 'pusher:ping', data: {} });
  const pong = await c.next();
  assert.equal(pong.text, '{"event":"pusher:pong","data":"{}"}');
});

test('pusher:ping without data is answered too', async () => {
  const c = await open();
  c.send('{"event":"pusher:ping"}');
  assert.equal((await c.next()).text, '{"event":"pusher:pong","data":"{}"}');
});

test('a WebSocket ping frame is answered with a pong frame carrying the same payload', async () => {
  const c = await open();
  c.ws.ping('are-you-there');
  await c.waitFor(() => c.pongs.length > 0, 'a pong frame');
  assert.deepEqual(c.pongs, ['are-you-there']);
  // The control frame produced no text frame.
  assert.deepEqual(await c.roundTrip(), []);
});

test('subscribing to a public channel is confirmed with subscription_succeeded and data "{}"', async () => {
  const c = await open();
  c.send({ event: 'pusher:subscribe', data: { channel: 'public-1' } });
  const ok = await c.next();
  assert.deepEqual(ok.json, { event: 'pusher_internal:subscription_succeeded', data: '{}', channel: 'public-1' });
});

test('a channel name of 200 characters is accepted', async () => {
  const c = await open();
  const name = 'c'.repeat(200);
  const ok = await c.subscribe(name);
  assert.equal(ok.channel, name);
});

test('a published event arrives as {event, data: string, channel}', async () => {
  const c = await open();
  await c.subscribe('public-2');
  await sdk.trigger('public-2', 'greeting', { text: 'héllo / "quoted"' });
  const frame = await c.nextEvent('greeting');
  assert.deepEqual(frame, { event: 'greeting', data: '{"text":"héllo / \\"quoted\\""}', channel: 'public-2' });
});

test('a subscriber gets only events of the channels it subscribed', async () => {
  const c = await open();
  await c.subscribe('mine');
  await sdk.trigger('not-mine', 'e', { n: 1 });
  await sdk.trigger('mine', 'e', { n: 2 });
  const frame = await c.nextEvent('e');
  assert.deepEqual(frame, { event: 'e', data: '{"n":2}', channel: 'mine' });
});

test('subscribing twice to the same channel delivers each event once', async () => {
  const c = await open();
  await c.subscribe('twice');
  c.send({ event: 'pusher:subscribe', data: { channel: 'twice' } });
  await c.roundTrip();
  await sdk.trigger('twice', 'e', { n: 1 });
  await sdk.trigger('twice', 'e', { n: 2 });
  assert.equal((await c.nextEvent('e')).data, '{"n":1}');
  assert.equal((await c.nextEvent('e')).data, '{"n":2}');
  assert.deepEqual(await c.roundTrip(), []);
});

test('unsubscribe gets no reply and stops the channel\'s events', async () => {
  const c = await open();
  await c.subscribe('leave-me');
  await c.subscribe('stay');
  c.send({ event: 'pusher:unsubscribe', data: { channel: 'leave-me' } });
  // Nothing comes back for the unsubscribe: the next frame is the pong.
  assert.deepEqual(await c.roundTrip(), []);
  await sdk.trigger('leave-me', 'e', { lost: true });
  await sdk.trigger('stay', 'e', { kept: true });
  // Events of one connection arrive in order, so the first event must be the one on 'stay'.
  assert.deepEqual(await c.nextEvent('e'), { event: 'e', data: '{"kept":true}', channel: 'stay' });
});

test('unsubscribing from a channel never subscribed is silent', async () => {
  const c = await open();
  c.send({ event: 'pusher:unsubscribe', data: { channel: 'never-joined' } });
  assert.deepEqual(await c.roundTrip(), []);
});

test('an event is delivered to every subscriber of the channel', async () => {
  const subscribers = [];
  for (let i = 0; i < 3; i++) {
    const c = await open();
    await c.subscribe('fanout');
    subscribers.push(c);
  }
  await sdk.trigger('fanout', 'e', { all: true });
  for (const c of subscribers) {
    assert.deepEqual(await c.nextEvent('e'), { event: 'e', data: '{"all":true}', channel: 'fanout' });
  }
});

// Bad input from a client: each gets a pusher:error that says what was wrong, and the connection
// stays open and usable (Pusher clients treat pusher:error as non-fatal). Only an oversized
// message closes the socket (1009).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { connectApp } from './lib/ws-client.mjs';
import { serverSdk } from './lib/clients.mjs';

let server;
let sdk;
const clients = [];

before(async () => {
  server = await startServer({ key: 'err-key', secret: 'err-secret' });
  sdk = serverSdk(server);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function open() {
  const c = await connectApp(server);
  clients.push(c);
  return c;
}

let channelSeq = 0;

/**
 * Sends `input`, expects a pusher:error with code null whose message matches `message`, then checks
 * that the same connection still subscribes and receives events.
 */
async function rejectsAndStaysUsable(input, message) {
  const c = await open();
  c.send(input);
  const frame = await c.next();
  assert.equal(frame.json?.event, 'pusher:error', `expected pusher:error, got ${frame.text}`);
  assert.equal(typeof frame.json.data, 'object', 'pusher:error data is an object');
  assert.equal(frame.json.data.code, null);
  assert.match(frame.json.data.message, message);
  const channel = `after-error-${++channelSeq}`;
  await c.subscribe(channel);
  await sdk.trigger(channel, 'still-here', { ok: true });
  assert.deepEqual(await c.nextEvent('still-here'), { event: 'still-here', data: '{"ok":true}', channel });
  assert.equal(c.closeInfo, undefined);
  return frame.json.data.message;
}

test('invalid JSON gets "Invalid JSON" and the connection stays usable', async () => {
  await rejectsAndStaysUsable('{"event": "pusher:ping",', /^Invalid JSON/);
});

test('a JSON array gets "Invalid message: expected a JSON object"', async () => {
  await rejectsAndStaysUsable('[1, 2]', /^Invalid message: expected a JSON object$/);
});

test('a JSON string gets "Invalid message: expected a JSON object"', async () => {
  await rejectsAndStaysUsable('"pusher:ping"', /^Invalid message: expected a JSON object$/);
});

test('a message without event gets "Empty event"', async () => {
  await rejectsAndStaysUsable({ data: {} }, /^Empty event$/);
});

test('an event that is not a string gets "Invalid event: must be a string"', async () => {
  await rejectsAndStaysUsable({ event: 42, data: {} }, /^Invalid event: must be a string$/);
});

test('pusher:subscribe without a channel gets "Empty channel"', async () => {
  await rejectsAndStaysUsable({ event: 'pusher:subscribe', data: {} }, /^Empty channel$/);
});

test('pusher:subscribe without data gets "Empty channel"', async () => {
  await rejectsAndStaysUsable({ event: 'pusher:subscribe' }, /^Empty channel$/);
});

test('a channel that is not a string gets "Invalid channel: must be a string"', async () => {
  await rejectsAndStaysUsable({ event: 'pusher:subscribe', data: { channel: ['a'] } }, /^Invalid channel: must be a string$/);
});

test('a channel name with a space gets "Invalid channel name"', async () => {
  const message = await rejectsAndStaysUsable({ event: 'pusher:subscribe', data: { channel: 'my channel' } }, /^Invalid channel name/);
  assert.match(message, /' '/, 'the message names the bad character');
});

test('a channel name longer than 200 characters gets "Invalid channel name"', async () => {
  const message = await rejectsAndStaysUsable({ event: 'pusher:subscribe', data: { channel: 'x'.repeat(201) } }, /^Invalid channel name/);
  assert.match(message, /200/, 'the message names the limit');
});

test('an unknown pusher: event gets "Unknown event"', async () => {
  await rejectsAndStaysUsable({ event: 'pusher:bogus', data: {} }, /^Unknown event$/);
});

test('a binary frame gets a pusher:error and the connection stays usable', async () => {
  await rejectsAndStaysUsable(Buffer.from('{"event":"pusher:ping","data":{}}'), /binary/i);
});

test('a rejected subscribe does not subscribe: the channel\'s events do not arrive', async () => {
  const c = await open();
  c.send({ event: 'pusher:subscribe', data: { channel: 'bad name' } });
  assert.equal((await c.nextEvent('pusher:error')).data.code, null);
  await c.subscribe('good-name');
  await sdk.trigger('good-name', 'e', {});
  assert.deepEqual(await c.nextEvent('e'), { event: 'e', data: '{}', channel: 'good-name' });
  assert.ok(!c.frames.some((f) => f.json?.channel === 'bad name'), c.describe());
});

test('a message of exactly max_message_size (65536 bytes) is accepted', async () => {
  const c = await open();
  const head = '{"event":"pusher:ping","data":{"pad":"';
  const tail = '"}}';
  const message = head + 'p'.repeat(65536 - head.length - tail.length) + tail;
  assert.equal(Buffer.byteLength(message), 65536);
  c.send(message);
  assert.equal((await c.next()).text, '{"event":"pusher:pong","data":"{}"}');
});

test('a message over max_message_size closes the connection with 1009', async () => {
  const c = await open();
  c.send(JSON.stringify({ event: 'pusher:ping', data: { pad: 'x'.repeat(70000) } }));
  const closed = await c.waitClosed();
  assert.equal(closed.code, 1009);
});

test('after one client sends bad input, other clients still get events', async () => {
  const bystander = await open();
  await bystander.subscribe('shared');
  const offender = await open();
  await offender.subscribe('shared');
  for (const bad of ['nonsense', '[]', '{}', '{"event":1}', '{"event":"pusher:subscribe","data":{"channel":" "}}', Buffer.from([0, 1, 2])]) {
    offender.send(bad);
  }
  offender.send(JSON.stringify({ event: 'pusher:ping', data: { pad: 'y'.repeat(70000) } }));
  assert.equal((await offender.waitClosed()).code, 1009);
  await sdk.trigger('shared', 'e', { n: 1 });
  assert.deepEqual(await bystander.nextEvent('e'), { event: 'e', data: '{"n":1}', channel: 'shared' });
  assert.deepEqual(await bystander.roundTrip(), []);
});

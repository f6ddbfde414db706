// Public channels end to end: pusher-js subscribes, the Node `pusher` SDK and the PHP
// Webman\Push\Api publish through the HTTP API, and pusher-js hands the events to its callbacks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runPhp, toPhp } from './lib/server.mjs';
import PusherJs from 'pusher-js';
import { connectPusherJs, subscribe, collect, disconnect, serverSdk } from './lib/clients.mjs';

let server;
let sdk;
const clients = [];

before(async () => {
  server = await startServer({ key: 'public-key', secret: 'public-secret' });
  sdk = serverSdk(server);
});

after(async () => {
  await Promise.all(clients.map(disconnect));
  await server?.stop();
});

async function client() {
  const c = await connectPusherJs(server);
  clients.push(c);
  return c;
}

test('pusher-js connects and gets a socket id', async () => {
  const c = await client();
  assert.equal(c.connection.state, 'connected');
  assert.match(c.connection.socket_id, /^\d+\.\d+$/);
});

test('an event triggered by the Node SDK reaches a pusher-js subscriber', async () => {
  const c = await client();
  const { channel } = await subscribe(c, 'news');
  const got = collect(channel, 'headline');
  const res = await sdk.trigger('news', 'headline', { title: 'Rust in PHP', tags: ['a', 'b'], n: 3 });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  assert.deepEqual(await got.next(), { title: 'Rust in PHP', tags: ['a', 'b'], n: 3 });
});

test('an event triggered to several channels reaches each channel once', async () => {
  const c = await client();
  const a = collect((await subscribe(c, 'multi-a')).channel, 'tick');
  const b = collect((await subscribe(c, 'multi-b')).channel, 'tick');
  const other = collect((await subscribe(c, 'multi-c')).channel, 'tick');
  await sdk.trigger(['multi-a', 'multi-b'], 'tick', { i: 1 });
  await sdk.trigger(['multi-a', 'multi-b', 'multi-c'], 'tick', { i: 2 });
  assert.deepEqual(await a.next(), { i: 1 });
  assert.deepEqual(await b.next(), { i: 1 });
  assert.deepEqual(await a.next(), { i: 2 });
  assert.deepEqual(await b.next(), { i: 2 });
  // multi-c was only in the second trigger: its first event is i=2.
  assert.deepEqual(await other.next(), { i: 2 });
});

test('triggerBatch delivers every event of the batch to its channel', async () => {
  const c = await client();
  const one = (await subscribe(c, 'batch-1')).channel;
  const two = (await subscribe(c, 'batch-2')).channel;
  const created = collect(one, 'created');
  const deleted = collect(two, 'deleted');
  const res = await sdk.triggerBatch([
    { channel: 'batch-1', name: 'created', data: { id: 1 } },
    { channel: 'batch-2', name: 'deleted', data: { id: 2 } },
    { channel: 'batch-1', name: 'created', data: { id: 3 } },
  ]);
  assert.equal(res.status, 200);
  assert.deepEqual(await created.next(), { id: 1 });
  assert.deepEqual(await created.next(), { id: 3 });
  assert.deepEqual(await deleted.next(), { id: 2 });
});

test('a string the Node SDK sends arrives as that string', async () => {
  const c = await client();
  const got = collect((await subscribe(c, 'strings')).channel, 'say');
  await sdk.trigger('strings', 'say', 'plain text, not JSON');
  assert.equal(await got.next(), 'plain text, not JSON');
});

test('the socket_id of a trigger excludes that connection only', async () => {
  const sender = await client();
  const receiver = await client();
  const toSender = collect((await subscribe(sender, 'room')).channel, 'msg');
  const toReceiver = collect((await subscribe(receiver, 'room')).channel, 'msg');
  await sdk.trigger('room', 'msg', { n: 1 }, { socket_id: sender.connection.socket_id });
  assert.deepEqual(await toReceiver.next(), { n: 1 });
  // A second event to everyone: the sender's first event must be this one.
  await sdk.trigger('room', 'msg', { n: 2 });
  assert.deepEqual(await toSender.next(), { n: 2 });
  assert.deepEqual(toSender.all, [{ n: 2 }]);
  assert.deepEqual(await toReceiver.next(), { n: 2 });
});

function phpTrigger(channels, event, data, socketId) {
  const args = [toPhp(channels), toPhp(event), data, socketId === undefined ? '' : `, ${toPhp(socketId)}`];
  return runPhp(`
    $api = new Webman\\Push\\Api('http://127.0.0.1:${server.apiPort}', ${toPhp(server.key)}, ${toPhp(server.secret)});
    var_export($api->trigger(${args[0]}, ${args[1]}, ${args[2]}${args[3]}));
  `);
}

test('an array sent by PHP Webman\\Push\\Api::trigger arrives as the same value in pusher-js', async () => {
  const c = await client();
  const got = collect((await subscribe(c, 'php-array')).channel, 'order');
  const php = "['id' => 42, 'url' => 'https://example.test/a/b', 'name' => 'Grüße 你好', 'items' => [1, 2.5, true, null], 'nested' => ['empty' => [], 'x' => 'y']]";
  const run = await phpTrigger('php-array', 'order', php);
  assert.equal(run.stdout, 'true', run.stderr);
  assert.deepEqual(await got.next(), {
    id: 42,
    url: 'https://example.test/a/b',
    name: 'Grüße 你好',
    items: [1, 2.5, true, null],
    nested: { empty: [], x: 'y' },
  });
});

test('a PHP string \'hi\' sent by Webman\\Push\\Api::trigger arrives as \'hi\'', async () => {
  const c = await client();
  const got = collect((await subscribe(c, 'php-string')).channel, 'greet');
  const run = await phpTrigger('php-string', 'greet', "'hi'");
  assert.equal(run.stdout, 'true', run.stderr);
  assert.equal(await got.next(), 'hi');
});

test('Webman\\Push\\Api::trigger to a list of channels reaches each of them', async () => {
  const c = await client();
  const a = collect((await subscribe(c, 'php-a')).channel, 'e');
  const b = collect((await subscribe(c, 'php-b')).channel, 'e');
  const run = await phpTrigger(['php-a', 'php-b'], 'e', "['k' => 'v']");
  assert.equal(run.stdout, 'true', run.stderr);
  assert.deepEqual(await a.next(), { k: 'v' });
  assert.deepEqual(await b.next(), { k: 'v' });
});

test('Webman\\Push\\Api::trigger with a socket_id skips that pusher-js client', async () => {
  const sender = await client();
  const receiver = await client();
  const toSender = collect((await subscribe(sender, 'php-room')).channel, 'e');
  const toReceiver = collect((await subscribe(receiver, 'php-room')).channel, 'e');
  const run = await phpTrigger('php-room', 'e', "['n' => 1]", sender.connection.socket_id);
  assert.equal(run.stdout, 'true', run.stderr);
  assert.deepEqual(await toReceiver.next(), { n: 1 });
  assert.equal((await phpTrigger('php-room', 'e', "['n' => 2]")).stdout, 'true');
  assert.deepEqual(await toSender.next(), { n: 2 });
  assert.deepEqual(toSender.all, [{ n: 2 }]);
});

test('Webman\\Push\\Api::trigger returns false when the API refuses the request', async () => {
  const run = await runPhp(`
    $api = new Webman\\Push\\Api('http://127.0.0.1:${server.apiPort}', ${toPhp(server.key)}, 'wrong-secret');
    var_export($api->trigger('x', 'e', ['a' => 1]));
  `);
  assert.equal(run.stdout, 'false', run.stderr);
});

test('pusher-js with an unknown app key gets error 4001 and is left disconnected', async () => {
  const c = new PusherJs('no-such-key', {
    wsHost: '127.0.0.1',
    wsPort: server.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'x',
  });
  try {
    const errors = [];
    c.connection.bind('error', (e) => errors.push(e));
    const states = [];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`states: ${states}`)), 5000);
      c.connection.bind('state_change', ({ current }) => {
        states.push(current);
        if (current === 'disconnected') { clearTimeout(timer); resolve(); }
      });
    });
    // 4001 is in the "refused" range: pusher-js gives up instead of retrying.
    assert.ok(!states.includes('connected'), `states: ${states}`);
    assert.ok(errors.some((e) => e?.error?.data?.code === 4001), `errors: ${JSON.stringify(errors)}`);
  } finally {
    c.disconnect();
  }
});

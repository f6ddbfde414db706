// The PyPI `pusher` server SDK (pinned in tests/python/requirements.txt) against the real server:
// trigger and trigger_batch reach pusher-js subscribers, channels_info / channel_info / users_info
// read the server's state, and the auth payloads of authenticate() and authenticate_user() are
// what pusher-js hands to the server for private, presence and user sign-in. Each SDK call is one
// run of tests/python/pusher_sdk_check.py from tests/python/.venv, which this file creates (python3
// -m venv + pip install -r requirements.txt) when it is missing or its requirements changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { connectPusherJs, subscribe, collect, disconnect } from './lib/clients.mjs';
import { keepSocket, releaseSockets, recordMessages, collectFrom } from './lib/official.mjs';
import { PY_DIR, VENV_PYTHON, run, ensureVenv } from './lib/python.mjs';

const SCRIPT = join(PY_DIR, 'pusher_sdk_check.py');

let server;
const clients = [];

/** One SDK call; resolves to the script's JSON line ({result} or {error, message}) and exit code. */
async function py(command, ...args) {
  const { key = server.key, secret = server.secret } = typeof args.at(-1) === 'object' ? args.pop() : {};
  const out = await run(VENV_PYTHON, [SCRIPT, '127.0.0.1', String(server.apiPort), key, secret, '--app-id', server.appId, command, ...args], {
    timeoutMs: 30000,
    env: { NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
  });
  const line = out.stdout.trim().split('\n').at(-1);
  let json;
  try { json = JSON.parse(line); } catch { json = undefined; }
  assert.ok(json, `pusher_sdk_check.py ${command} printed no JSON (exit ${out.code}):\n${out.stdout}${out.stderr}`);
  return { code: out.code, ...json };
}

/** One SDK call that must succeed; resolves to what the SDK returned. */
async function pyResult(command, ...args) {
  const out = await py(command, ...args);
  assert.equal(out.code, 0, `${command} failed: ${JSON.stringify(out)}`);
  return out.result;
}

/** A pusher-js client whose channel authorisation is the Python SDK's authenticate(). */
async function pusherJsAuthorisedByPython({ presence } = {}) {
  const c = keepSocket(await connectPusherJs(server, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        const extra = channelName.startsWith('presence-') ? [JSON.stringify(presence)] : [];
        pyResult('authenticate', channelName, socketId, ...extra).then((auth) => callback(null, auth), (err) => callback(err, null));
      },
    },
  }));
  clients.push(c);
  return c;
}

async function pusherJs(options) {
  const c = keepSocket(await connectPusherJs(server, options));
  clients.push(c);
  return c;
}

before(async () => {
  await ensureVenv();
  server = await startServer({ key: 'python-key', secret: 'python-secret' });
}, { timeout: 900000 });

after(async () => {
  await Promise.all(clients.map(disconnect));
  releaseSockets();
  await server?.stop();
});

test('the venv has the pinned PyPI pusher SDK', async () => {
  const out = await run(VENV_PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("pusher"))'], { timeoutMs: 30000 });
  assert.equal(out.stdout.trim(), '3.3.4');
});

test('trigger from the Python SDK reaches a pusher-js subscriber as the same value', async () => {
  const c = await pusherJs();
  const got = collect((await subscribe(c, 'py-news')).channel, 'headline');
  const data = { title: 'From Python', tags: ['a', 'b'], n: 3, text: 'Grüße' };
  assert.deepEqual(await pyResult('trigger', 'py-news', 'headline', JSON.stringify(data)), {});
  assert.deepEqual(await got.next(), data);
});

test('trigger to several channels with a socket_id reaches every channel but skips that connection', async () => {
  const excluded = await pusherJs();
  const other = await pusherJs();
  const atExcluded = collect((await subscribe(excluded, 'py-a')).channel, 'tick');
  const atOtherA = collect((await subscribe(other, 'py-a')).channel, 'tick');
  const atOtherB = collect((await subscribe(other, 'py-b')).channel, 'tick');
  await pyResult('trigger', 'py-a,py-b', 'tick', JSON.stringify({ i: 1 }), excluded.connection.socket_id);
  await pyResult('trigger', 'py-a', 'tick', JSON.stringify({ i: 2 }));
  assert.deepEqual(await atOtherA.next(), { i: 1 });
  assert.deepEqual(await atOtherB.next(), { i: 1 });
  assert.deepEqual(await atOtherA.next(), { i: 2 });
  assert.deepEqual(await atExcluded.next(), { i: 2 }, 'the excluded connection gets only the second event');
});

test('trigger_batch delivers every event of the batch to its channel', async () => {
  const c = await pusherJs();
  const created = collect((await subscribe(c, 'py-batch-1')).channel, 'created');
  const deleted = collect((await subscribe(c, 'py-batch-2')).channel, 'deleted');
  const batch = [
    { channel: 'py-batch-1', name: 'created', data: { id: 1 } },
    { channel: 'py-batch-2', name: 'deleted', data: { id: 2 } },
    { channel: 'py-batch-1', name: 'created', data: { id: 3 } },
  ];
  assert.deepEqual(await pyResult('trigger_batch', JSON.stringify(batch)), {});
  assert.deepEqual(await created.next(), { id: 1 });
  assert.deepEqual(await created.next(), { id: 3 });
  assert.deepEqual(await deleted.next(), { id: 2 });
});

test('authenticate() output subscribes pusher-js to a private channel', async () => {
  const c = await pusherJsAuthorisedByPython();
  const got = collect((await subscribe(c, 'private-py-orders')).channel, 'paid');
  await pyResult('trigger', 'private-py-orders', 'paid', JSON.stringify({ order: 5 }));
  assert.deepEqual(await got.next(), { order: 5 });
});

test('authenticate() with custom_data joins pusher-js to a presence channel with that user', async () => {
  const ann = await pusherJsAuthorisedByPython({ presence: { user_id: 'py-ann', user_info: { name: 'Ann' } } });
  const { channel, data: members } = await subscribe(ann, 'presence-py-room');
  assert.equal(members.count, 1);
  assert.deepEqual(members.me, { id: 'py-ann', info: { name: 'Ann' } });
  const added = collect(channel, 'pusher:member_added');
  const ben = await pusherJsAuthorisedByPython({ presence: { user_id: 'py-ben', user_info: { name: 'Ben' } } });
  await subscribe(ben, 'presence-py-room');
  assert.deepEqual(await added.next(), { id: 'py-ben', info: { name: 'Ben' } });
});

test('channels_info lists occupied channels, and presence- ones with user_count', async () => {
  const one = await pusherJs({ presence: { user_id: 'info-1' } });
  const two = await pusherJs({ presence: { user_id: 'info-2' } });
  await subscribe(one, 'presence-py-info');
  await subscribe(two, 'presence-py-info');
  await subscribe(one, 'py-info-public');

  const all = await pyResult('channels_info');
  assert.deepEqual(all.channels['presence-py-info'], {});
  assert.deepEqual(all.channels['py-info-public'], {});

  const presence = await pyResult('channels_info', 'presence-', 'user_count');
  assert.deepEqual(presence.channels['presence-py-info'], { user_count: 2 });
  assert.ok(Object.keys(presence.channels).every((name) => name.startsWith('presence-')), JSON.stringify(presence));
});

test('channels_info with user_count but no presence- prefix raises PusherBadRequest (400)', async () => {
  const out = await py('channels_info', '', 'user_count');
  assert.equal(out.code, 1);
  assert.equal(out.error, 'PusherBadRequest', JSON.stringify(out));
});

test('channel_info gives occupied, user_count and subscription_count', async () => {
  const a = await pusherJs({ presence: { user_id: 'ci-1' } });
  const b = await pusherJs({ presence: { user_id: 'ci-1' } });
  await subscribe(a, 'presence-py-ci');
  await subscribe(b, 'presence-py-ci');
  assert.deepEqual(await pyResult('channel_info', 'presence-py-ci', 'user_count,subscription_count'),
    { occupied: true, user_count: 1, subscription_count: 2 });
  assert.deepEqual(await pyResult('channel_info', 'py-ci-empty'), { occupied: false });
});

test('users_info lists each presence user once', async () => {
  const a = await pusherJs({ presence: { user_id: 'ui-1' } });
  const b = await pusherJs({ presence: { user_id: 'ui-2' } });
  const b2 = await pusherJs({ presence: { user_id: 'ui-2' } });
  for (const c of [a, b, b2]) await subscribe(c, 'presence-py-users');
  const { users } = await pyResult('users_info', 'presence-py-users');
  assert.deepEqual(users.map((u) => u.id).sort(), ['ui-1', 'ui-2']);
});

test('authenticate_user() output signs pusher-js in, and send_to_user reaches it', async () => {
  const userData = { id: 'py-user', user_info: { name: 'Py' } };
  const c = await pusherJs({
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        pyResult('authenticate_user', socketId, JSON.stringify(userData)).then((auth) => callback(null, auth), (err) => callback(err, null));
      },
    },
  });
  const log = recordMessages(c);
  const notices = collectFrom(c.user, 'notice', 'notice');
  c.signin();
  await log.waitFor((m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === '#server-to-user-py-user',
    'the #server-to-user-py-user subscription', { ms: 15000 });
  assert.deepEqual(c.user.user_data, userData);
  assert.deepEqual(await pyResult('send_to_user', 'py-user', 'notice', JSON.stringify({ text: 'hi' })), {});
  assert.deepEqual(await notices.next(), { text: 'hi' });
});

test('a Python SDK configured with the wrong secret raises PusherBadAuth (401) and publishes nothing', async () => {
  const c = await pusherJs();
  const got = collect((await subscribe(c, 'py-guarded')).channel, 'e');
  const out = await py('trigger', 'py-guarded', 'e', JSON.stringify({ v: 'forged' }), { secret: 'wrong-secret' });
  assert.equal(out.code, 1);
  assert.equal(out.error, 'PusherBadAuth', JSON.stringify(out));
  await pyResult('trigger', 'py-guarded', 'e', JSON.stringify({ v: 'real' }));
  assert.deepEqual(await got.next(), { v: 'real' }, 'the forged event never arrived');
});

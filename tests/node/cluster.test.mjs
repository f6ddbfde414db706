// Scale-out over Redis (issue 9), with real processes: a redis-server of this file's own on a free
// loopback port, three nodes of the real server sharing it, pusher-js clients spread over the nodes
// and the Node `pusher` SDK talking to any node's HTTP API. The cluster is eventually consistent,
// so every cross-node expectation is waited for with bounded polling.
//
// Covered: cross-node delivery (order, socket_id exclusion), presence across nodes (a user on two
// nodes counts once), the HTTP API's cluster-wide view, each webhook once (leader only), sendToUser,
// terminateUserConnections and watchlists across nodes, a node killed without a goodbye, the leader
// killed, and Redis restarted under running nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectApp } from './lib/ws-client.mjs';
import { connectPusherJs, subscribe, collect, disconnect, serverSdk } from './lib/clients.mjs';
import { asApp, sdkFor, connectAsUser, signIn, collectFrom, waitState, keepSocket, releaseSockets } from './lib/official.mjs';
import { startRedis, startNode, killNode, eventually, logged, webhookReceiver } from './lib/cluster.mjs';

const PREFIX = `webman-push-test-cluster-${process.pid}`;
const LEADER_KEY = `${PREFIX}:leader`;
const NODE_TIMEOUT = 2; // cluster_node_timeout, seconds
const LEASE_S = 3; // the leader lease's TTL
const MAIN = { key: 'cluster-key', secret: 'cluster-secret' };
// A second app with webhooks, so the webhook tests see only what they caused.
const HOOK_APP = { id: '2', key: 'hook-key', secret: 'hook-secret' };
const HOOK_DELAY = 0.5;

let redis;
let hooks;
let nodes = []; // the three nodes in service: nodes[0] is "node 1"
let leaderId; // node 1's id in the cluster: the value of the lease it took before the others started
const started = []; // every node process started, for the cleanup
const clients = []; // {client, node}
let serial = 0;

function nodeOptions() {
  return {
    ...MAIN,
    cluster_node_timeout: NODE_TIMEOUT,
    apps: [{
      ...HOOK_APP,
      channel_hook: hooks.url('/channel'),
      user_hook: hooks.url('/user'),
      webhook_delay: HOOK_DELAY,
    }],
  };
}

async function addNode() {
  const node = await startNode(redis, PREFIX, nodeOptions());
  started.push(node);
  return node;
}

before(async () => {
  redis = await startRedis();
  hooks = await webhookReceiver(HOOK_APP);
  // Node 1 alone first, so the lease it takes names it: the leader of every test below until it dies.
  const first = await addNode();
  leaderId = await eventually(() => redis.cli('GET', LEADER_KEY), 'node 1 takes the leader lease');
  nodes = [first, ...(await Promise.all([addNode(), addNode()]))];
  await clusterFormed(nodes);
});

after(async () => {
  await Promise.all(clients.map(({ client }) => disconnect(client)));
  releaseSockets();
  await Promise.all(started.map((node) => node.stop()));
  await redis?.stop();
  await hooks?.close();
});

// ---------------------------------------------------------------- helpers

/** A pusher-js client on `node` (main app unless `app`), disconnected after the file. */
async function pusherOn(node, options = {}, app = null) {
  const client = keepSocket(await connectPusherJs(app ? asApp(node, app) : node, options));
  clients.push({ client, node });
  return client;
}

/** A pusher-js client on `node` set up to sign in as `userData` (main app). */
async function userOn(node, userData, options = {}) {
  const user = await connectAsUser(node, serverSdk(node), userData, options);
  keepSocket(user.client);
  clients.push({ client: user.client, node });
  return user;
}

/** Disconnects the clients of a node that is gone, so pusher-js stops trying to reconnect. */
async function dropClientsOf(node) {
  await Promise.all(clients.filter((c) => c.node === node).map(({ client }) => disconnect(client)));
}

async function getJson(node, path, params, app = null) {
  const sdk = app ? sdkFor(asApp(node, app)) : serverSdk(node);
  return (await sdk.get({ path, params })).json();
}

const channelInfo = (node, channel, info) => getJson(node, `/channels/${channel}`, info ? { info } : undefined);
const userIds = async (node, channel) => (await getJson(node, `/channels/${channel}/users`)).users.map((u) => u.id).sort();

/** Waits until `query(node)` deep-equals `expected` on every node (each node's API, same answer). */
function everyNodeSays(list, query, expected, what, ms = 8000) {
  return eventually(async () => {
    for (const [i, node] of list.entries()) {
      const got = await query(node);
      assert.deepEqual(got, expected, `node ${i + 1}: ${what}`);
    }
    return true;
  }, what, { ms });
}

/** One subscriber of a fresh channel on each node; waits until every node's API counts them all. */
async function clusterFormed(list) {
  const channel = `warmup-${++serial}`;
  const subs = await Promise.all(list.map(async (node) => {
    const c = await connectApp(node);
    await c.subscribe(channel);
    return c;
  }));
  await everyNodeSays(list, async (node) => (await channelInfo(node, channel, 'subscription_count')).subscription_count,
    list.length, `${list.length} subscribers of ${channel}`, 10000);
  await Promise.all(subs.map((c) => c.close()));
}

/** Starts a fresh node in place of nodes[i] (killed) and waits until the cluster knows it. */
async function replaceNode(i) {
  const fresh = await addNode();
  nodes = nodes.map((n, j) => (j === i ? fresh : n));
  await clusterFormed(nodes);
}

/** Webhook events (across all requests so far) matching `predicate`. */
const hookEvents = (predicate) => hooks.events(predicate);

/**
 * A marker that orders the webhooks: a fresh channel of the hook app occupied on every node, and
 * its channel_added received. Whatever any node sent before it has arrived by then.
 */
async function hookMarker(list = nodes) {
  const channel = `marker-${++serial}`;
  const marks = [];
  for (const node of list) {
    const c = await pusherOn(node, {}, HOOK_APP);
    await subscribe(c, channel);
    marks.push(c);
  }
  await eventually(() => hookEvents((e) => e.name === 'channel_added' && e.channel === channel).length > 0,
    `webhook channel_added for ${channel}`);
  await Promise.all(marks.map(disconnect));
}

/**
 * A marker for delayed webhooks: a fresh channel of the hook app occupied and vacated on `node`,
 * and its channel_removed received. A vacated/removed scheduled before it (same webhook_delay) has
 * arrived by then.
 */
async function hookRemovalMarker(node) {
  const channel = `gone-marker-${++serial}`;
  const c = await pusherOn(node, {}, HOOK_APP);
  await subscribe(c, channel);
  await eventually(() => hookEvents((e) => e.name === 'channel_added' && e.channel === channel).length > 0,
    `webhook channel_added for ${channel}`);
  await disconnect(c);
  await eventually(() => hookEvents((e) => e.name === 'channel_removed' && e.channel === channel).length > 0,
    `webhook channel_removed for ${channel}`);
}

/** Waits for a webhook event matching `predicate`, then (after a marker) checks it came exactly once. */
async function expectHookOnce(predicate, what, { ms = 8000, list = nodes } = {}) {
  await eventually(() => hookEvents(predicate).length > 0, `webhook ${what}`, { ms });
  await hookMarker(list);
  const seen = hookEvents(predicate);
  assert.equal(seen.length, 1, `webhook ${what} exactly once: ${JSON.stringify(seen)}`);
  return seen[0];
}

/** Every webhook request so far was signed with the hook app's key and secret. */
function assertHooksSigned() {
  const unsigned = hooks.requests.filter((r) => !r.signed);
  assert.deepEqual(unsigned, [], 'every webhook carries X-Pusher-Key and a valid X-Pusher-Signature');
}

// ---------------------------------------------------------------- cross-node delivery

test('events triggered through node 2\'s API reach subscribers on all three nodes, each once and in order', async () => {
  const subs = [];
  for (const node of nodes) {
    const { channel } = await subscribe(await pusherOn(node), 'fanout');
    subs.push({ news: collect(channel, 'news'), done: collect(channel, 'done') });
  }
  const sdk = serverSdk(nodes[1]);
  for (let n = 0; n < 5; n++) assert.equal((await sdk.trigger('fanout', 'news', { n })).status, 200);
  await sdk.trigger('fanout', 'done', {});
  for (const s of subs) await s.done.next();
  const expected = [0, 1, 2, 3, 4].map((n) => ({ n }));
  subs.forEach((s, i) => assert.deepEqual(s.news.all, expected, `subscriber on node ${i + 1}`));
});

test('a trigger through node 2 with the socket_id of a client on node 3 skips that client only', async () => {
  const subs = [];
  const pjs = [];
  for (const node of nodes) {
    const client = await pusherOn(node);
    const { channel } = await subscribe(client, 'excluding');
    pjs.push(client);
    subs.push({ news: collect(channel, 'news'), done: collect(channel, 'done') });
  }
  const sdk = serverSdk(nodes[1]);
  const res = await sdk.trigger('excluding', 'news', { skip: 'node 3' }, { socket_id: pjs[2].connection.socket_id });
  assert.equal(res.status, 200);
  await sdk.trigger('excluding', 'done', {});
  for (const s of subs) await s.done.next();
  assert.deepEqual(subs[0].news.all, [{ skip: 'node 3' }], 'node 1');
  assert.deepEqual(subs[1].news.all, [{ skip: 'node 3' }], 'node 2');
  assert.deepEqual(subs[2].news.all, [], 'the excluded client on node 3 got nothing');
});

// ---------------------------------------------------------------- presence across nodes

test('presence members on different nodes see each other in subscription_succeeded, member_added and member_removed', async () => {
  const ch = 'presence-room';
  const alice = await subscribe(await pusherOn(nodes[0], { presence: { user_id: 'alice', user_info: { name: 'Alice' } } }), ch);
  const aliceAdded = collect(alice.channel, 'pusher:member_added');
  const aliceRemoved = collect(alice.channel, 'pusher:member_removed');
  await everyNodeSays(nodes, (node) => userIds(node, ch), ['alice'], `users of ${ch}`);

  const bob = await subscribe(await pusherOn(nodes[1], { presence: { user_id: 'bob', user_info: { name: 'Bob' } } }), ch);
  assert.equal(bob.channel.members.count, 2, 'bob on node 2 sees alice from node 1');
  assert.deepEqual(bob.channel.members.get('alice'), { id: 'alice', info: { name: 'Alice' } });
  assert.deepEqual(await aliceAdded.next(), { id: 'bob', info: { name: 'Bob' } });
  const bobAdded = collect(bob.channel, 'pusher:member_added');
  const bobRemoved = collect(bob.channel, 'pusher:member_removed');
  await everyNodeSays(nodes, (node) => userIds(node, ch), ['alice', 'bob'], `users of ${ch}`);

  const carolClient = await pusherOn(nodes[2], { presence: { user_id: 'carol', user_info: { name: 'Carol' } } });
  const carol = await subscribe(carolClient, ch);
  assert.equal(carol.channel.members.count, 3, 'carol on node 3 sees alice and bob');
  assert.deepEqual(await aliceAdded.next(), { id: 'carol', info: { name: 'Carol' } });
  assert.deepEqual(await bobAdded.next(), { id: 'carol', info: { name: 'Carol' } });

  await disconnect(carolClient);
  assert.equal((await aliceRemoved.next()).id, 'carol');
  assert.equal((await bobRemoved.next()).id, 'carol');
  assert.equal(alice.channel.members.count, 2);
  assert.equal(bob.channel.members.count, 2);
  assert.deepEqual(aliceAdded.all.map((m) => m.id), ['bob', 'carol'], 'each arrival announced once');
});

test('the same user on nodes 1 and 2 counts once, and leaves only when the last of its sockets does', async () => {
  const ch = 'presence-twice';
  const erin = await subscribe(await pusherOn(nodes[2], { presence: { user_id: 'erin' } }), ch);
  const added = collect(erin.channel, 'pusher:member_added');
  const removed = collect(erin.channel, 'pusher:member_removed');

  const dave1 = await pusherOn(nodes[0], { presence: { user_id: 'dave', user_info: { n: 1 } } });
  await subscribe(dave1, ch);
  assert.equal((await added.next()).id, 'dave');
  await everyNodeSays(nodes, (node) => userIds(node, ch), ['dave', 'erin'], `users of ${ch}`);

  const dave2 = await pusherOn(nodes[1], { presence: { user_id: 'dave', user_info: { n: 1 } } });
  const second = await subscribe(dave2, ch);
  assert.equal(second.channel.members.count, 2, 'dave\'s second socket sees dave and erin: 2 members');
  assert.deepEqual(second.channel.members.me, { id: 'dave', info: { n: 1 } });

  // Three subscriptions of two users, whichever node is asked.
  await everyNodeSays(nodes, (node) => channelInfo(node, ch, 'user_count,subscription_count'),
    { occupied: true, user_count: 2, subscription_count: 3 }, `counts of ${ch}`);
  for (const node of nodes) assert.deepEqual(await userIds(node, ch), ['dave', 'erin']);
  assert.equal(erin.channel.members.count, 2);

  // frank joins and leaves on node 1 after dave's first socket left there: a marker for what erin hears.
  const frank = await pusherOn(nodes[0], { presence: { user_id: 'frank' } });
  await subscribe(frank, ch);
  assert.equal((await added.next()).id, 'frank');
  await disconnect(dave1);
  await disconnect(frank);
  assert.equal((await removed.next()).id, 'frank');
  assert.deepEqual(removed.all.map((m) => m.id), ['frank'], 'no member_removed for dave while his socket on node 2 remains');
  assert.deepEqual(added.all.map((m) => m.id), ['dave', 'frank'], 'dave\'s second socket was no new member');
  assert.ok(erin.channel.members.get('dave'), 'dave is still a member for erin');

  await disconnect(dave2);
  assert.equal((await removed.next()).id, 'dave');
  assert.equal(erin.channel.members.count, 1);
  await everyNodeSays(nodes, (node) => channelInfo(node, ch, 'user_count,subscription_count'),
    { occupied: true, user_count: 1, subscription_count: 1 }, `counts of ${ch} after dave left`);
});

// ---------------------------------------------------------------- HTTP API

test('GET /channels and channel info agree on every node: occupied channels and subscription counts of the cluster', async () => {
  await subscribe(await pusherOn(nodes[0]), 'api-a');
  await subscribe(await pusherOn(nodes[2]), 'api-a');
  await subscribe(await pusherOn(nodes[2]), 'api-a');
  const onlyB = await pusherOn(nodes[1]);
  await subscribe(onlyB, 'api-b');

  await everyNodeSays(nodes, (node) => getJson(node, '/channels', { filter_by_prefix: 'api-', info: 'subscription_count' }),
    { channels: { 'api-a': { subscription_count: 3 }, 'api-b': { subscription_count: 1 } } }, 'GET /channels?info=subscription_count');
  for (const node of nodes) {
    assert.deepEqual(await getJson(node, '/channels', { filter_by_prefix: 'api-' }), { channels: { 'api-a': {}, 'api-b': {} } });
    assert.deepEqual(await channelInfo(node, 'api-b', 'subscription_count'), { occupied: true, subscription_count: 1 });
    assert.deepEqual(await channelInfo(node, 'api-a', 'subscription_count'), { occupied: true, subscription_count: 3 });
  }

  await disconnect(onlyB);
  await everyNodeSays(nodes, (node) => getJson(node, '/channels', { filter_by_prefix: 'api-', info: 'subscription_count' }),
    { channels: { 'api-a': { subscription_count: 3 } } }, 'GET /channels after api-b\'s only subscriber left');
  for (const node of nodes) assert.equal((await channelInfo(node, 'api-b')).occupied, false);
});

// ---------------------------------------------------------------- webhooks

test('a channel occupied on all three nodes gives one channel_added, and one channel_removed once all left', async () => {
  const subs = [];
  for (const node of nodes) {
    const c = await pusherOn(node, {}, HOOK_APP);
    await subscribe(c, 'hooked');
    subs.push(c);
  }
  const added = await expectHookOnce((e) => e.name === 'channel_added' && e.channel === 'hooked', 'channel_added hooked');
  assert.equal(added.path, '/channel');
  await Promise.all(subs.slice(0, 2).map(disconnect));
  await hookRemovalMarker(nodes[1]);
  assert.deepEqual(hookEvents((e) => e.channel === 'hooked' && e.name === 'channel_removed'), [],
    'no channel_removed while node 3 still has a subscriber');
  await disconnect(subs[2]);
  await expectHookOnce((e) => e.name === 'channel_removed' && e.channel === 'hooked', 'channel_removed hooked');
  assertHooksSigned();
});

test('presence webhooks go to user_hook once per user of the cluster: user_added at the first socket, user_removed after the last', async () => {
  const ch = 'presence-hooked';
  const join = async (node, user_id) => {
    const c = await pusherOn(node, { presence: { user_id } }, HOOK_APP);
    await subscribe(c, ch);
    return c;
  };
  const u1a = await join(nodes[0], 'u1');
  const u1b = await join(nodes[1], 'u1');
  const u2 = await join(nodes[2], 'u2');
  for (const user of ['u1', 'u2']) {
    const e = await expectHookOnce((x) => x.name === 'user_added' && x.channel === ch && x.user_id === user, `user_added ${user}`);
    assert.equal(e.path, '/user');
  }
  await expectHookOnce((e) => e.name === 'channel_added' && e.channel === ch, `channel_added ${ch}`);

  // u1 leaves node 1 but stays on node 2; then u3 joins and leaves on node 1: its user_removed
  // (after the same delay) shows any user_removed for u1 would have come by now.
  await disconnect(u1a);
  const u3 = await join(nodes[0], 'u3');
  await eventually(() => hookEvents((e) => e.name === 'user_added' && e.user_id === 'u3').length > 0, 'user_added u3');
  await disconnect(u3);
  await eventually(() => hookEvents((e) => e.name === 'user_removed' && e.user_id === 'u3').length > 0, 'user_removed u3');
  assert.deepEqual(hookEvents((e) => e.name === 'user_removed' && e.user_id === 'u1'), [],
    'no user_removed for u1 while its socket on node 2 remains');

  await disconnect(u1b);
  await expectHookOnce((e) => e.name === 'user_removed' && e.channel === ch && e.user_id === 'u1', 'user_removed u1');
  await disconnect(u2);
  await expectHookOnce((e) => e.name === 'user_removed' && e.channel === ch && e.user_id === 'u2', 'user_removed u2');
  await expectHookOnce((e) => e.name === 'channel_removed' && e.channel === ch, `channel_removed ${ch}`);
  assertHooksSigned();
});

// ---------------------------------------------------------------- users across nodes

test('sendToUser through node 1\'s API reaches a pusher-js client signed in on node 3', async () => {
  const far = await userOn(nodes[2], { id: 'far-user' });
  await signIn(far);
  const got = collectFrom(far.client.user, 'hello', 'hello on far-user');
  const res = await serverSdk(nodes[0]).sendToUser('far-user', 'hello', { from: 'node 1' });
  assert.equal(res.status, 200);
  assert.deepEqual(await got.next(), { from: 'node 1' });
});

test('terminateUserConnections through node 2 closes the user\'s connections on nodes 3 and 1 with 4009, and only theirs', async () => {
  const onThree = await userOn(nodes[2], { id: 'term-user' });
  const onOne = await userOn(nodes[0], { id: 'term-user' });
  const bystander = await userOn(nodes[2], { id: 'term-bystander' });
  await Promise.all([signIn(onThree), signIn(onOne), signIn(bystander)]);

  const res = await serverSdk(nodes[1]).terminateUserConnections('term-user');
  assert.equal(res.status, 200);
  for (const user of [onThree, onOne]) {
    const frame = await user.log.waitFor((m) => m.event === 'pusher:error', 'pusher:error 4009');
    assert.equal(frame.data.code, 4009);
    await waitState(user.client, 'disconnected');
  }
  const still = collectFrom(bystander.client.user, 'still-here', 'still-here on term-bystander');
  await serverSdk(nodes[1]).sendToUser('term-bystander', 'still-here', { ok: true });
  assert.deepEqual(await still.next(), { ok: true });
  assert.equal(bystander.client.connection.state, 'connected');
});

test('a watchlist on node 1 sees a user sign in on node 2 and go offline when it disconnects', async () => {
  const watcher = await userOn(nodes[0], { id: 'wl-watcher', watchlist: ['wl-target'] });
  const online = collectFrom(watcher.client.user.watchlist, 'online', 'watchlist online');
  const offline = collectFrom(watcher.client.user.watchlist, 'offline', 'watchlist offline');
  await signIn(watcher);
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['wl-target'] });

  const target = await userOn(nodes[1], { id: 'wl-target' });
  await signIn(target);
  assert.deepEqual(await online.next(), { name: 'online', user_ids: ['wl-target'] });
  await disconnect(target.client);
  assert.deepEqual(await offline.next(), { name: 'offline', user_ids: ['wl-target'] });
});

// ---------------------------------------------------------------- failures

test('a node killed without a goodbye: its members leave, its channels are vacated (webhook once), the API stops counting them', async (t) => {
  assert.equal(await redis.cli('GET', LEADER_KEY), leaderId, 'precondition: node 1 is the leader, node 3 is not');
  const [one, two, three] = nodes;
  const ch = 'presence-kill';
  const amy = await subscribe(await pusherOn(one, { presence: { user_id: 'amy' } }), ch);
  const amyAdded = collect(amy.channel, 'pusher:member_added');
  const amyRemoved = collect(amy.channel, 'pusher:member_removed');
  const zoeClient = await pusherOn(three, { presence: { user_id: 'zoe' } });
  await subscribe(zoeClient, ch);
  await subscribe(zoeClient, 'only-on-3');
  assert.equal((await amyAdded.next()).id, 'zoe');

  const hooked3 = await pusherOn(three, {}, HOOK_APP);
  await subscribe(hooked3, 'hook-only-3');
  await subscribe(hooked3, 'hook-shared');
  await subscribe(await pusherOn(one, {}, HOOK_APP), 'hook-shared');
  await eventually(() => hookEvents((e) => e.name === 'channel_added' && e.channel === 'hook-only-3').length > 0, 'channel_added hook-only-3');
  await everyNodeSays([one, two], (node) => userIds(node, ch), ['amy', 'zoe'], `users of ${ch}`);
  await everyNodeSays([one, two], async (node) => (await channelInfo(node, 'only-on-3')).occupied, true, 'only-on-3 occupied');

  await killNode(three);
  // A fresh node takes node 3's place for the tests below, also when this one fails.
  t.after(() => replaceNode(2));
  await dropClientsOf(three);

  const gone = await amyRemoved.next((NODE_TIMEOUT + 4) * 1000);
  assert.equal(gone.id, 'zoe', 'member_removed for the user that was on the killed node');
  assert.equal(amy.channel.members.count, 1);
  await everyNodeSays([one, two], (node) => channelInfo(node, ch, 'user_count,subscription_count'),
    { occupied: true, user_count: 1, subscription_count: 1 }, `counts of ${ch} without node 3`, 3000);
  for (const node of [one, two]) {
    assert.deepEqual(await userIds(node, ch), ['amy']);
    assert.equal((await channelInfo(node, 'only-on-3')).occupied, false);
    assert.equal((await getJson(node, '/channels')).channels['only-on-3'], undefined);
  }
  await logged(one, /webman-push: warn cluster: node \S+ stopped answering/);

  await expectHookOnce((e) => e.name === 'channel_removed' && e.channel === 'hook-only-3', 'channel_removed hook-only-3',
    { list: [one, two] });
  assert.deepEqual(hookEvents((e) => e.name === 'channel_removed' && e.channel === 'hook-shared'), [],
    'a channel node 1 still has is not vacated');
  assert.deepEqual(amyRemoved.all.map((m) => m.id), ['zoe'], 'member_removed once');
  assertHooksSigned();
});

test('the leader killed: another node takes the lease and no channel or member webhook is lost in the handover', async (t) => {
  assert.equal(await redis.cli('GET', LEADER_KEY), leaderId, 'precondition: node 1 holds the lease');
  const [one, two, three] = nodes;
  const onOne = await pusherOn(one, { presence: { user_id: 'lead-user' } }, HOOK_APP);
  await subscribe(onOne, 'hook-only-1');
  await subscribe(onOne, 'presence-leader');
  const watcher = await subscribe(await pusherOn(two, { presence: { user_id: 'lead-watcher' } }, HOOK_APP), 'presence-leader');
  const removed = collect(watcher.channel, 'pusher:member_removed');
  const onTwo = await pusherOn(two, {}, HOOK_APP);
  await subscribe(onTwo, 'hook-gap');
  for (const channel of ['hook-only-1', 'hook-gap']) {
    await eventually(() => hookEvents((e) => e.name === 'channel_added' && e.channel === channel).length > 0, `channel_added ${channel}`);
  }
  await eventually(() => hookEvents((e) => e.name === 'user_added' && e.user_id === 'lead-user').length > 0, 'user_added lead-user');
  await eventually(async () => (await getJson(two, '/channels/presence-leader/users', undefined, HOOK_APP)).users.length === 2,
    'node 2 knows both members');

  await killNode(one);
  t.after(() => replaceNode(0));
  await dropClientsOf(one);
  // Right away, while the dead leader's lease has not expired: a channel vacated on node 2.
  await disconnect(onTwo);

  assert.equal((await removed.next((NODE_TIMEOUT + 4) * 1000)).id, 'lead-user');
  const newLeader = await eventually(async () => {
    const id = await redis.cli('GET', LEADER_KEY);
    return id && id !== leaderId ? id : false;
  }, 'another node takes the lease', { ms: (LEASE_S + 3) * 1000 });
  assert.notEqual(newLeader, leaderId);

  const within = { ms: (NODE_TIMEOUT + LEASE_S + 4) * 1000, list: [two, three] };
  const lost = [];
  const expectations = [
    [(e) => e.name === 'channel_removed' && e.channel === 'hook-only-1', 'channel_removed hook-only-1 (the dead leader\'s channel)'],
    [(e) => e.name === 'user_removed' && e.channel === 'presence-leader' && e.user_id === 'lead-user', 'user_removed lead-user (the dead leader\'s member)'],
    [(e) => e.name === 'channel_removed' && e.channel === 'hook-gap', 'channel_removed hook-gap (vacated on node 2 during the handover)'],
  ];
  // Each checked separately so one report names every webhook lost.
  for (const [predicate, what] of expectations) {
    try {
      await expectHookOnce(predicate, what, within);
    } catch (err) {
      lost.push(err.message);
      within.ms = 1000; // the others had their time already
    }
  }
  assert.deepEqual(lost, [], 'webhooks lost or duplicated in the leader handover');
  assert.deepEqual(hookEvents((e) => e.name === 'channel_removed' && e.channel === 'presence-leader'), [],
    'presence-leader is still occupied on node 2');
  assertHooksSigned();
});

test('Redis restarted: each node keeps serving its own clients, then cross-node delivery and presence come back', async (t) => {
  const subs = [];
  for (const node of nodes) {
    const { channel } = await subscribe(await pusherOn(node), 'outage');
    subs.push({ local: collect(channel, 'local'), probe: collect(channel, 'probe'), after: collect(channel, 'after'), done: collect(channel, 'done') });
  }
  const ch = 'presence-outage';
  const p1 = await subscribe(await pusherOn(nodes[0], { presence: { user_id: 'p1' } }), ch);
  const p2 = await subscribe(await pusherOn(nodes[1], { presence: { user_id: 'p2' } }), ch);
  await eventually(() => p1.channel.members.count === 2 && p2.channel.members.count === 2, 'p1 and p2 see each other');

  const logMark = nodes.map((node) => node.stderr().length);
  await redis.kill();
  t.diagnostic(`redis-server killed (pid ${redis.pid})`);
  await Promise.all(nodes.map((node, i) => eventually(() => /webman-push: warn cluster: /.test(node.stderr().slice(logMark[i])),
    `node ${i + 1} logs that Redis is gone`)));

  // Local clients are still served: an event published through a node reaches that node's subscriber.
  for (const [i, node] of nodes.entries()) {
    assert.equal((await serverSdk(node).trigger('outage', 'local', { node: i + 1 })).status, 200);
    assert.deepEqual(await subs[i].local.next(), { node: i + 1 }, `node ${i + 1} delivers to its own client without Redis`);
  }
  // Long enough for the nodes to take each other for dead: the resync below is a real one.
  await eventually(() => /stopped answering/.test(nodes[0].stderr().slice(logMark[0])),
    'node 1 takes the others for dead', { ms: (NODE_TIMEOUT + 4) * 1000, interval: 100 });

  await redis.restart();
  t.diagnostic(`redis-server restarted on port ${redis.port} (pid ${redis.pid})`);

  // Within ~10 s every node delivers to every other node again.
  let k = 0;
  await eventually(async () => {
    k++;
    for (const [i, node] of nodes.entries()) await serverSdk(node).trigger('outage', 'probe', { from: i + 1, k });
    return subs.every((s, j) => nodes.every((_, i) => i === j || s.probe.all.some((p) => p.from === i + 1)));
  }, 'cross-node delivery after Redis came back', { ms: 12000, interval: 300 });

  // Now exactly once and in order, from node 3 to all.
  const sdk = serverSdk(nodes[2]);
  for (let n = 0; n < 3; n++) await sdk.trigger('outage', 'after', { n });
  await sdk.trigger('outage', 'done', {});
  for (const s of subs) await s.done.next();
  subs.forEach((s, i) => assert.deepEqual(s.after.all, [{ n: 0 }, { n: 1 }, { n: 2 }], `node ${i + 1}`));

  // Presence is consistent again: both members everywhere, counted once.
  await eventually(() => p1.channel.members.count === 2 && p2.channel.members.count === 2,
    'p1 and p2 see each other again', { ms: 5000 });
  await everyNodeSays(nodes, (node) => channelInfo(node, ch, 'user_count,subscription_count'),
    { occupied: true, user_count: 2, subscription_count: 2 }, `counts of ${ch} after the resync`, 5000);
  for (const node of nodes) assert.deepEqual(await userIds(node, ch), ['p1', 'p2']);
  for (const [i, node] of nodes.entries()) {
    assert.match(node.stderr().slice(logMark[i]), /webman-push: warn cluster: connected to Redis again/, `node ${i + 1}`);
  }
});


// php/push.js in headless Chromium against the real push server and a real PHP auth route.
// Run: node --test tests/browser/

import assert from 'node:assert/strict';
import {after, afterEach, before, describe, test} from 'node:test';
import {APP_KEY, freePorts, launchChromium, sleep, startAuthServer, startPushServer} from './harness.mjs';

const TEST_TIMEOUT = 60000;

let browser;
let server;
let web;
let contexts = [];
let pages = [];

before(async () => {
    server = await startPushServer();
    web = await startAuthServer(server);
    browser = await launchChromium();
});

after(async () => {
    await browser?.close();
    await web?.stop();
    await server?.stop();
});

afterEach(async () => {
    const uncaught = pages.flatMap((page) => page.uncaught.map((error) => String(error)));
    for (const context of contexts) {
        await context.close();
    }
    contexts = [];
    pages = [];
    assert.deepEqual(uncaught, [], 'no exception may escape push.js into the page');
});

/** A fresh browser profile (own cookies) with the test page loaded from `site`. */
async function openPage({uid, site = web, path = '/page.html'} = {}) {
    const context = await browser.newContext();
    contexts.push(context);
    if (uid !== undefined) {
        await context.addCookies([{name: 'uid', value: String(uid), url: site.url}]);
    }
    const page = await context.newPage();
    page.uncaught = [];
    page.on('pageerror', (error) => page.uncaught.push(error));
    pages.push(page);
    await page.goto(site.url + path);
    return page;
}

/** new Push(...) in the page, recording state changes and errors into window.log. */
async function startPush(page, {wsUrl = server.wsUrl, appKey = APP_KEY, options = {}} = {}) {
    await page.evaluate(({wsUrl, appKey, options}) => {
        window.push = new Push(Object.assign({url: wsUrl, app_key: appKey, auth: '/plugin/webman/push/auth'}, options));
        push.connection.on('state_change', (change) => record('state', change));
        push.on('error', (error) => record('error', {
            type: error.type, code: error.code, message: error.message, status: error.status, channel: error.channel,
        }));
    }, {wsUrl, appKey, options});
}

/** Waits until window.log has an entry of `kind` whose payload has the `match` fields; returns it. */
async function waitLog(page, kind, match = {}, {after: skip = 0, timeout = 10000} = {}) {
    const handle = await page.waitForFunction(({kind, match, skip}) => window.log.slice(skip).find((entry) =>
        entry.kind === kind && Object.keys(match).every((key) =>
            JSON.stringify(entry.payload && entry.payload[key]) === JSON.stringify(match[key]))),
    {kind, match, skip}, {timeout, polling: 25});
    return handle.jsonValue();
}

function entries(page, kind) {
    return page.evaluate((kind) => window.log.filter((entry) => entry.kind === kind).map((entry) => entry.payload), kind);
}

async function connected(page) {
    await waitLog(page, 'state', {current: 'connected'});
    return page.evaluate(() => push.connection.socket_id);
}

/** Subscribes in the page, records every event of `events` as kind `<channel>:<event>`, waits for success. */
async function subscribe(page, channel, events = []) {
    await page.evaluate(({channel, events}) => {
        const ch = push.subscribe(channel);
        ch.on('pusher:subscription_succeeded', (data) => record(channel + ':subscribed', data));
        ch.on('pusher:subscription_error', (error) => record(channel + ':subscription_error', error));
        for (const event of events) {
            ch.on(event, (data, meta) => record(channel + ':' + event, {data, meta: meta || null}));
        }
    }, {channel, events});
    await waitLog(page, channel + ':subscribed');
}

describe('connection', () => {
    test('push.js from /plugin/webman/push/push.js defines the global Push', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        assert.equal(await page.evaluate(() => typeof Push), 'function');
        assert.equal(await page.evaluate(() => Push.platform), 'browser');
    });

    test('connects to url/app/<app_key> and reports state changes up to connected with a socket_id', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page);
        const socketId = await connected(page);
        assert.match(socketId, /^\d+\.\d+$/);
        const url = await page.evaluate(() => window.lastSocketUrl);
        assert.ok(url.startsWith(`${server.wsUrl}/app/${APP_KEY}`), url);
        assert.deepEqual(await entries(page, 'state'), [{previous: 'connecting', current: 'connected'}],
            'initialized → connecting happens inside new Push(); the page sees connecting → connected');
        assert.equal(await page.evaluate(() => push.connection.state), 'connected');
    });

    test('disconnect() closes for good; connection.connect() reconnects and resubscribes', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page, {options: {reconnectDelay: 20, maxReconnectDelay: 50}});
        const first = await connected(page);
        await subscribe(page, 'after-reconnect', ['news']);
        await page.evaluate(() => push.disconnect());
        await waitLog(page, 'state', {current: 'disconnected'});
        await sleep(500); // many back-off periods: a reconnect would have happened by now
        assert.equal(await page.evaluate(() => push.connection.state), 'disconnected');
        assert.equal(await page.evaluate(() => window.socketsOpened), 1);

        const mark = (await page.evaluate(() => window.log.length));
        await page.evaluate(() => push.connection.connect());
        await waitLog(page, 'state', {current: 'connected'}, {after: mark});
        assert.notEqual(await page.evaluate(() => push.connection.socket_id), first);
        await waitLog(page, 'after-reconnect:subscribed', {}, {after: mark});
        await web.trigger('after-reconnect', 'news', {n: 1});
        assert.deepEqual((await waitLog(page, 'after-reconnect:news')).payload.data, {n: 1});
    });

    test('close code 4001 (unknown app key) emits an error and stops reconnecting', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page, {appKey: 'no-such-key', options: {reconnectDelay: 20, maxReconnectDelay: 50}});
        const error = await waitLog(page, 'error', {code: 4001});
        assert.equal(error.payload.type, 'PusherError');
        await waitLog(page, 'state', {current: 'disconnected'});
        await sleep(500); // many back-off periods: a reconnect would have happened by now
        assert.equal(await page.evaluate(() => window.socketsOpened), 1, 'no second connection attempt');
        assert.equal(await page.evaluate(() => push.connection.state), 'disconnected');
    });
});

describe('public channels', () => {
    test('a public channel receives events published with Api::trigger', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page);
        await connected(page);
        await subscribe(page, 'news', ['update']);
        await web.trigger('news', 'update', {title: 'hello', n: 1});
        const got = await waitLog(page, 'news:update');
        assert.deepEqual(got.payload, {data: {title: 'hello', n: 1}, meta: null});
    });

    test('channel(name) and allChannels() return the subscribed channels', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage({uid: 5});
        await startPush(page);
        const result = await page.evaluate(() => {
            const a = push.subscribe('list-a');
            const b = push.subscribe('private-list-b');
            const found = {
                same: push.channel('list-a') === a && push.channel('private-list-b') === b,
                missing: push.channel('list-c'),
                subscribeAgainIsSame: push.subscribe('list-a') === a,
                all: push.allChannels().map((c) => c.name).sort(),
            };
            push.unsubscribe('list-a');
            found.afterUnsubscribe = push.channel('list-a');
            found.allAfter = push.allChannels().map((c) => c.name);
            return found;
        });
        assert.deepEqual(result, {
            same: true, missing: undefined, subscribeAgainIsSame: true,
            all: ['list-a', 'private-list-b'], afterUnsubscribe: undefined, allAfter: ['private-list-b'],
        });
    });

    test('unsubscribe stops delivery and unsubscribeAll removes every channel', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page);
        await connected(page);
        await subscribe(page, 'keep', ['tick']);
        await subscribe(page, 'drop', ['tick']);
        await page.evaluate(() => push.unsubscribe('drop'));
        // Frames on one socket are handled in order: once 'barrier-1' is subscribed, 'drop' is gone.
        await subscribe(page, 'barrier-1');
        await web.trigger('drop', 'tick', {n: 1});
        await web.trigger('keep', 'tick', {n: 2});
        await waitLog(page, 'keep:tick');
        assert.deepEqual(await entries(page, 'drop:tick'), []);

        await page.evaluate(() => push.unsubscribeAll());
        assert.deepEqual(await page.evaluate(() => push.allChannels().length), 0);
        await subscribe(page, 'barrier-2', ['tick']);
        await web.trigger('keep', 'tick', {n: 3});
        await web.trigger('barrier-2', 'tick', {n: 4});
        await waitLog(page, 'barrier-2:tick');
        assert.deepEqual((await entries(page, 'keep:tick')).map((e) => e.data), [{n: 2}]);
    });

    test('a listener that throws becomes an error event and the other listeners still run', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page);
        await connected(page);
        await page.evaluate(() => {
            const ch = push.subscribe('throwing');
            ch.on('boom', () => {
                throw new Error('listener failed');
            });
            ch.on('boom', (data) => record('second-listener', data));
            ch.on('pusher:subscription_succeeded', () => record('throwing:subscribed'));
        });
        await waitLog(page, 'throwing:subscribed');
        await web.trigger('throwing', 'boom', {n: 1});
        await waitLog(page, 'second-listener');
        const error = await waitLog(page, 'error', {type: 'CallbackError'});
        assert.match(error.payload.message, /listener failed/);
        assert.equal(await page.evaluate(() => push.connection.state), 'connected');
    });

    test('a pusher:error from the server becomes an error event, the connection stays up', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page);
        await connected(page);
        await subscribe(page, 'public-chat');
        await page.evaluate(() => push.channel('public-chat').trigger('client-nope', {x: 1}));
        const error = await waitLog(page, 'error', {type: 'PusherError'});
        assert.match(error.payload.message, /only supported on private and presence channels/);
        assert.equal(await page.evaluate(() => push.connection.state), 'connected');
    });
});

describe('private channels', () => {
    test('a private channel is authorised with the page cookies and receives events', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage({uid: 11});
        await startPush(page);
        const socketId = await connected(page);
        await subscribe(page, 'private-orders', ['created']);
        const request = web.authRequests().find((r) => r.channel_name === 'private-orders');
        assert.deepEqual(request, {
            channel_name: 'private-orders', socket_id: socketId, cookie_uid: '11', user_header: null,
            content_type: 'application/x-www-form-urlencoded',
        });
        await web.trigger('private-orders', 'created', {id: 9});
        assert.deepEqual((await waitLog(page, 'private-orders:created')).payload.data, {id: 9});
    });

    test('auth requests carry the configured extra headers', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage();
        await startPush(page, {options: {auth: {url: '/plugin/webman/push/auth', headers: {'X-User-Id': '42'}}}});
        await connected(page);
        await subscribe(page, 'private-headers');
        const request = web.authRequests().find((r) => r.channel_name === 'private-headers');
        assert.equal(request.user_header, '42');
    });

    test('an auth refusal (403) becomes pusher:subscription_error and an error event, not an exception', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage({uid: 12});
        await startPush(page);
        await connected(page);
        await page.evaluate(() => {
            push.subscribe('private-forbidden-room')
                .on('pusher:subscription_error', (error) => record('subscription_error', error));
        });
        const refused = await waitLog(page, 'subscription_error');
        assert.equal(refused.payload.type, 'AuthError');
        assert.equal(refused.payload.status, 403);
        assert.equal(refused.payload.channel, 'private-forbidden-room');
        const error = await waitLog(page, 'error', {type: 'AuthError'});
        assert.equal(error.payload.status, 403);
        assert.equal(await page.evaluate(() => push.channel('private-forbidden-room').subscribed), false);
        assert.equal(await page.evaluate(() => push.connection.state), 'connected');
    });

    test('client events reach the other page, not the sender, and wait for the subscription', {timeout: TEST_TIMEOUT}, async () => {
        const alice = await openPage({uid: 21});
        const bob = await openPage({uid: 22});
        await startPush(alice);
        await startPush(bob);
        await connected(bob);
        await subscribe(bob, 'private-chat', ['client-hello']);
        await connected(alice);
        // Triggered right after subscribe(), before the auth round trip: it must be queued, not lost.
        const queued = await alice.evaluate(() => {
            const ch = push.subscribe('private-chat');
            ch.on('client-hello', (data) => record('own-hello', data));
            ch.on('client-reply', (data) => record('reply', data));
            ch.trigger('client-hello', {text: 'hi'});
            return {subscribed: ch.subscribed, queued: ch.queue.length};
        });
        assert.deepEqual(queued, {subscribed: false, queued: 1});
        assert.deepEqual((await waitLog(bob, 'private-chat:client-hello')).payload.data, {text: 'hi'});
        await bob.evaluate(() => push.channel('private-chat').trigger('client-reply', {text: 'hello alice'}));
        assert.deepEqual((await waitLog(alice, 'reply')).payload, {text: 'hello alice'});
        assert.deepEqual(await entries(alice, 'own-hello'), [], 'the sender does not receive its own client event');
    });
});

describe('presence channels', () => {
    test('members exposes each, count and me, and reports members added and removed', {timeout: TEST_TIMEOUT}, async () => {
        const alice = await openPage({uid: 1});
        const bob = await openPage({uid: 2});
        await startPush(alice);
        await connected(alice);
        await subscribe(alice, 'presence-room', ['pusher:member_added', 'pusher:member_removed']);
        const members = () => alice.evaluate(() => {
            const m = push.channel('presence-room').members;
            const list = [];
            m.each((member) => list.push(member));
            return {count: m.count, me: m.me, list: list.sort((a, b) => a.id.localeCompare(b.id))};
        });
        assert.deepEqual(await members(), {
            count: 1, me: {id: '1', info: {name: 'user 1'}}, list: [{id: '1', info: {name: 'user 1'}}],
        });
        const succeeded = await waitLog(alice, 'presence-room:subscribed');
        assert.equal(succeeded.payload.count, 1, 'subscription_succeeded passes the members');

        await startPush(bob);
        await connected(bob);
        await subscribe(bob, 'presence-room');
        assert.deepEqual((await waitLog(alice, 'presence-room:pusher:member_added')).payload.data, {id: '2', info: {name: 'user 2'}});
        assert.deepEqual(await members(), {
            count: 2, me: {id: '1', info: {name: 'user 1'}},
            list: [{id: '1', info: {name: 'user 1'}}, {id: '2', info: {name: 'user 2'}}],
        });
        assert.deepEqual(await bob.evaluate(() => {
            const m = push.channel('presence-room').members;
            return {count: m.count, me: m.me, alice: m.get(1)};
        }), {count: 2, me: {id: '2', info: {name: 'user 2'}}, alice: {id: '1', info: {name: 'user 1'}}});

        await bob.evaluate(() => push.unsubscribe('presence-room'));
        assert.deepEqual((await waitLog(alice, 'presence-room:pusher:member_removed')).payload.data, {id: '2', info: {name: 'user 2'}});
        assert.equal((await members()).count, 1);
    });

    test('client events on a presence channel carry the sender user_id', {timeout: TEST_TIMEOUT}, async () => {
        const alice = await openPage({uid: 31});
        const bob = await openPage({uid: 32});
        await startPush(alice);
        await startPush(bob);
        await connected(alice);
        await connected(bob);
        await subscribe(bob, 'presence-typing', ['client-typing']);
        await subscribe(alice, 'presence-typing');
        await alice.evaluate(() => push.channel('presence-typing').trigger('client-typing', {on: true}));
        const got = await waitLog(bob, 'presence-typing:client-typing');
        assert.deepEqual(got.payload, {data: {on: true}, meta: {user_id: '31'}});
    });
});

describe('recovery', () => {
    test('after the server restarts the client reconnects and re-authorises private channels with the new socket_id', {timeout: TEST_TIMEOUT}, async () => {
        const [wsPort, apiPort] = await freePorts(2);
        let own = await startPushServer({wsPort, apiPort});
        const site = await startAuthServer(own);
        try {
            const page = await openPage({uid: 41, site});
            await startPush(page, {wsUrl: own.wsUrl, options: {reconnectDelay: 100, maxReconnectDelay: 300}});
            const before = await connected(page);
            await subscribe(page, 'private-restart', ['ping']);
            const mark = await page.evaluate(() => window.log.length);

            await own.stop();
            await waitLog(page, 'state', {current: 'disconnected'}, {after: mark});
            own = await startPushServer({wsPort, apiPort});

            await waitLog(page, 'state', {current: 'connected'}, {after: mark});
            const after = await page.evaluate(() => push.connection.socket_id);
            assert.notEqual(after, before);
            await waitLog(page, 'private-restart:subscribed', {}, {after: mark});
            const socketIds = site.authRequests().filter((r) => r.channel_name === 'private-restart').map((r) => r.socket_id);
            assert.deepEqual(socketIds, [before, after]);
            await site.trigger('private-restart', 'ping', {n: 2});
            assert.deepEqual((await waitLog(page, 'private-restart:ping')).payload.data, {n: 2});
        } finally {
            await site.stop();
            await own.stop();
        }
    });

    test('when the server stops answering pings the client drops the socket and reconnects', {timeout: TEST_TIMEOUT}, async () => {
        const own = await startPushServer();
        try {
            const page = await openPage();
            await startPush(page, {
                wsUrl: own.wsUrl,
                options: {heartbeat: 300, pingTimeout: 300, connectTimeout: 1000, reconnectDelay: 100, maxReconnectDelay: 300},
            });
            const before = await connected(page);
            await subscribe(page, 'heartbeat-news', ['item']);
            const mark = await page.evaluate(() => window.log.length);
            own.pause(); // SIGSTOP: the socket stays open but nothing answers
            try {
                await waitLog(page, 'state', {current: 'disconnected'}, {after: mark});
            } finally {
                own.resume();
            }
            await waitLog(page, 'state', {current: 'connected'}, {after: mark});
            assert.notEqual(await page.evaluate(() => push.connection.socket_id), before);
            await waitLog(page, 'heartbeat-news:subscribed', {}, {after: mark});
        } finally {
            await own.stop();
        }
    });
});

describe('push-vue.js', () => {
    test('the ES module exports Push (named and default) that works like push.js', {timeout: TEST_TIMEOUT}, async () => {
        const page = await openPage({path: '/vue.html'});
        await page.waitForFunction(() => window.moduleLoaded === true);
        assert.equal(await page.evaluate(() => window.PushVue === window.PushVueDefault), true);
        await page.evaluate(() => {
            window.Push = window.PushVue;
        });
        await startPush(page);
        await connected(page);
        await subscribe(page, 'vue-news', ['update']);
        await web.trigger('vue-news', 'update', {v: 3});
        assert.deepEqual((await waitLog(page, 'vue-news:update')).payload.data, {v: 3});
    });
});

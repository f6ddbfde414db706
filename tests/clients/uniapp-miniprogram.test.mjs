// php/push-uniapp.js and php/push-miniprogram.js under Node, with a stand-in `uni` / `wx` whose
// SocketTask and request() forward to a real WebSocket and real HTTP: the real push server and
// the real PHP auth route (tests/browser/fixtures/router.php).
// Run: node --test tests/clients/

import assert from 'node:assert/strict';
import {after, afterEach, before, describe, test} from 'node:test';
import {APP_KEY, freePort, freePorts, sleep, startAuthServer, startPushServer, until} from '../browser/harness.mjs';
import {createStandIn, loadClient} from './standin.mjs';

const TEST_TIMEOUT = 60000;

let server;
let web;

before(async () => {
    server = await startPushServer();
    web = await startAuthServer(server);
});

after(async () => {
    await web?.stop();
    await server?.stop();
});

/** Records state changes, push errors and connection (socket) errors of one client. */
function record(push) {
    const log = [];
    push.connection.on('state_change', (change) => log.push({kind: 'state', payload: change}));
    push.connection.on('error', (error) => log.push({kind: 'socket-error', payload: error}));
    push.on('error', (error) => log.push({kind: 'error', payload: error}));
    return log;
}

function find(log, kind, match = {}, skip = 0) {
    return log.slice(skip).find((entry) => entry.kind === kind &&
        Object.keys(match).every((key) => JSON.stringify(entry.payload?.[key]) === JSON.stringify(match[key])));
}

function waitLog(log, kind, match = {}, skip = 0) {
    return until(() => find(log, kind, match, skip), `${kind} ${JSON.stringify(match)}`);
}

function subscribe(push, log, channel, events = []) {
    const ch = push.subscribe(channel);
    ch.on('pusher:subscription_succeeded', (data) => log.push({kind: `${channel}:subscribed`, payload: data}));
    ch.on('pusher:subscription_error', (error) => log.push({kind: `${channel}:subscription_error`, payload: error}));
    for (const event of events) {
        ch.on(event, (data, meta) => log.push({kind: `${channel}:${event}`, payload: {data, meta: meta || null}}));
    }
    return ch;
}

for (const [file, globalName] of [['push-uniapp.js', 'uni'], ['push-miniprogram.js', 'wx']]) {
    describe(`${file} with ${globalName}.connectSocket and ${globalName}.request`, () => {
        const ns = globalName; // channel names differ per platform: both suites share one auth log
        let Push;
        let api;
        let clients = [];

        before(async () => {
            api = createStandIn();
            globalThis[globalName] = api;
            Push = await loadClient(file);
        });

        after(() => {
            delete globalThis[globalName];
        });

        afterEach(() => {
            for (const push of clients) {
                push.disconnect();
            }
            clients = [];
        });

        function client(options = {}, wsUrl = server.wsUrl) {
            const push = new Push({url: wsUrl, app_key: APP_KEY, auth: web.authUrl, ...options});
            clients.push(push);
            return {push, log: record(push)};
        }

        function userClient(uid, options = {}, wsUrl = server.wsUrl, authUrl = web.authUrl) {
            return client({auth: {url: authUrl, headers: {'X-User-Id': String(uid)}}, ...options}, wsUrl);
        }

        test('is an ES module whose default export is Push for this platform', {timeout: TEST_TIMEOUT}, () => {
            assert.equal(typeof Push, 'function');
            assert.equal(Push.platform, globalName === 'uni' ? 'uniapp' : 'miniprogram');
            assert.equal(typeof globalThis.XMLHttpRequest, 'undefined', 'Node has no XMLHttpRequest, like App and mini-program builds');
        });

        test('connects with connectSocket to url/app/<app_key> and receives public channel events', {timeout: TEST_TIMEOUT}, async () => {
            const socketsBefore = api.sockets.length;
            const {push, log} = client();
            subscribe(push, log, `${ns}-news`, ['update']);
            await waitLog(log, 'state', {current: 'connected'});
            assert.match(push.connection.socket_id, /^\d+\.\d+$/);
            assert.ok(api.sockets[socketsBefore].startsWith(`${server.wsUrl}/app/${APP_KEY}`), api.sockets[socketsBefore]);
            await waitLog(log, `${ns}-news:subscribed`);
            await web.trigger(`${ns}-news`, 'update', {title: 'hi'});
            assert.deepEqual((await waitLog(log, `${ns}-news:update`)).payload, {data: {title: 'hi'}, meta: null});
        });

        test('private channels are authorised through request() with a form body and the configured headers', {timeout: TEST_TIMEOUT}, async () => {
            const {push, log} = userClient(7);
            subscribe(push, log, `private-${ns}-orders`, ['created']);
            await waitLog(log, `private-${ns}-orders:subscribed`);
            const sent = api.requests.find((r) => r.data.includes(`private-${ns}-orders`));
            assert.equal(sent.method, 'POST');
            assert.equal(sent.header['X-User-Id'], '7');
            assert.equal(sent.data, `channel_name=private-${ns}-orders&socket_id=${encodeURIComponent(push.connection.socket_id)}`);
            const seen = web.authRequests().find((r) => r.channel_name === `private-${ns}-orders`);
            assert.deepEqual([seen.user_header, seen.socket_id, seen.content_type],
                ['7', push.connection.socket_id, 'application/x-www-form-urlencoded']);
            await web.trigger(`private-${ns}-orders`, 'created', {id: 1});
            assert.deepEqual((await waitLog(log, `private-${ns}-orders:created`)).payload.data, {id: 1});
        });

        test('an auth refusal (403) becomes pusher:subscription_error and an error event', {timeout: TEST_TIMEOUT}, async () => {
            const {push, log} = client(); // no X-User-Id: the route refuses
            subscribe(push, log, `private-${ns}-refused`);
            const refused = await waitLog(log, `private-${ns}-refused:subscription_error`);
            assert.deepEqual([refused.payload.type, refused.payload.status], ['AuthError', 403]);
            const error = await waitLog(log, 'error', {type: 'AuthError'});
            assert.equal(error.payload.channel, `private-${ns}-refused`);
            assert.equal(push.connection.state, 'connected');
        });

        test('presence members (each, count, me) and members added and removed', {timeout: TEST_TIMEOUT}, async () => {
            const alice = userClient(101, {auth: {url: web.authUrl, headers: {'X-User-Id': '101', 'X-User-Name': 'Alice'}}});
            const aliceRoom = subscribe(alice.push, alice.log, `presence-${ns}-room`, ['pusher:member_added', 'pusher:member_removed']);
            await waitLog(alice.log, `presence-${ns}-room:subscribed`);
            assert.equal(aliceRoom.members.count, 1);
            assert.deepEqual(aliceRoom.members.me, {id: '101', info: {name: 'Alice'}});

            const bob = userClient(102, {auth: {url: web.authUrl, headers: {'X-User-Id': '102', 'X-User-Name': 'Bob'}}});
            const bobRoom = subscribe(bob.push, bob.log, `presence-${ns}-room`);
            await waitLog(bob.log, `presence-${ns}-room:subscribed`);
            const seenByBob = [];
            bobRoom.members.each((member) => seenByBob.push(member));
            assert.deepEqual(seenByBob.sort((a, b) => a.id.localeCompare(b.id)),
                [{id: '101', info: {name: 'Alice'}}, {id: '102', info: {name: 'Bob'}}]);
            assert.deepEqual([bobRoom.members.count, bobRoom.members.me.id], [2, '102']);

            assert.deepEqual((await waitLog(alice.log, `presence-${ns}-room:pusher:member_added`)).payload.data,
                {id: '102', info: {name: 'Bob'}});
            assert.equal(aliceRoom.members.count, 2);

            bob.push.disconnect();
            assert.deepEqual((await waitLog(alice.log, `presence-${ns}-room:pusher:member_removed`)).payload.data,
                {id: '102', info: {name: 'Bob'}});
            assert.equal(aliceRoom.members.count, 1);
            assert.equal(aliceRoom.members.get('102'), null);
        });

        test('client events reach the other app, not the sender, and wait for the subscription', {timeout: TEST_TIMEOUT}, async () => {
            const bob = userClient(202);
            subscribe(bob.push, bob.log, `private-${ns}-chat`, ['client-hello']);
            await waitLog(bob.log, `private-${ns}-chat:subscribed`);

            const alice = userClient(201);
            const chat = subscribe(alice.push, alice.log, `private-${ns}-chat`, ['client-hello', 'client-reply']);
            chat.trigger('client-hello', {text: 'queued before connecting'});
            assert.deepEqual([chat.subscribed, chat.queue.length], [false, 1]);

            assert.deepEqual((await waitLog(bob.log, `private-${ns}-chat:client-hello`)).payload.data, {text: 'queued before connecting'});
            bob.push.channel(`private-${ns}-chat`).trigger('client-reply', {text: 'got it'});
            assert.deepEqual((await waitLog(alice.log, `private-${ns}-chat:client-reply`)).payload.data, {text: 'got it'});
            assert.equal(find(alice.log, `private-${ns}-chat:client-hello`), undefined, 'the sender does not receive its own event');
        });

        test('close 4001 (unknown app key) emits an error and stops reconnecting', {timeout: TEST_TIMEOUT}, async () => {
            const socketsBefore = api.sockets.length;
            const {push, log} = client({app_key: 'no-such-key', reconnectDelay: 20, maxReconnectDelay: 50});
            const error = await waitLog(log, 'error', {code: 4001});
            assert.equal(error.payload.type, 'PusherError');
            await waitLog(log, 'state', {current: 'disconnected'});
            await sleep(500); // many back-off periods: a reconnect would have happened by now
            assert.equal(api.sockets.length - socketsBefore, 1, 'no second connection attempt');
            assert.equal(push.connection.state, 'disconnected');
        });

        test('answers the server pusher:ping, so an idle connection stays open', {timeout: TEST_TIMEOUT}, async () => {
            // The server pings after 1 s of client silence and closes (4201) 1 s later without a pong.
            const own = await startPushServer({config: {activity_timeout: 1, pong_timeout: 1}});
            try {
                const socketsBefore = api.sockets.length;
                const framesBefore = api.frames.length;
                const {push, log} = client({heartbeat: 600000}, own.wsUrl); // never pings by itself
                await waitLog(log, 'state', {current: 'connected'});
                const socketId = push.connection.socket_id;
                await until(() => api.frames.slice(framesBefore).some((f) => JSON.parse(f).event === 'pusher:ping'),
                    'a pusher:ping from the server');
                await sleep(2500); // longer than pong_timeout: an unanswered ping would have closed the socket
                assert.equal(push.connection.socket_id, socketId);
                assert.equal(push.connection.state, 'connected');
                assert.equal(api.sockets.length - socketsBefore, 1);
            } finally {
                await own.stop();
            }
        });

        test('after the server restarts the client reconnects and re-authorises with the new socket_id', {timeout: TEST_TIMEOUT}, async () => {
            const [wsPort, apiPort] = await freePorts(2);
            let own = await startPushServer({wsPort, apiPort});
            const site = await startAuthServer(own);
            try {
                const {push, log} = userClient(301, {reconnectDelay: 100, maxReconnectDelay: 300}, own.wsUrl, site.authUrl);
                subscribe(push, log, `private-${ns}-restart`, ['ping']);
                await waitLog(log, `private-${ns}-restart:subscribed`);
                const before = push.connection.socket_id;
                const mark = log.length;

                await own.stop();
                await waitLog(log, 'state', {current: 'disconnected'}, mark);
                own = await startPushServer({wsPort, apiPort});

                await waitLog(log, `private-${ns}-restart:subscribed`, {}, mark);
                const socketIds = site.authRequests().filter((r) => r.channel_name === `private-${ns}-restart`).map((r) => r.socket_id);
                assert.deepEqual(socketIds, [before, push.connection.socket_id]);
                assert.notEqual(push.connection.socket_id, before);
                await site.trigger(`private-${ns}-restart`, 'ping', {n: 1});
                assert.deepEqual((await waitLog(log, `private-${ns}-restart:ping`)).payload.data, {n: 1});
            } finally {
                await site.stop();
                await own.stop();
            }
        });

        test('onNetworkStatusChange(isConnected) reconnects at once instead of waiting out the back-off', {timeout: TEST_TIMEOUT}, async () => {
            const wsPort = await freePort();
            let own = await startPushServer({wsPort});
            try {
                const {push, log} = client({reconnectDelay: 60000, maxReconnectDelay: 60000}, own.wsUrl);
                await waitLog(log, 'state', {current: 'connected'});
                const mark = log.length;
                await own.stop();
                // The quick retry after close 4200 fails (nothing listens); then a back-off of 30-60 s starts.
                await waitLog(log, 'socket-error', {}, mark);
                own = await startPushServer({wsPort});
                for (const listener of api.networkListeners) {
                    listener({isConnected: true, networkType: 'wifi'});
                }
                await waitLog(log, 'state', {current: 'connected'}, mark);
                assert.equal(push.connection.state, 'connected');
            } finally {
                await own.stop();
            }
        });
    });
}

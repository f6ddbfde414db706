// php/push.js in headless Chromium over the server's own wss:// (native TLS, a certificate from a test CA
// made here). Chromium is started with --ignore-certificate-errors in this test only: the test CA is not
// in its trust store.

import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {APP_KEY, launchChromium, startAuthServer, startPushServer} from './harness.mjs';
import {makeTestCertificates} from '../node/lib/test-ca.mjs';

const TEST_TIMEOUT = 60000;

let dir;
let browser;
let server;
let web;

before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'push-browser-tls-'));
    const pki = makeTestCertificates(dir);
    // The API stays plain http:// here: the page's PHP route publishes through it.
    server = await startPushServer({config: {ssl: {local_cert: pki.cert, local_pk: pki.key}}});
    web = await startAuthServer(server);
    browser = await launchChromium(['--ignore-certificate-errors']);
});

after(async () => {
    await browser?.close();
    await web?.stop();
    await server?.stop();
    if (dir) {
        rmSync(dir, {recursive: true, force: true});
    }
});

test('push.js over wss:// connects, subscribes and receives events published with Api::trigger', {timeout: TEST_TIMEOUT}, async () => {
    const context = await browser.newContext();
    try {
        const page = await context.newPage();
        await page.goto(`${web.url}/page.html`);
        await page.evaluate(({url, appKey}) => {
            window.push = new Push({url, app_key: appKey, auth: '/plugin/webman/push/auth'});
            push.connection.on('state_change', (change) => record('state', change));
            const channel = push.subscribe('news');
            channel.on('pusher:subscription_succeeded', () => record('subscribed', null));
            channel.on('update', (data) => record('update', data));
        }, {url: `wss://127.0.0.1:${server.wsPort}`, appKey: APP_KEY});
        const logged = (kind) => page.waitForFunction((kind) => window.log.find((e) => e.kind === kind), kind, {timeout: 10000, polling: 25})
            .then((handle) => handle.jsonValue());
        await logged('subscribed');
        assert.equal(await page.evaluate(() => window.lastSocketUrl.startsWith('wss://')), true);
        await web.trigger('news', 'update', {n: 1});
        assert.deepEqual((await logged('update')).payload, {n: 1});
    } finally {
        await context.close();
    }
});

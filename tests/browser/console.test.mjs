// The debug console in headless Chromium: /console on the real server's HTTP API listener asks for
// credentials, logs in with the app's key and secret, and then shows, live, a WebSocket client
// connecting and subscribing (connections count, channel table, event log) and an event published
// through the HTTP API with the official Node SDK (event log). Screenshots of each step go to the
// test's tmp dir; they must be PNGs with content.
// Run: WEBMAN_PUSH_EXT=$so node --test tests/browser/console.test.mjs

import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {APP_KEY, APP_SECRET, launchChromium, requireTestPackage, startPushServer} from './harness.mjs';

const TEST_TIMEOUT = 30000;
const WebSocket = requireTestPackage('ws');
const Pusher = requireTestPackage('pusher');

let browser;
let server;
let shots;
const sockets = [];

before(async () => {
    shots = mkdtempSync(join(tmpdir(), 'console-shots-'));
    server = await startPushServer();
    browser = await launchChromium();
});

after(async () => {
    for (const socket of sockets) socket.terminate();
    await browser?.close();
    await server?.stop();
    if (!process.env.KEEP_SCREENSHOTS) rmSync(shots, {recursive: true, force: true});
});

/** Saves a screenshot and checks it is a PNG with more than a blank page's bytes. */
async function screenshot(page, name) {
    const path = join(shots, `${name}.png`);
    await page.screenshot({path, fullPage: true});
    const png = readFileSync(path);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name} is a PNG`);
    assert.ok(png.length > 5000, `${name}.png has content (${png.length} bytes)`);
    return path;
}

/** A raw WebSocket client of the app, subscribed to `channel`; resolves to its socket id. */
async function subscribedClient(channel) {
    const socket = new WebSocket(`${server.wsUrl}/app/${APP_KEY}?protocol=7`);
    sockets.push(socket);
    const messages = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
    const established = await new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.on('message', () => {
            const hello = messages.find((m) => m.event === 'pusher:connection_established');
            if (hello) resolve(JSON.parse(hello.data));
        });
    });
    socket.send(JSON.stringify({event: 'pusher:subscribe', data: {channel}}));
    return established.socket_id;
}

test('the console logs in and shows a connection and a published event live', {timeout: TEST_TIMEOUT}, async () => {
    const page = await browser.newPage({viewport: {width: 1200, height: 900}});
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // The wrong secret's 401 is expected; anything else (a CSP violation, a missing resource) is not.
    page.on('console', (message) => message.type() === 'error' && !message.text().includes('status of 401') && errors.push(message.text()));
    const response = await page.goto(`${server.apiUrl}/console`);
    assert.equal(response.status(), 200);
    assert.ok(await page.isVisible('#login-form'), 'the page asks for credentials first');
    assert.ok(await page.isHidden('#dashboard'), 'and shows no data before');
    await screenshot(page, '1-login');

    await page.fill('#key', APP_KEY);
    await page.fill('#secret', 'not-the-secret');
    await page.click('#login-button');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('Wrong'), null, {timeout: 5000});

    await page.fill('#secret', APP_SECRET);
    await page.click('#login-button');
    await page.waitForSelector('#dashboard:not(.hidden)', {timeout: 5000});
    await page.waitForFunction(() => document.getElementById('stream-status').textContent === '(live)', null, {timeout: 5000});

    const socketId = await subscribedClient('console-news');
    await page.waitForFunction((id) => [...document.querySelectorAll('#log .type-connection_opened')].some((row) => row.textContent.includes(id)), socketId, {timeout: 5000});
    await page.waitForFunction(() => document.getElementById('connections').textContent === '1', null, {timeout: 5000});
    await page.waitForFunction(() => [...document.querySelectorAll('#channels td')].some((td) => td.textContent === 'console-news'), null, {timeout: 5000});

    const pusher = new Pusher({appId: '1024', key: APP_KEY, secret: APP_SECRET, host: '127.0.0.1', port: String(server.apiPort), useTLS: false});
    await pusher.trigger('console-news', 'headline', {text: '<b>not markup</b>'});
    const row = await page.waitForSelector('#log .type-api_publish', {timeout: 5000});
    const text = await row.textContent();
    assert.match(text, /console-news headline/);
    assert.match(text, /<b>not markup<\/b>/, 'event data is shown as text');
    assert.equal(await page.locator('#log b').count(), 0, 'and never parsed as HTML');

    await page.fill('#filter-event', 'headline');
    assert.ok(await page.isHidden('#log .type-connection_opened'), 'the event-name filter hides other rows');
    assert.ok(await page.isVisible('#log .type-api_publish'));
    await page.fill('#filter-event', '');
    await screenshot(page, '2-live');
    assert.deepEqual(errors, [], 'no script or CSP errors');
    await page.close();
});

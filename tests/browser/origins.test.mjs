// allowed_origins in headless Chromium: a page from the listed origin connects, a page from another
// origin (another loopback port is another origin) is refused before the upgrade, which the browser's
// WebSocket reports as a failed connection (error, close 1006, never open), and the allowed page stays
// connected. The pages are served by plain Node HTTP servers; the browser sends Origin by itself.
// Run: node --test tests/browser/origins.test.mjs

import assert from 'node:assert/strict';
import {createServer} from 'node:http';
import {after, before, test} from 'node:test';
import {APP_KEY, launchChromium, startPushServer} from './harness.mjs';

const TEST_TIMEOUT = 30000;
const PAGE = '<!doctype html><title>origin test</title>';

let browser;
let server;
const sites = [];

/** An HTTP server on a free loopback port that serves an empty page; resolves to {url, close()}. */
async function startSite() {
    const http = createServer((_req, res) => res.writeHead(200, {'Content-Type': 'text/html'}).end(PAGE));
    await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
    const site = {url: `http://127.0.0.1:${http.address().port}`, close: () => new Promise((r) => http.close(r))};
    sites.push(site);
    return site;
}

let allowed;
let other;

before(async () => {
    allowed = await startSite();
    other = await startSite();
    server = await startPushServer({config: {allowed_origins: [allowed.url]}});
    browser = await launchChromium();
});

after(async () => {
    await browser?.close();
    await server?.stop();
    await Promise.all(sites.map((site) => site.close()));
});

/** Opens a page of `site` and a WebSocket to the app from it; window.events records what happens. */
async function openSocket(site) {
    const page = await browser.newPage();
    await page.goto(site.url + '/');
    await page.evaluate((url) => {
        window.events = [];
        window.socket = new WebSocket(url);
        socket.onopen = () => events.push({type: 'open'});
        socket.onerror = () => events.push({type: 'error'});
        socket.onclose = (e) => events.push({type: 'close', code: e.code});
        socket.onmessage = (e) => events.push({type: 'message', event: JSON.parse(e.data).event});
    }, `${server.wsUrl}/app/${APP_KEY}?protocol=7`);
    return page;
}

function waitEvent(page, type) {
    return page.waitForFunction((type) => window.events.find((e) => e.type === type), type, {timeout: 10000, polling: 25})
        .then((handle) => handle.jsonValue());
}

test('a page from an allowed origin connects; one from another origin is refused and the first stays connected', {timeout: TEST_TIMEOUT}, async () => {
    const good = await openSocket(allowed);
    assert.equal((await waitEvent(good, 'message')).event, 'pusher:connection_established');

    const refused = await openSocket(other);
    assert.equal((await waitEvent(refused, 'close')).code, 1006);
    const seen = await refused.evaluate(() => window.events.map((e) => e.type));
    assert.deepEqual(seen, ['error', 'close'], 'never opened, no message');

    await good.evaluate(() => socket.send(JSON.stringify({event: 'pusher:ping', data: {}})));
    await good.waitForFunction(() => window.events.some((e) => e.event === 'pusher:pong'), null, {timeout: 5000, polling: 25});
    assert.equal(await good.evaluate(() => socket.readyState), 1);
});

// php/bin/webman-push-demo, the README's first command: its chat page on php/push.js, opened by two
// visitors (two headless Chromium profiles) while the script runs the real push server and web server.
// Run: node --test tests/browser/demo.test.mjs

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {connect} from 'node:net';
import {join} from 'node:path';
import {after, afterEach, before, test} from 'node:test';
import {EXTENSION, REPO, freePorts, launchChromium, until} from './harness.mjs';

const SCRIPT = join(REPO, 'php', 'bin', 'webman-push-demo');

let browser;
let demo;
let contexts = [];

/**
 * Runs the demo script as a user would, on free ports (DEMO_PORT, DEMO_WS_PORT, DEMO_API_PORT) and with
 * the extension already built (WEBMAN_PUSH_EXT). Resolves once it prints the URL to open.
 */
async function startDemo() {
    const [web, ws, api] = await freePorts(3);
    const ports = {web, ws, api};
    const child = spawn(SCRIPT, [], {
        detached: true, // its own process group: a Ctrl-C meant for it reaches only it
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
            ...process.env,
            DEMO_PORT: String(ports.web),
            DEMO_WS_PORT: String(ports.ws),
            DEMO_API_PORT: String(ports.api),
            WEBMAN_PUSH_EXT: EXTENSION,
        },
    });
    // If this test process dies first, the script's own cleanup stops its two servers.
    const onExit = () => {
        try {
            process.kill(child.pid, 'SIGTERM');
        } catch {
            // already gone
        }
    };
    process.on('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    let stderr = '';
    const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${stderr}`)), 30000);
        child.stderr.on('data', (chunk) => {
            stderr += chunk;
            const match = /Open +(http:\/\/\S+?)\/? /.exec(stderr);
            if (match) {
                clearTimeout(timer);
                resolve(match[1]);
            }
        });
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the demo exited with ${code}:\n${stderr}`));
        });
    });
    const exited = new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
        } else {
            child.once('exit', resolve);
        }
    });
    return {url, ports, child, exited, stderr: () => stderr};
}

async function stopDemo(signal) {
    if (!demo || demo.child.exitCode !== null || demo.child.signalCode !== null) {
        return;
    }
    demo.child.kill(signal);
    const timer = setTimeout(() => demo.child.kill('SIGKILL'), 15000);
    await demo.exited;
    clearTimeout(timer);
}

function portAccepts(port) {
    return new Promise((resolve) => {
        const socket = connect({host: '127.0.0.1', port});
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}

/**
 * A port found free can be taken by another socket before the demo binds it (CI once saw "cannot
 * listen for the HTTP API on 127.0.0.1:46013: Address already in use"); then start over on new ports.
 */
async function startDemoOnFreePorts(attempts = 3) {
    for (let attempt = 1; ; attempt++) {
        try {
            return await startDemo();
        } catch (error) {
            if (attempt >= attempts || !/Address already in use|already in use/.test(String(error))) {
                throw error;
            }
        }
    }
}

before(async () => {
    demo = await startDemoOnFreePorts();
    browser = await launchChromium();
});

after(async () => {
    await browser?.close();
    await stopDemo('SIGTERM');
});

afterEach(async () => {
    const uncaught = contexts.flatMap((context) => context.uncaught.map(String));
    for (const context of contexts) {
        await context.close();
    }
    contexts = [];
    assert.deepEqual(uncaught, [], 'no exception may escape into the demo page');
});

/**
 * A visitor: a fresh browser profile (own cookie, own localStorage) on the demo page, connected and
 * listed in its own online list. `name` is stored as the visitor's name before the page loads.
 */
async function visit(name) {
    const context = await browser.newContext();
    context.uncaught = [];
    contexts.push(context);
    if (name !== undefined) {
        await context.addInitScript((name) => localStorage.setItem('webman-push-demo:name', name), name);
    }
    const page = await context.newPage();
    page.on('pageerror', (error) => context.uncaught.push(error));
    await page.goto(demo.url + '/');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'connected', null, {timeout: 10000});
    const shownName = await page.inputValue('#name');
    await until(async () => (await onlineNames(page)).includes(shownName), `${shownName} in its own online list`);
    return {page, context, name: shownName};
}

/** The names in the page's "Online" list, as shown (without the "(you)" mark). */
function onlineNames(page) {
    return page.$$eval('#online li', (items) => items.map((li) => li.firstChild.textContent).sort());
}

function messages(page) {
    return page.$$eval('#messages li', (items) => items.map((li) => ({
        name: li.querySelector('strong').textContent,
        text: li.querySelector('.text').textContent,
    })));
}

async function send(page, text) {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
}

test('a first visit is named Guest-NNNN and keeps that name after a reload', async () => {
    const visitor = await visit();
    assert.match(visitor.name, /^Guest-\d{4}$/);
    await visitor.page.reload();
    await visitor.page.waitForFunction(() => document.getElementById('state').textContent === 'connected', null, {timeout: 10000});
    assert.equal(await visitor.page.inputValue('#name'), visitor.name);
});

test('a message sent from one page appears on the other page with the sender\'s name', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    await send(alice.page, 'hello from Alice');
    await until(async () => (await messages(bob.page)).some((m) => m.name === 'Alice' && m.text === 'hello from Alice'),
        'Alice\'s message on Bob\'s page');
});

test('each page lists both visitors as online', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    for (const visitor of [alice, bob]) {
        // Visitors of earlier tests leave the list as soon as the server sees their pages close.
        await until(async () => JSON.stringify(await onlineNames(visitor.page)) === '["Alice","Bob"]',
            `Alice and Bob, and nobody else, online on ${visitor.name}'s page`);
        assert.equal(await visitor.page.textContent('#online-count'), '2');
    }
});

test('typing in one page shows "<name> is typing…" on the other page', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    await alice.page.type('#text', 'hel');
    await bob.page.waitForFunction(() => document.getElementById('typing').textContent === 'Alice is typing…', null, {timeout: 10000});
    assert.equal(await alice.page.textContent('#typing'), '', 'Alice is not told that she is typing');
});

test('typing right after sending a message shows "<name> is typing…" again on the other page', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    await alice.page.type('#text', 'first');
    await alice.page.press('#text', 'Enter');
    await until(async () => (await messages(bob.page)).some((m) => m.text === 'first'), 'the first message on Bob\'s page');
    // The message ends Alice's "typing" on Bob's page…
    await bob.page.waitForFunction(() => document.getElementById('typing').textContent === '', null, {timeout: 10000});
    // …and her next keystrokes start it again, even within the 2 s between two client-typing events.
    await alice.page.type('#text', 'sec');
    await bob.page.waitForFunction(() => document.getElementById('typing').textContent === 'Alice is typing…', null, {timeout: 10000});
});

test('closing a page removes its visitor from the other page\'s online list', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    await until(async () => (await onlineNames(alice.page)).includes('Bob'), 'Bob online on Alice\'s page');
    await bob.context.close();
    await until(async () => !(await onlineNames(alice.page)).includes('Bob'), 'Bob gone from Alice\'s page');
    assert.ok((await onlineNames(alice.page)).includes('Alice'));
});

test('a visitor who changes their name appears under the new name on the other page', async () => {
    const alice = await visit('Alice');
    const bob = await visit('Bob');
    await alice.page.fill('#name', 'Alice Liddell');
    await alice.page.press('#name', 'Enter');
    await until(async () => {
        const names = await onlineNames(bob.page);
        return names.includes('Alice Liddell') && !names.includes('Alice');
    }, 'Alice Liddell instead of Alice on Bob\'s page');
});

test('Ctrl-C stops the demo and frees its three ports', async () => {
    const {web, ws, api} = demo.ports;
    for (const port of [web, ws, api]) {
        assert.equal(await portAccepts(port), true, `port ${port} is open while the demo runs`);
    }
    await stopDemo('SIGINT');
    assert.match(demo.stderr(), /webman-push-demo: stopped/);
    for (const port of [web, ws, api]) {
        await until(async () => !(await portAccepts(port)), `port ${port} closed`, 5000);
    }
});

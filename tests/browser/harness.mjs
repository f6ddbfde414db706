// Shared by tests/browser and tests/clients: runs the real push server (php/bin/webman-push-server),
// the real PHP auth route (PHP's built-in server + fixtures/router.php) and Debian's Chromium.

import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// tests/run exports WEBMAN_PUSH_EXT (the extension it built); by hand the release build is used.
export const EXTENSION = process.env.WEBMAN_PUSH_EXT || join(REPO, 'target', 'release', 'libwebman_push.so');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const APP_KEY = 'browser-test-key';
export const APP_SECRET = 'browser-test-secret';

// The npm packages live in tests/node (playwright-core, ws).
export const requireTestPackage = createRequire(join(REPO, 'tests', 'node', 'package.json'));

function requireExtension() {
    if (!existsSync(EXTENSION)) {
        throw new Error(`${EXTENSION} is missing: run cargo build --release --lib --features php (or set WEBMAN_PUSH_EXT)`);
    }
}

/**
 * `n` distinct free loopback ports. Every listener stays open until all are chosen: closed one by one,
 * the kernel may hand the same port out twice, and two servers of one test then collide.
 */
export async function freePorts(n) {
    const servers = [];
    try {
        for (let i = 0; i < n; i++) {
            const server = createServer();
            server.unref();
            servers.push(server);
            await new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(0, '127.0.0.1', resolve);
            });
        }
        return servers.map((server) => server.address().port);
    } finally {
        await Promise.all(servers.map((server) => new Promise((resolve) => server.close(() => resolve()))));
    }
}

export async function freePort() {
    const [port] = await freePorts(1);
    return port;
}

export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` (sync or async) until it returns a truthy value; throws after `timeout` ms. */
export async function until(check, what, timeout = 10000) {
    const deadline = Date.now() + timeout;
    for (;;) {
        const value = await check();
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        }
        await sleep(20);
    }
}

// Children run in their own process group (php -S forks workers); if this process dies first,
// take the groups down with it.
const groups = new Set();
process.on('exit', () => {
    for (const pid of groups) {
        try {
            process.kill(-pid, 'SIGKILL');
        } catch {
            // already gone
        }
    }
});

function spawnGroup(command, args, options) {
    const child = spawn(command, args, {...options, detached: true});
    groups.add(child.pid);
    child.once('exit', () => groups.delete(child.pid));
    return child;
}

function signalGroup(child, signal) {
    try {
        process.kill(-child.pid, signal);
    } catch {
        // already gone
    }
}

function waitExit(child, timeout) {
    if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve();
    }
    return new Promise((resolve) => {
        const timer = setTimeout(() => {
            signalGroup(child, 'SIGKILL');
        }, timeout);
        child.once('exit', () => {
            clearTimeout(timer);
            resolve();
        });
    });
}

/**
 * Starts php/bin/webman-push-server with a config written to a temp dir. Port 0 (default) lets
 * the OS choose; pass fixed ports to restart a server on the same ones.
 */
export async function startPushServer({wsPort = 0, apiPort = 0, config = {}} = {}) {
    requireExtension();
    const dir = mkdtempSync(join(tmpdir(), 'push-client-test-'));
    const settings = {
        websocket: `websocket://127.0.0.1:${wsPort}`,
        api: `http://127.0.0.1:${apiPort}`,
        app_key: APP_KEY,
        app_secret: APP_SECRET,
        app_id: '1024',
        ...config,
    };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
    writeFileSync(join(dir, 'app.php'), "<?php\nreturn json_decode(file_get_contents(__DIR__ . '/settings.json'), true);\n");
    const child = spawnGroup('php', ['-d', `extension=${EXTENSION}`, join(REPO, 'php', 'bin', 'webman-push-server'), join(dir, 'app.php')], {
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const ports = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`push server did not start within 15 s: ${stderr}`)), 15000);
        child.stderr.on('data', (chunk) => {
            stderr += chunk;
            const match = /listening ws=(\d+) api=(\d+)/.exec(stderr);
            if (match) {
                clearTimeout(timer);
                resolve({ws: Number(match[1]), api: Number(match[2])});
            }
        });
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`push server exited with ${code}: ${stderr}`));
        });
    });
    let stopped = false;
    return {
        wsPort: ports.ws,
        apiPort: ports.api,
        wsUrl: `ws://127.0.0.1:${ports.ws}`,
        apiUrl: `http://127.0.0.1:${ports.api}`,
        pid: child.pid,
        pause() {
            signalGroup(child, 'SIGSTOP');
        },
        resume() {
            signalGroup(child, 'SIGCONT');
        },
        async stop() {
            if (stopped) {
                return;
            }
            stopped = true;
            signalGroup(child, 'SIGCONT');
            signalGroup(child, 'SIGTERM');
            await waitExit(child, 10000);
            rmSync(dir, {recursive: true, force: true});
        },
    };
}

/**
 * Serves tests/browser/fixtures with PHP's built-in server: the test pages, php/push*.js at the
 * webman route /plugin/webman/push/push.js, and a real auth route at /plugin/webman/push/auth that
 * signs with Webman\Push\Api (see fixtures/router.php for who it lets in).
 */
export async function startAuthServer(push) {
    requireExtension();
    const dir = mkdtempSync(join(tmpdir(), 'push-auth-test-'));
    const authLog = join(dir, 'auth.log');
    writeFileSync(authLog, '');
    for (let attempt = 0; ; attempt++) {
        const port = await freePort();
        const child = spawnGroup('php', ['-d', `extension=${EXTENSION}`, '-S', `127.0.0.1:${port}`, join(REPO, 'tests', 'browser', 'fixtures', 'router.php')], {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: {
                ...process.env,
                PHP_CLI_SERVER_WORKERS: '4',
                PUSH_REPO: REPO,
                PUSH_API: push.apiUrl,
                PUSH_APP_KEY: APP_KEY,
                PUSH_APP_SECRET: APP_SECRET,
                PUSH_AUTH_LOG: authLog,
            },
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => {
            stderr += chunk;
        });
        const url = `http://127.0.0.1:${port}`;
        try {
            await until(async () => {
                if (child.exitCode !== null) {
                    throw new Error(`php -S exited: ${stderr}`);
                }
                try {
                    return (await fetch(`${url}/health`)).ok;
                } catch {
                    return false;
                }
            }, 'the PHP auth server', 10000);
        } catch (error) {
            signalGroup(child, 'SIGTERM');
            await waitExit(child, 5000);
            if (attempt < 2) {
                continue; // the free port was taken in between
            }
            throw error;
        }
        return {
            url,
            authUrl: `${url}/plugin/webman/push/auth`,
            /** Every auth request so far: {channel_name, socket_id, cookie_uid, user_header, content_type}. */
            authRequests() {
                return readFileSync(authLog, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
            },
            /** Publishes through Webman\Push\Api::trigger in PHP. */
            async trigger(channel, event, data) {
                const response = await fetch(`${url}/trigger`, {
                    method: 'POST',
                    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                    body: new URLSearchParams({channel, event, data: JSON.stringify(data)}),
                });
                const text = await response.text();
                if (text !== 'true') {
                    throw new Error(`Api::trigger failed: ${response.status} ${text}`);
                }
            },
            async stop() {
                signalGroup(child, 'SIGTERM');
                await waitExit(child, 5000);
                rmSync(dir, {recursive: true, force: true});
            },
        };
    }
}

/** `extraArgs`: more Chromium switches (the native TLS test's `--ignore-certificate-errors`). */
export async function launchChromium(extraArgs = []) {
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    }
    const {chromium} = requireTestPackage('playwright-core');
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', ...extraArgs],
    });
}

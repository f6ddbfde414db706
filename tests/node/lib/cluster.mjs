// Scale-out tests: a real redis-server of the test's own on a free loopback port, nodes of the real
// server sharing it (lib/server.mjs with `redis`/`redis_prefix`), a webhook receiver that checks
// signatures, and bounded polling for a cluster that is eventually consistent.
import { spawn, execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hmac } from './http.mjs';
import { startServer } from './server.mjs';
import { freePort } from './ports.mjs';

export { freePort };

export const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
export const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli';

// redis-servers still running when the test process exits (a crashed test) die with it.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/** Starts one redis-server process on `port`; resolves once it accepts connections. */
function launchRedis(port, dir) {
  const child = spawn(REDIS_SERVER, [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--loglevel', 'notice',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise((done) => child.once('exit', (code, signal) => {
    running.delete(child);
    done({ code, signal });
  }));
  let log = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s:\n${log}`));
    }, 10000);
    const onData = (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (code ${code}, signal ${signal}):\n${log}`));
    });
  });
  return { child, exited, ready, log: () => log };
}

/**
 * A redis-server of the test's own on a free loopback port, without persistence.
 * Resolves to {port, url, pid, kill(signal), restart(), stop(), cli(...args)}; restart() starts a new
 * process on the same port (after kill()).
 */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'webman-push-redis-'));
  let current;
  let port;
  let lastError;
  for (let attempt = 0; attempt < 5 && !current; attempt++) {
    port = await freePort();
    const r = launchRedis(port, dir);
    try {
      await r.ready;
      current = r;
    } catch (err) {
      lastError = err;
    }
  }
  if (!current) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() { return current.child.pid; },
    /** Kills the current process (SIGKILL by default: a crash) and waits until it is gone. */
    async kill(signal = 'SIGKILL') {
      const { child, exited } = current;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    /** Starts redis-server again on the same port. */
    async restart() {
      // The port was just released; retry briefly in case the OS has not let go of it yet.
      for (let attempt = 0; ; attempt++) {
        const r = launchRedis(port, dir);
        try {
          await r.ready;
          current = r;
          return;
        } catch (err) {
          if (attempt >= 10) throw err;
          await sleep(200);
        }
      }
    },
    async stop() {
      await redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    /** Runs redis-cli against this server; resolves to its trimmed stdout. */
    cli(...args) {
      return new Promise((resolve, reject) => {
        execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 }, (err, stdout) => {
          if (err) reject(err);
          else resolve(stdout.trim());
        });
      });
    },
  };
  return redis;
}

/** Starts one node of the cluster: startServer with the Redis settings (plus `options`). */
export function startNode(redis, prefix, options = {}) {
  return startServer({ redis: redis.url, redis_prefix: prefix, ...options });
}

/** SIGKILLs a node (no goodbye, no lease release) and waits until the process is gone. */
export async function killNode(node) {
  try { process.kill(node.pid, 'SIGKILL'); } catch { /* already gone */ }
  return node.stop();
}

/**
 * Polls `probe` (sync or async) every `interval` ms until it returns something truthy without
 * throwing; resolves to that value. After `ms`, rejects with `what` and the last value or error.
 */
export async function eventually(probe, what, { ms = 8000, interval = 50 } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`not within ${ms} ms: ${what}; last: ${detail}`);
    }
    await sleep(interval);
  }
}

/** Waits until `node`'s stderr matches `pattern`. */
export function logged(node, pattern, ms = 10000) {
  return eventually(() => pattern.test(node.stderr()), `${pattern} in the node's stderr`, { ms, interval: 100 });
}

/**
 * An HTTP server on a free loopback port that records every webhook POST: {path, headers, body,
 * json, signed}. `signed` is true when X-Pusher-Key is `key` and X-Pusher-Signature is
 * hex(HMAC-SHA256(secret, body)). `events(filter)` flattens the events of every request so far.
 */
export function webhookReceiver({ key, secret }) {
  const requests = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const signed = req.headers['x-pusher-key'] === key
        && req.headers['x-pusher-signature'] === hmac(secret, body);
      requests.push({ path: req.url, headers: req.headers, body, json, signed });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => {
    const port = srv.address().port;
    resolve({
      port,
      url: (path) => `http://127.0.0.1:${port}${path}`,
      requests,
      /** Every event of every request so far, each with the path it was posted to. */
      events(filter = () => true) {
        return requests.flatMap((r) => (r.json?.events ?? []).map((e) => ({ ...e, path: r.path }))).filter(filter);
      },
      close: () => new Promise((done) => { srv.closeAllConnections?.(); srv.close(done); }),
    });
  }));
}

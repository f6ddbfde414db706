// Starts the real webman-push server (the PHP launcher with the extension loaded) for a test,
// on ports the OS picks, and stops it again.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const EXTENSION = process.env.WEBMAN_PUSH_EXT || join(REPO, 'target/release/libwebman_push.so');
export const PHP = process.env.PHP || 'php';
export const LAUNCHER = join(REPO, 'php/bin/webman-push-server');

/** Arguments that make `php` load the extension. */
export function phpArgs() {
  if (!existsSync(EXTENSION)) {
    throw new Error(`${EXTENSION} is missing: build it with cargo build --release --lib --features php`);
  }
  return ['-d', `extension=${EXTENSION}`];
}

/** A JS value as a PHP literal, for writing app.php files. */
export function toPhp(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(toPhp).join(', ')}]`;
  return `[${Object.entries(value).map(([k, v]) => `${toPhp(k)} => ${toPhp(v)}`).join(', ')}]`;
}

// Servers still running when the test process exits (a crashed test) are killed with it.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Starts a server. `options.key`/`options.secret` become app_key/app_secret; every other option is
 * copied into the config array as is (activity_timeout, apps, max_message_size, ...).
 * Resolves to {wsPort, apiPort, key, secret, appId, stderr(), stop()}.
 */
export async function startServer(options = {}) {
  const { key = 'test-key', secret = 'test-secret', ...extra } = options;
  const config = {
    websocket: 'websocket://127.0.0.1:0',
    api: 'http://127.0.0.1:0',
    app_key: key,
    app_secret: secret,
    ...extra,
  };
  const dir = mkdtempSync(join(tmpdir(), 'webman-push-test-'));
  const configFile = join(dir, 'app.php');
  writeFileSync(configFile, `<?php\nreturn ${toPhp(config)};\n`);

  const child = spawn(PHP, [...phpArgs(), LAUNCHER, configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  const exited = new Promise((done) => child.once('exit', (code, signal) => {
    running.delete(child);
    done({ code, signal });
  }));
  let log = '';
  child.stderr.setEncoding('utf8');

  const ports = await new Promise((resolvePorts, reject) => {
    const timer = setTimeout(() => fail(new Error(`server did not report its ports within 15 s:\n${log}`)), 15000);
    function fail(err) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening ws=(\d+) api=(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePorts({ wsPort: Number(m[1]), apiPort: Number(m[2]) });
      }
    });
    child.once('error', fail);
    exited.then(({ code, signal }) => fail(new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${log}`)));
  }).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });

  let stopping = null;
  return {
    ...ports,
    key,
    secret,
    appId: String(config.app_id ?? '1024'),
    pid: child.pid,
    wsUrl: (path = `/app/${key}`) => `ws://127.0.0.1:${ports.wsPort}${path}`,
    stderr: () => log,
    /** SIGTERM, wait for the exit (SIGKILL after 5 s). Resolves to {code, signal}. */
    stop() {
      if (stopping) return stopping;
      stopping = (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const result = await exited;
        clearTimeout(killer);
        rmSync(dir, { recursive: true, force: true });
        return result;
      })();
      return stopping;
    },
  };
}

/** Runs a PHP snippet (without `<?php`) with the extension loaded. Resolves to {code, stdout, stderr}. */
export function runPhp(code, { timeoutMs = 15000 } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(PHP, [...phpArgs(), '-r', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`php snippet did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolveRun({ code: exitCode, stdout, stderr });
    });
  });
}

// The real PHP auth endpoint (fixtures/auth.php) served by PHP's built-in web server with the
// extension loaded, on a free loopback port; started and stopped by PID. startPhpServer() serves any
// router script that way (lib/webman-route.mjs uses it for webman's route.php).
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PHP, phpArgs } from './server.mjs';
import { freePort } from './ports.mjs';

export const AUTH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/auth.php');

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function launch(script, port, env, cwd) {
  // One process, no forked workers, so stopping the PID stops the whole server.
  const inherited = { ...process.env };
  delete inherited.PHP_CLI_SERVER_WORKERS;
  const child = spawn(PHP, [...phpArgs(), '-S', `127.0.0.1:${port}`, script], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...inherited, ...env },
    cwd,
  });
  running.add(child);
  const exited = new Promise((done) => child.once('exit', (code, signal) => {
    running.delete(child);
    done({ code, signal });
  }));
  let log = '';
  child.stderr.setEncoding('utf8');
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`php -S did not start within 10 s:\n${log}`));
    }, 10000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (/Development Server \(http:\/\/127\.0\.0\.1:\d+\) started/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`php -S exited (${code}):\n${log}`)); });
  });
  return { child, exited, ready, log: () => log };
}

/**
 * Starts `php -S 127.0.0.1:<free port> script` with the extension loaded, `env` added to this
 * process's environment and working directory `cwd`. Resolves to {port, pid, stderr(), stop()}.
 */
export async function startPhpServer(script, { env = {}, cwd } = {}) {
  let lastError;
  // The port is free when probed but another process may take it first: retry a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const php = launch(script, port, env, cwd);
    try {
      await php.ready;
    } catch (err) {
      lastError = err;
      continue;
    }
    let stopping = null;
    return {
      port,
      pid: php.child.pid,
      stderr: php.log,
      stop() {
        if (stopping) return stopping;
        stopping = (async () => {
          if (php.child.exitCode === null && php.child.signalCode === null) php.child.kill('SIGTERM');
          const killer = setTimeout(() => php.child.kill('SIGKILL'), 5000);
          await php.exited;
          clearTimeout(killer);
        })();
        return stopping;
      },
    };
  }
  throw lastError;
}

/**
 * Starts fixtures/auth.php for the app `key`/`secret` (and an optional base64 encryption master
 * key). Resolves to {url, port, pid, stop()}; `url` is the endpoint pusher-js posts to.
 */
export async function startAuthEndpoint({ key, secret, encryptionMasterKeyBase64 } = {}) {
  const env = { PUSH_APP_KEY: key, PUSH_APP_SECRET: secret };
  if (encryptionMasterKeyBase64) env.PUSH_ENCRYPTION_MASTER_KEY_BASE64 = encryptionMasterKeyBase64;
  const php = await startPhpServer(AUTH_SCRIPT, { env });
  return { ...php, url: `http://127.0.0.1:${php.port}/auth.php` };
}

/** POSTs to the endpoint like an app's own client code would; resolves to {status, json}. */
export async function requestAuth(endpoint, { channel, socketId, user, json = false }) {
  const headers = {};
  // In the query string rather than X-User: a header cannot carry non-Latin-1 text.
  const url = user === undefined ? endpoint.url : `${endpoint.url}?user=${encodeURIComponent(JSON.stringify(user))}`;
  let body;
  if (json) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ channel_name: channel, socket_id: socketId });
  } else {
    body = new URLSearchParams({ channel_name: channel, socket_id: socketId });
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, text, json: parsed };
}

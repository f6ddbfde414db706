// webman's real config/plugin/webman/push/route.php over HTTP, as the main webman server would serve it:
// PHP's built-in server with tests/php/lib/webman_standins.php as router script (the stand-ins for the few
// webman pieces route.php uses), on a free loopback port, started and stopped by PID. Sessions are the
// stand-ins' files under base_path()/runtime/sessions, so login() signs a user in exactly as an app's
// login code would (webman_login(): push_user in the session named by the PHPSID cookie).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, PHP } from './server.mjs';
import { startPhpServer } from './auth-endpoint.mjs';

export const STANDINS = join(REPO, 'tests/php/lib/webman_standins.php');

/** Runs `code` in PHP with the stand-ins loaded and webman booted on `app` and `basePath`; returns stdout. */
function withWebman(appFile, basePath, code, ...args) {
  const boot = `require ${JSON.stringify(STANDINS)};`
    + 'webman_boot(json_decode(file_get_contents($argv[1]), true), $argv[2]);';
  return execFileSync(PHP, ['-r', boot + code, '--', appFile, basePath, ...args], { encoding: 'utf8' });
}

/**
 * Starts route.php with the shipped app.php config for the push server `server` (its key, secret and
 * HTTP API port). Resolves to {port, url, login(user), stop()}; login({id, info}) stores a session
 * holding push_user = user and returns the Cookie header value that names it ('PHPSID=...').
 */
export async function startWebmanRoute(server) {
  const basePath = mkdtempSync(join(tmpdir(), 'webman-push-route-'));
  const overrides = {
    app_key: server.key,
    app_secret: server.secret,
    api: `http://127.0.0.1:${server.apiPort}`,
  };
  const appFile = join(basePath, 'app.json');
  // The shipped config with this server's key, secret and API on top (webman_app_config()).
  const app = execFileSync(PHP, ['-r', `require ${JSON.stringify(STANDINS)};`
    + 'echo json_encode(webman_app_config(json_decode($argv[1], true)));', '--', JSON.stringify(overrides)], { encoding: 'utf8' });
  writeFileSync(appFile, app);
  let php;
  try {
    php = await startPhpServer(STANDINS, {
      cwd: basePath,
      env: {
        WEBMAN_STANDINS_APP: appFile,
        WEBMAN_STANDINS_BASE_PATH: basePath,
        WEBMAN_STANDINS_LOG: join(basePath, 'webman-http.log'),
      },
    });
  } catch (err) {
    rmSync(basePath, { recursive: true, force: true });
    throw err;
  }
  return {
    port: php.port,
    url: `http://127.0.0.1:${php.port}`,
    stderr: php.stderr,
    login(user) {
      return withWebman(appFile, basePath, 'echo webman_login(json_decode($argv[3], true));', JSON.stringify(user));
    },
    async stop() {
      await php.stop();
      rmSync(basePath, { recursive: true, force: true });
    },
  };
}

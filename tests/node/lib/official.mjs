// Helpers for driving the official clients (pusher-js, the Node `pusher` SDK) through the Pusher
// features beyond webman/push: user sign-in, server-to-user, watchlists, connection state and the
// frames pusher-js saw. Everything waits on events, with a bounded time-out.
import { connectPusherJs, serverSdk } from './clients.mjs';

const WAIT_MS = 5000;

function within(ms, what, executor) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    executor(
      (v) => { clearTimeout(timer); resolve(v); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}

/** `server` seen as one of its extra apps ({id, key, secret}): for connectPusherJs and sdkFor. */
export function asApp(server, app) {
  return { ...server, key: app.key, secret: app.secret, appId: String(app.id) };
}

/** The Node server SDK for `server` (or asApp(...)); `options` adds e.g. encryptionMasterKeyBase64. */
export function sdkFor(server, options = {}) {
  return serverSdk(server, options);
}

/**
 * Records every message pusher-js decoded on its connection ({event, data, channel}), and every
 * connection-level error it emitted. `waitFor(predicate)` resolves to the first recorded message
 * (at or after `from`) that matches.
 */
export function recordMessages(client) {
  const all = [];
  const errors = [];
  const waiters = new Set();
  const notify = () => { for (const check of [...waiters]) check(); };
  client.connection.bind('message', (m) => { all.push(m); notify(); });
  client.connection.bind('error', (e) => { errors.push(e); notify(); });
  return {
    all,
    errors,
    waitFor(predicate, what = 'a matching message', { from = 0, ms = WAIT_MS } = {}) {
      return within(ms, `${what}; pusher-js got ${JSON.stringify(all)}`, (resolve) => {
        const check = () => {
          const found = all.slice(from).find(predicate);
          if (found) { waiters.delete(check); resolve(found); }
        };
        waiters.add(check);
        check();
      });
    },
    waitForError(predicate, what = 'a connection error') {
      return within(WAIT_MS, `${what}; errors so far ${JSON.stringify(errors)}`, (resolve) => {
        const check = () => {
          const found = errors.find(predicate);
          if (found) { waiters.delete(check); resolve(found); }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Resolves once pusher-js's connection is in `state` (now or later). */
export function waitState(client, state, ms = WAIT_MS) {
  if (client.connection.state === state) return Promise.resolve();
  return within(ms, `pusher-js state ${state} (now ${client.connection.state})`, (resolve) => {
    const onChange = ({ current }) => {
      if (current === state) {
        client.connection.unbind('state_change', onChange);
        resolve();
      }
    };
    client.connection.bind('state_change', onChange);
  });
}

/**
 * A connected pusher-js client whose userAuthentication.customHandler answers like a user-auth
 * endpoint would: the Node SDK's authenticateUser(socketId, userData). Not signed in yet; bind
 * user/watchlist callbacks, then call signIn(). `authSdk` may sign with another secret.
 */
export async function connectAsUser(server, sdk, userData, { authSdk = sdk, ...options } = {}) {
  const client = await connectPusherJs(server, {
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, authSdk.authenticateUser(socketId, userData)),
    },
    ...options,
  });
  const log = recordMessages(client);
  return { client, log, userId: userData.id };
}

/**
 * pusher.signin(), then waits for pusher:signin_success and for the #server-to-user-{id}
 * subscription pusher-js makes after it. Resolves to the signin_success message.
 */
export async function signIn({ client, log, userId }) {
  client.signin();
  const success = await log.waitFor((m) => m.event === 'pusher:signin_success', 'pusher:signin_success');
  await log.waitFor(
    (m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === `#server-to-user-${userId}`,
    `subscription_succeeded for #server-to-user-${userId}`,
  );
  return success;
}

/** Collects what `emitter.bind(event, cb)` delivers (pusher.user, pusher.user.watchlist, a channel). */
export function collectFrom(emitter, event, label = event) {
  const all = [];
  const waiters = [];
  let read = 0;
  emitter.bind(event, (data) => {
    all.push(data);
    while (waiters.length > 0 && read < all.length) waiters.shift()(all[read++]);
  });
  return {
    all,
    next(ms = WAIT_MS) {
      if (read < all.length) return Promise.resolve(all[read++]);
      return within(ms, `${label}`, (resolve) => waiters.push(resolve));
    },
  };
}

/**
 * pusher-js's Node transport is faye-websocket. When the server closes with a 4000-4099 code,
 * pusher-js ("refused") still calls close() on the already closed socket, and faye then arms a
 * 30 s close timer that nothing clears: harmless, but it keeps the test process alive for 30 s.
 * `keepSocket(client)` (right after connecting) and `releaseSockets()` (in after()) clear it.
 */
const sockets = new Set();
export function keepSocket(client) {
  const socket = client.connection.connection?.transport?.socket;
  if (socket) sockets.add(socket);
  return client;
}
export function releaseSockets() {
  for (const socket of sockets) {
    if (socket._closeTimer) clearTimeout(socket._closeTimer);
  }
  sockets.clear();
}

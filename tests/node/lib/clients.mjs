// The official SDKs, pointed at a started server: pusher-js (the browser/Node client) and the
// Node `pusher` server SDK.
import PusherJs from 'pusher-js';
import PusherServer from 'pusher';
import { hmac } from './http.mjs';

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

/**
 * A pusher-js client connected to `server`. `presence` ({user_id, user_info}) makes it authorise
 * private and presence channels itself with the app secret, as an auth endpoint would.
 */
export async function connectPusherJs(server, { presence, ...options } = {}) {
  const client = new PusherJs(server.key, {
    wsHost: '127.0.0.1',
    wsPort: server.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'x',
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        const channelData = channelName.startsWith('presence-') ? JSON.stringify(presence) : undefined;
        const toSign = channelData === undefined ? `${socketId}:${channelName}` : `${socketId}:${channelName}:${channelData}`;
        callback(null, { auth: `${server.key}:${hmac(server.secret, toSign)}`, channel_data: channelData });
      },
    },
    ...options,
  });
  await within(WAIT_MS, 'pusher-js to connect', (resolve, reject) => {
    client.connection.bind('connected', resolve);
    client.connection.bind('failed', () => reject(new Error('pusher-js connection failed')));
    client.connection.bind('unavailable', () => reject(new Error('pusher-js connection unavailable')));
  });
  return client;
}

/** Subscribes and resolves to the channel (and the subscription_succeeded data) once the server confirmed. */
export function subscribe(client, channelName) {
  const channel = client.subscribe(channelName);
  return within(WAIT_MS, `subscription to ${channelName}`, (resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', (data) => resolve({ channel, data }));
    channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription_error on ${channelName}: ${JSON.stringify(e)}`)));
  });
}

/**
 * Collects what pusher-js hands to `channel.bind(event, callback)`, in order.
 * `next()` resolves to the next value; `all` is everything received so far.
 */
export function collect(channel, event) {
  const all = [];
  const waiters = [];
  let read = 0;
  channel.bind(event, (data) => {
    all.push(data);
    while (waiters.length > 0 && read < all.length) waiters.shift()(all[read++]);
  });
  return {
    all,
    next(ms = WAIT_MS) {
      if (read < all.length) return Promise.resolve(all[read++]);
      return within(ms, `event ${event} on ${channel.name}`, (resolve) => waiters.push(resolve));
    },
  };
}

/** Disconnects a pusher-js client and waits until it is really disconnected. */
export async function disconnect(client) {
  if (!client || client.connection.state === 'disconnected') return;
  const done = within(WAIT_MS, 'pusher-js to disconnect', (resolve) => client.connection.bind('disconnected', resolve));
  client.disconnect();
  await done.catch(() => {});
}

/** The Node server SDK, talking to `server`'s HTTP API (`options`: e.g. encryptionMasterKeyBase64). */
export function serverSdk(server, options = {}) {
  return new PusherServer({
    appId: server.appId,
    key: server.key,
    secret: server.secret,
    host: '127.0.0.1',
    port: String(server.apiPort),
    useTLS: false,
    ...options,
  });
}

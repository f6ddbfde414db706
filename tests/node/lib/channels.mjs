// Private and presence subscriptions over a raw connection (lib/ws-client.mjs), signed here the
// way an auth endpoint signs them: auth = key:hex(HMAC-SHA256(secret, "socket_id:channel[:channel_data]")).
import assert from 'node:assert/strict';
import { hmac } from './http.mjs';

/** The `auth` of a private (or private-encrypted) channel for `socketId`. */
export function privateAuth(app, socketId, channel) {
  return `${app.key}:${hmac(app.secret, `${socketId}:${channel}`)}`;
}

/** The `auth` of a presence channel for `socketId`, covering the exact `channelData` string. */
export function presenceAuth(app, socketId, channel, channelData) {
  return `${app.key}:${hmac(app.secret, `${socketId}:${channel}:${channelData}`)}`;
}

/** Sends a pusher:subscribe with `data` as given (channel, auth, channel_data...). */
export function sendSubscribe(client, data) {
  client.send({ event: 'pusher:subscribe', data });
}

/** The reply to a subscribe to `channel`: its subscription_succeeded or a pusher:error. */
export function subscribeReply(client, channel) {
  return client.nextMatching(
    (m) => (m.event === 'pusher_internal:subscription_succeeded' && m.channel === channel) || m.event === 'pusher:error',
    `subscription_succeeded for ${channel} or pusher:error`,
  );
}

/** Subscribes a private channel with a correct signature; returns the subscription_succeeded frame. */
export async function subscribePrivate(client, app, channel) {
  sendSubscribe(client, { channel, auth: privateAuth(app, client.socketId, channel) });
  const reply = await subscribeReply(client, channel);
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded', `subscribe ${channel}: ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * Joins a presence channel as `user` ({user_id, user_info?}, or a ready channel_data string) with
 * a correct signature; returns the decoded subscription_succeeded data ({presence: {...}}).
 */
export async function subscribePresence(client, app, channel, user) {
  const channelData = typeof user === 'string' ? user : JSON.stringify(user);
  sendSubscribe(client, { channel, auth: presenceAuth(app, client.socketId, channel, channelData), channel_data: channelData });
  const reply = await subscribeReply(client, channel);
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded', `join ${channel}: ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.data, 'string', 'subscription_succeeded data is a JSON string');
  return JSON.parse(reply.data);
}

/** Waits for the next pusher:error and returns its data ({code, message}). */
export async function nextError(client) {
  const frame = await client.nextEvent('pusher:error');
  assert.equal(typeof frame.data, 'object', `pusher:error data is an object: ${JSON.stringify(frame)}`);
  return frame.data;
}


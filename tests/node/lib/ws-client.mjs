// A raw WebSocket client (the `ws` package) that records every frame the server sends, so a test
// can wait for the next one, look for a particular one, and see how the connection was closed.
import WebSocket from 'ws';

const WAIT_MS = 5000;

export class RawClient {
  constructor(url, options = {}) {
    this.url = url;
    this.ws = new WebSocket(url, options);
    this.frames = []; // every text frame received: {text, json}
    this.pongs = []; // payloads of WebSocket pong frames
    this.cursor = 0; // frames before this index were consumed by next()
    this.waiters = new Set();
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {}); // a test that expects a failed handshake awaits it itself
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.notify();
      });
    });
    this.ws.on('error', () => {}); // reported through `opened`/`closed`
    this.ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      this.frames.push({ text, json, binary: isBinary });
      this.notify();
    });
    this.ws.on('pong', (data) => {
      this.pongs.push(data.toString());
      this.notify();
    });
  }

  notify() {
    for (const check of [...this.waiters]) check();
  }

  /** Waits until `test()` returns something truthy; rejects after `ms` with `what` in the message. */
  waitFor(test, what, ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = test();
        if (value) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(value);
        } else if (this.closeInfo && !this.waitingForClose) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`connection closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}; frames: ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; frames: ${this.describe()}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  describe() {
    return JSON.stringify(this.frames.map((f) => f.text));
  }

  /** The next frame not yet consumed (the JSON-decoded frame plus `.raw` text). */
  async next(ms = WAIT_MS) {
    await this.waitFor(() => this.frames.length > this.cursor, 'the next frame', ms);
    const frame = this.frames[this.cursor++];
    return frame;
  }

  /** The next frame's parsed JSON. */
  async nextJson(ms = WAIT_MS) {
    return (await this.next(ms)).json;
  }

  /** Skips frames until one whose JSON satisfies `predicate`; returns that JSON. */
  async nextMatching(predicate, what = 'a matching frame', ms = WAIT_MS) {
    const index = await this.waitFor(() => {
      for (let i = this.cursor; i < this.frames.length; i++) {
        if (this.frames[i].json !== undefined && predicate(this.frames[i].json)) return i + 1;
      }
      return 0;
    }, what, ms);
    this.cursor = index;
    return this.frames[index - 1].json;
  }

  /** Waits for the next frame with this event name. */
  nextEvent(event, ms = WAIT_MS) {
    return this.nextMatching((m) => m.event === event, `event ${event}`, ms);
  }

  /** Resolves to {code, reason} once the server closed the connection. */
  async waitClosed(ms = WAIT_MS) {
    this.waitingForClose = true;
    return this.waitFor(() => this.closeInfo, 'the connection to close', ms);
  }

  send(message) {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  /** Waits for connection_established and returns its decoded data ({socket_id, activity_timeout}). */
  async established() {
    const m = await this.nextEvent('pusher:connection_established');
    this.socketId = JSON.parse(m.data).socket_id;
    return JSON.parse(m.data);
  }

  async subscribe(channel) {
    this.send({ event: 'pusher:subscribe', data: { channel } });
    return this.nextMatching(
      (m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === channel,
      `subscription_succeeded for ${channel}`,
    );
  }

  /** Round trip: sends pusher:ping and returns every frame that arrived before the pong. */
  async roundTrip() {
    const start = this.cursor;
    this.send({ event: 'pusher:ping', data: {} });
    await this.nextEvent('pusher:pong');
    return this.frames.slice(start, this.cursor - 1).map((f) => f.json ?? f.text);
  }

  /** Closes from the client side and waits for the socket to be gone. */
  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    } else {
      this.ws.close();
      const timer = setTimeout(() => this.ws.terminate(), 2000);
      await this.closed;
      clearTimeout(timer);
      return;
    }
    await this.closed;
  }
}

/** Opens a raw connection and waits for the handshake to finish. */
export async function connectRaw(url, options) {
  const client = new RawClient(url, options);
  await client.opened;
  return client;
}

/** Opens a raw connection to a server's app and waits for connection_established. */
export async function connectApp(server, path) {
  const client = await connectRaw(server.wsUrl(path));
  await client.established();
  return client;
}

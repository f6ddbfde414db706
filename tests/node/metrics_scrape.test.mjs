// /metrics read by a real Prometheus parser (PyPI prometheus_client, through
// tests/python/metrics_scrape.py) while a real pusher-js client connects, subscribes, receives an
// event published through the HTTP API, and leaves: the figures must move with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { connectPusherJs, subscribe, collect, disconnect } from './lib/clients.mjs';
import { apiRequest } from './lib/http.mjs';
import { ensureVenv, run, PY_DIR, VENV_PYTHON } from './lib/python.mjs';

const SCRIPT = join(PY_DIR, 'metrics_scrape.py');
let server;

before(async () => {
  await ensureVenv();
  server = await startServer({ metrics_token: 'scrape-me' });
});

after(async () => {
  await server?.stop();
});

/** Scrapes and parses; resolves to {families, value(name, labels)}. */
async function scrape(token = 'scrape-me') {
  const url = `http://127.0.0.1:${server.apiPort}/metrics`;
  const out = await run(VENV_PYTHON, [SCRIPT, url, ...(token ? [token] : [])], {
    timeoutMs: 30000,
    env: { NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
  });
  const line = out.stdout.trim().split('\n').at(-1);
  assert.equal(out.code, 0, `metrics_scrape.py failed:\n${out.stdout}${out.stderr}`);
  const { families, samples } = JSON.parse(line);
  const value = (name, labels = {}) => {
    const want = { app_id: server.appId, ...labels };
    const found = samples.find((s) => s.name === name
      && Object.entries(want).every(([k, v]) => s.labels[k] === v));
    assert.ok(found, `no sample ${name} ${JSON.stringify(want)}`);
    return found.value;
  };
  const total = (name) => samples
    .filter((s) => s.name === name && s.labels.app_id === server.appId)
    .reduce((sum, s) => sum + s.value, 0);
  return { families, value, total };
}

test('the page parses with prometheus_client and every family is webman_push_ with a known type', async () => {
  const { families } = await scrape();
  const names = Object.keys(families);
  assert.ok(names.includes('webman_push_connections'), names.join(' '));
  for (const [name, type] of Object.entries(families)) {
    assert.match(name, /^webman_push_/);
    assert.ok(['counter', 'gauge', 'histogram'].includes(type), `${name} is ${type}`);
  }
  assert.equal(families.webman_push_connections, 'gauge');
  assert.equal(families.webman_push_events_published, 'counter');
  assert.equal(families.webman_push_api_request_duration_seconds, 'histogram');
});

test('without the bearer token the scrape is refused', async () => {
  const out = await run(VENV_PYTHON, [SCRIPT, `http://127.0.0.1:${server.apiPort}/metrics`], { timeoutMs: 30000 });
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /401/);
});

test('the figures move as a pusher-js client connects, subscribes, receives a published event and leaves', async () => {
  const before = await scrape();
  const opened = before.value('webman_push_connections_opened_total');
  const published = before.value('webman_push_events_published_total', { source: 'http' });
  const delivered = before.value('webman_push_deliveries_total');
  assert.equal(before.value('webman_push_connections'), 0);

  const client = await connectPusherJs(server);
  try {
    const { channel } = await subscribe(client, 'metrics-news');
    const connected = await scrape();
    assert.equal(connected.value('webman_push_connections'), 1);
    assert.equal(connected.value('webman_push_connections_opened_total'), opened + 1);
    assert.equal(connected.value('webman_push_channels', { type: 'public' }), 1);
    assert.equal(connected.value('webman_push_subscriptions'), 1);
    assert.ok(connected.value('webman_push_messages_received_total', { kind: 'subscribe' }) >= 1);

    const events = collect(channel, 'update');
    const res = await apiRequest(server, { path: `/apps/${server.appId}/events`, body: { name: 'update', channel: 'metrics-news', data: '{"n":1}' } });
    assert.equal(res.status, 200, res.text);
    await events.next();
    const afterPublish = await scrape();
    assert.equal(afterPublish.value('webman_push_events_published_total', { source: 'http' }), published + 1);
    assert.equal(afterPublish.value('webman_push_deliveries_total'), delivered + 1);
    assert.ok(afterPublish.value('webman_push_delivered_bytes_total') > 0);
    const requests = afterPublish.value('webman_push_api_requests_total', { app_id: undefined, endpoint: '/apps/{app_id}/events', status: '200' });
    assert.ok(requests >= 1);
    assert.equal(afterPublish.value('webman_push_api_request_duration_seconds_count', { app_id: undefined, endpoint: '/apps/{app_id}/events' }), requests);
  } finally {
    await disconnect(client);
  }
  let left;
  for (let i = 0; i < 100; i++) {
    left = await scrape();
    if (left.value('webman_push_connections') === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(left.value('webman_push_connections'), 0);
  assert.equal(left.value('webman_push_subscriptions'), 0);
  assert.equal(left.value('webman_push_channels', { type: 'public' }), 0);
  // Whatever code pusher-js closed with (1000, or 1005 for a close frame without one).
  assert.equal(left.total('webman_push_connections_closed_total'), before.total('webman_push_connections_closed_total') + 1);
});

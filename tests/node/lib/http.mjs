// Signed requests to the HTTP API, made with plain node:http so a test controls every byte of the
// query (Pusher signing: auth_key, auth_timestamp, auth_version, body_md5, auth_signature).
import http from 'node:http';
import { createHash, createHmac } from 'node:crypto';

export const md5 = (text) => createHash('md5').update(text).digest('hex');
export const hmac = (secret, text) => createHmac('sha256', secret).update(text).digest('hex');

/**
 * The signed query string for a request. `params` are extra query parameters (info, ...).
 * `override` replaces or removes (undefined) auth parameters after signing, to build bad requests.
 */
export function signQuery({ method, path, body = '', key, secret, params = {}, timestamp, override = {} }) {
  const query = {
    auth_key: key,
    auth_timestamp: String(timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    ...params,
  };
  if (body.length > 0) query.body_md5 = md5(body);
  const toSign = Object.keys(query)
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join('&');
  query.auth_signature = hmac(secret, `${method}\n${path}\n${toSign}`);
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) delete query[k];
    else query[k] = v;
  }
  return Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/** Sends one raw HTTP request. Resolves to {status, headers, text, json, localPort}. */
export function rawRequest({ port, method = 'GET', path, body, headers = {}, agent }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body === undefined ? headers : {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const localPort = res.socket?.localPort;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json, localPort });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * A signed request to a started server. `body` may be an object (JSON-encoded) or a string (sent as
 * is). `signPath` signs a different path than the one requested; `override` tampers with auth params.
 */
export function apiRequest(server, { method = 'POST', path, body, params, timestamp, override, signPath, key, secret, agent }) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const query = signQuery({
    method,
    path: signPath ?? path,
    body: text ?? '',
    key: key ?? server.key,
    secret: secret ?? server.secret,
    params,
    timestamp,
    override,
  });
  return rawRequest({ port: server.apiPort, method, path: `${path}?${query}`, body: text, agent });
}

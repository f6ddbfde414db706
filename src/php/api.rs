//! `Webman\Push\Api`: the server-side SDK.
//!
//! webman/push's methods keep their names, argument order and results (`trigger` → bool,
//! `getChannelInfo` → stdClass|false, `get`/`getChannels` → `['body','status','result']`), and
//! the methods pusher-http-php users expect are there too. Every `$data` is JSON-encoded by PHP's
//! own `json_encode` (a string included, as webman/push does), so clients decode what PHP sent.

use super::client::{Endpoint, Reply};
use super::{call_php, json_encode, php_array, push_error, string_zval, JSON_UNESCAPED};
use crate::protocol::channel::SERVER_TO_USER_PREFIX;
use crate::protocol::request_path::{encode_path, encode_segment};
use crate::protocol::signature::{
    auth_token, channel_string_to_sign, user_string_to_sign, verify_hmac_sha256_hex,
};
use crate::protocol::{ChannelKind, ChannelName, SocketId};
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[php_class]
#[php(name = "Webman\\Push\\Api")]
pub struct Api {
    endpoint: Endpoint,
    /// For `private-encrypted-` channels: derives each channel's key (as the Pusher SDKs do).
    encryption_master_key: Option<Vec<u8>>,
}

fn coerce(z: &Zval, what: &str) -> PhpResult<String> {
    z.coerce_to_string()
        .ok_or_else(|| push_error(format!("Invalid {what}: expected a string")))
}

fn valid_channel(channel: &str) -> PhpResult<()> {
    ChannelName::parse(channel, usize::MAX)
        .map(|_| ())
        .map_err(|_| push_error(format!("Invalid channel name {channel}")))
}

fn valid_socket_id(socket_id: &str) -> PhpResult<()> {
    SocketId::parse(socket_id)
        .map(|_| ())
        .ok_or_else(|| push_error(format!("Invalid socket ID {socket_id}")))
}

/// Reads an options/params array into (key, value) strings; arrays are comma-joined as webman does.
fn string_pairs(params: Option<&Zval>) -> PhpResult<Vec<(String, String)>> {
    let Some(table) = params.and_then(Zval::array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in table.iter() {
        let value = match value.array() {
            Some(list) => list
                .values()
                .filter_map(Zval::coerce_to_string)
                .collect::<Vec<_>>()
                .join(","),
            None => coerce(value, "parameter")?,
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

#[php_impl]
impl Api {
    /// `new Api('http://127.0.0.1:3232', $app_key, $app_secret[, $options])`, or the server's
    /// `api_socket` as `'unix:///path/to/webman-push.sock'`; options:
    /// `timeout` (seconds, default 2), `app_id` (default 1024), `encryption_master_key_base64`,
    /// `ca_file` (PEM CA certificates trusted for `https://` instead of the Mozilla roots).
    pub fn __construct(
        api_address: &Zval,
        app_key: &Zval,
        app_secret: &Zval,
        options: Option<&Zval>,
    ) -> PhpResult<Self> {
        let address = coerce(api_address, "api_address")?
            .trim_end_matches('/')
            .to_owned();
        // The address becomes the Host header and the start of every request line.
        let scheme_ok = address.starts_with("http://")
            || address.starts_with("https://")
            || address.starts_with("unix:///");
        if !scheme_ok || address.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(push_error(format!(
                "Invalid api_address {address:?}: expected http://host:port or unix:///path/to/socket"
            )));
        }
        let key = coerce(app_key, "app_key")?;
        let secret = coerce(app_secret, "app_secret")?;
        if key.is_empty() || secret.is_empty() {
            return Err(push_error("app_key and app_secret must not be empty"));
        }
        let options: Map<String, Value> = string_pairs(options)?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let option = |name: &str| options.get(name).and_then(Value::as_str);
        let timeout = match option("timeout") {
            Some(t) => t
                .parse::<f64>()
                .ok()
                .filter(|t| *t > 0.0 && *t < 3600.0)
                .ok_or_else(|| push_error("Invalid timeout: expected seconds greater than 0"))?,
            None => 2.0,
        };
        let encryption_master_key = match option("encryption_master_key_base64") {
            Some(b64) => {
                let key = base64_decode(b64).filter(|k| k.len() == 32).ok_or_else(|| {
                    push_error("encryption_master_key_base64 must be 32 bytes, base64-encoded")
                })?;
                Some(key)
            }
            None => None,
        };
        // Verification stays on: a self-signed setup names its CA instead of turning it off.
        let agent = match option("ca_file") {
            Some(path) => Some(super::client::agent_trusting(path).map_err(push_error)?),
            None => None,
        };
        let app_id = option("app_id").unwrap_or("1024");
        Ok(Api {
            endpoint: Endpoint {
                address,
                base_path: format!("/apps/{}", encode_segment(app_id)),
                key,
                secret,
                timeout: Duration::from_secs_f64(timeout),
                agent,
                last_error: Default::default(),
            },
            encryption_master_key,
        })
    }

    /// Why the last request got no answer (it returned false, or status 0), e.g. a failed
    /// certificate verification; null when the last request was answered.
    pub fn last_error(&self) -> Option<String> {
        self.endpoint.last_error.lock().clone()
    }

    /// Publishes `$data` on one channel or a list. The 4th argument is webman's `$socket_id`,
    /// or pusher-http-php's params array (`socket_id`, `info`). Returns true on success; with
    /// `info`, the decoded answer (`->channels`), false on failure.
    pub fn trigger(
        &self,
        channels: &Zval,
        event: &Zval,
        data: &Zval,
        socket_id: Option<&Zval>,
    ) -> PhpResult<Zval> {
        let channels: Vec<String> = match channels.array() {
            Some(list) => list
                .values()
                .map(|v| {
                    v.coerce_to_string()
                        .ok_or_else(|| push_error("Invalid channels: every channel must be a string"))
                })
                .collect::<PhpResult<_>>()?,
            None => vec![coerce(channels, "channels")?],
        };
        let mut body = json!({ "name": coerce(event, "event")?, "channels": channels });
        body["data"] = Value::String(self.encode_data(&channels, data)?);
        let mut info = None;
        match socket_id.filter(|z| !z.is_null()) {
            Some(params) if params.array().is_some() => {
                for (k, v) in string_pairs(Some(params))? {
                    if k == "info" {
                        info = Some(v.clone());
                    }
                    body[k] = Value::String(v);
                }
            }
            Some(sid) => body["socket_id"] = Value::String(coerce(sid, "socket_id")?),
            None => {}
        }
        let reply = self
            .endpoint
            .request("POST", "/events", &[], body.to_string().as_bytes());
        self.publish_result(reply, info.is_some())
    }

    /// Publishes several events in one request: a list of `['channel','name','data'[,'socket_id','info']]`.
    pub fn trigger_batch(&self, batch: &Zval, already_encoded: Option<bool>) -> PhpResult<Zval> {
        let list = batch
            .array()
            .ok_or_else(|| push_error("triggerBatch expects a list of events"))?;
        let mut events = Vec::new();
        let mut wants_info = false;
        for item in list.values() {
            let table = item
                .array()
                .ok_or_else(|| push_error("Each batch event must be an array"))?;
            let mut event = Map::new();
            for (k, v) in table.iter() {
                let k = k.to_string();
                let value = if k == "data" {
                    if already_encoded == Some(true) {
                        coerce(v, "data")?
                    } else {
                        let channel = table
                            .get("channel")
                            .and_then(Zval::coerce_to_string)
                            .unwrap_or_default();
                        self.encode_data(&[channel], v)?
                    }
                } else {
                    coerce(v, &k)?
                };
                wants_info |= k == "info";
                event.insert(k, Value::String(value));
            }
            events.push(Value::Object(event));
        }
        let body = json!({ "batch": events }).to_string();
        let reply = self
            .endpoint
            .request("POST", "/batch_events", &[], body.as_bytes());
        self.publish_result(reply, wants_info)
    }

    /// Sends an event to every connection signed in as `$user_id`.
    pub fn send_to_user(&self, user_id: &Zval, event: &Zval, data: &Zval) -> PhpResult<Zval> {
        let channel = string_zval(&format!("{SERVER_TO_USER_PREFIX}{}", coerce(user_id, "user_id")?))?;
        self.trigger(&channel, event, data, None)
    }

    /// Closes every connection signed in as `$user_id`; true when the server accepted it.
    pub fn terminate_user_connections(&self, user_id: &Zval) -> PhpResult<bool> {
        let user = coerce(user_id, "user_id")?;
        let path = format!("/users/{}/terminate_connections", encode_segment(&user));
        Ok(self.endpoint.request("POST", &path, &[], b"{}").status == 200)
    }

    /// Signed GET of any API path: `['body' => …, 'status' => …, 'result' => decoded (on 200)]`.
    pub fn get(&self, path: &Zval, params: Option<&Zval>) -> PhpResult<Zval> {
        let path = request_path(path)?;
        let reply = self.endpoint.request("GET", &path, &string_pairs(params)?, b"");
        reply_array(reply)
    }

    /// Signed POST of `$body` (an array, JSON-encoded) to any API path, answered like `get()`.
    pub fn post(&self, path: &Zval, body: &Zval, params: Option<&Zval>) -> PhpResult<Zval> {
        let path = request_path(path)?;
        let body = json_encode(body, JSON_UNESCAPED)?;
        let reply = self
            .endpoint
            .request("POST", &path, &string_pairs(params)?, body.as_bytes());
        reply_array(reply)
    }

    /// Channel attributes as a stdClass (`->occupied`, `->user_count`, `->subscription_count`), or false.
    pub fn get_channel_info(&self, channel: &Zval, params: Option<&Zval>) -> PhpResult<Zval> {
        let channel = coerce(channel, "channel")?;
        valid_channel(&channel)?;
        let reply = self.endpoint.request(
            "GET",
            &format!("/channels/{}", encode_segment(&channel)),
            &string_pairs(params)?,
            b"",
        );
        decoded_or_false(reply)
    }

    /// The channel list, as webman/push returns it: `get('/channels', $params)`.
    pub fn get_channels(&self, params: Option<&Zval>) -> PhpResult<Zval> {
        let reply = self
            .endpoint
            .request("GET", "/channels", &string_pairs(params)?, b"");
        reply_array(reply)
    }

    /// A presence channel's members as a stdClass (`->users`, each with `->id`), or false.
    pub fn get_presence_users(&self, channel: &Zval) -> PhpResult<Zval> {
        let channel = coerce(channel, "channel")?;
        valid_channel(&channel)?;
        decoded_or_false(self.endpoint.request(
            "GET",
            &format!("/channels/{}/users", encode_segment(&channel)),
            &[],
            b"",
        ))
    }

    /// The auth endpoint's answer for a private channel (or any channel with `$custom_data`).
    pub fn socket_auth(
        &self,
        channel: &Zval,
        socket_id: &Zval,
        custom_data: Option<&Zval>,
    ) -> PhpResult<String> {
        let channel = coerce(channel, "channel")?;
        let socket_id = coerce(socket_id, "socket_id")?;
        valid_channel(&channel)?;
        valid_socket_id(&socket_id)?;
        // webman/push tests `if ($custom_data)`: "" and "0" mean none.
        let custom = match custom_data.filter(|z| z.coerce_to_bool()) {
            Some(z) => Some(coerce(z, "custom_data")?),
            None => None,
        };
        let signed = channel_string_to_sign(&socket_id, &channel, custom.as_deref());
        let mut entries = vec![(
            "auth",
            string_zval(&auth_token(&self.endpoint.key, &self.endpoint.secret, &signed))?,
        )];
        if let Some(c) = &custom {
            entries.push(("channel_data", string_zval(c)?));
        }
        if ChannelKind::of(&channel) == ChannelKind::PrivateEncrypted {
            if let Some(secret) = self.channel_secret(&channel) {
                entries.push(("shared_secret", string_zval(&base64_encode(&secret))?));
            }
        }
        json_encode(&php_array(entries)?, 0)
    }

    /// The auth endpoint's answer for a presence channel; `$user_info` is included only when truthy.
    pub fn presence_auth(
        &self,
        channel: &Zval,
        socket_id: &Zval,
        user_id: &Zval,
        user_info: Option<&Zval>,
    ) -> PhpResult<String> {
        let mut entries = vec![("user_id", user_id.shallow_clone())];
        if let Some(info) = user_info.filter(|z| z.coerce_to_bool()) {
            entries.push(("user_info", info.shallow_clone()));
        }
        let channel_data = string_zval(&json_encode(&php_array(entries)?, 0)?)?;
        self.socket_auth(channel, socket_id, Some(&channel_data))
    }

    /// pusher-http-php's name for `socketAuth`.
    pub fn authorize_channel(
        &self,
        channel: &Zval,
        socket_id: &Zval,
        custom_data: Option<&Zval>,
    ) -> PhpResult<String> {
        self.socket_auth(channel, socket_id, custom_data)
    }

    /// pusher-http-php's name for `presenceAuth`.
    pub fn authorize_presence_channel(
        &self,
        channel: &Zval,
        socket_id: &Zval,
        user_id: &Zval,
        user_info: Option<&Zval>,
    ) -> PhpResult<String> {
        self.presence_auth(channel, socket_id, user_id, user_info)
    }

    /// The user-authentication endpoint's answer for `pusher:signin`; `$user_data` needs an `id`.
    pub fn authenticate_user(&self, socket_id: &Zval, user_data: &Zval) -> PhpResult<String> {
        let socket_id = coerce(socket_id, "socket_id")?;
        valid_socket_id(&socket_id)?;
        let has_id = user_data
            .array()
            .and_then(|t| t.get("id"))
            .and_then(Zval::coerce_to_string)
            .is_some_and(|id| !id.is_empty());
        if !has_id {
            return Err(push_error("user_data must be an array with a non-empty 'id'"));
        }
        let user_json = json_encode(user_data, 0)?;
        let auth = auth_token(
            &self.endpoint.key,
            &self.endpoint.secret,
            &user_string_to_sign(&socket_id, &user_json),
        );
        json_encode(
            &php_array(vec![
                ("auth", string_zval(&auth)?),
                ("user_data", string_zval(&user_json)?),
            ])?,
            0,
        )
    }

    /// Checks a webhook request (`X-Pusher-Key`, `X-Pusher-Signature`, constant time) and returns
    /// its decoded body as an array, or false when it is not from this app.
    pub fn verify_webhook(&self, headers: &Zval, body: &Zval) -> PhpResult<Zval> {
        let body = coerce(body, "body")?;
        let headers = string_pairs(Some(headers))?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let genuine = header("x-pusher-key") == Some(self.endpoint.key.as_str())
            && header("x-pusher-signature")
                .is_some_and(|sig| verify_hmac_sha256_hex(&self.endpoint.secret, &body, sig));
        if !genuine {
            return Ok(false_zval());
        }
        call_php("json_decode", vec![&string_zval(&body)?, &true])
    }
}

impl Api {
    /// `$data` as the string that goes into an event: JSON-encoded, and encrypted for a
    /// `private-encrypted-` channel.
    fn encode_data(&self, channels: &[String], data: &Zval) -> PhpResult<String> {
        let encoded = json_encode(data, JSON_UNESCAPED)?;
        let encrypted: Vec<&String> = channels
            .iter()
            .filter(|c| ChannelKind::of(c) == ChannelKind::PrivateEncrypted)
            .collect();
        match encrypted.as_slice() {
            [] => Ok(encoded),
            [channel] if channels.len() == 1 => self.encrypt(channel, &encoded),
            _ => Err(push_error(
                "An encrypted channel must be the only channel of a trigger",
            )),
        }
    }

    /// NaCl secretbox with the channel's key, via PHP's sodium, as `{"nonce","ciphertext"}`.
    fn encrypt(&self, channel: &str, plaintext: &str) -> PhpResult<String> {
        let key = self.channel_secret(channel).ok_or_else(|| {
            push_error("Triggering on private-encrypted- channels needs encryption_master_key_base64")
        })?;
        let nonce = call_php("random_bytes", vec![&24i64])?;
        let key = binary_zval(&key)?;
        let sealed = call_php(
            "sodium_crypto_secretbox",
            vec![&string_zval(plaintext)?, &nonce, &key],
        )?;
        let nonce = nonce.binary::<u8>().unwrap_or_default();
        let sealed = sealed
            .binary::<u8>()
            .ok_or_else(|| push_error("sodium_crypto_secretbox failed"))?;
        Ok(json!({ "nonce": base64_encode(&nonce), "ciphertext": base64_encode(&sealed) }).to_string())
    }

    /// SHA-256 of channel name + master key: the key pusher-js receives as `shared_secret`.
    fn channel_secret(&self, channel: &str) -> Option<Vec<u8>> {
        let master = self.encryption_master_key.as_ref()?;
        let mut h = Sha256::new();
        h.update(channel.as_bytes());
        h.update(master);
        Some(h.finalize().to_vec())
    }

    fn publish_result(&self, reply: Reply, wants_info: bool) -> PhpResult<Zval> {
        let mut z = Zval::new();
        if !wants_info || reply.status != 200 {
            z.set_bool(reply.status == 200);
            return Ok(z);
        }
        call_php("json_decode", vec![&string_zval(&reply.body)?])
    }
}

fn false_zval() -> Zval {
    let mut z = Zval::new();
    z.set_bool(false);
    z
}

fn binary_zval(bytes: &[u8]) -> PhpResult<Zval> {
    let mut z = Zval::new();
    z.set_binary(bytes.to_vec());
    Ok(z)
}

/// webman/push's shape: `['body' => string|false, 'status' => int, 'result' => array (on 200)]`.
fn reply_array(reply: Reply) -> PhpResult<Zval> {
    let mut status = Zval::new();
    status.set_long(i64::from(reply.status));
    let body = if reply.status == 0 {
        false_zval()
    } else {
        string_zval(&reply.body)?
    };
    let mut entries = vec![("body", body), ("status", status)];
    if reply.status == 200 {
        entries.push((
            "result",
            call_php("json_decode", vec![&string_zval(&reply.body)?, &true])?,
        ));
    }
    php_array(entries)
}

fn decoded_or_false(reply: Reply) -> PhpResult<Zval> {
    if reply.status != 200 {
        return Ok(false_zval());
    }
    call_php("json_decode", vec![&string_zval(&reply.body)?])
}

/// `get()`/`post()`'s `$path`, percent-encoded for the request line.
fn request_path(path: &Zval) -> PhpResult<String> {
    let path = coerce(path, "path")?;
    encode_path(&path).map_err(|e| push_error(format!("Invalid path {path:?}: {e}")))
}

/// PHP's own base64, so the Api needs no extra crate for it.
fn base64_encode(bytes: &[u8]) -> String {
    binary_zval(bytes)
        .and_then(|z| call_php("base64_encode", vec![&z]))
        .ok()
        .and_then(|z| z.string())
        .unwrap_or_default()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let z = call_php("base64_decode", vec![&string_zval(s).ok()?, &true]).ok()?;
    z.binary::<u8>()
}

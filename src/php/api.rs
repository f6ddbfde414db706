//! `Webman\Push\Api`: the server-side SDK.
//!
//! webman/push's methods keep their names, argument order and results (`trigger` → bool,
//! `getChannelInfo` → stdClass|false, `get`/`getChannels` → `['body','status','result']`), and
//! the methods pusher-http-php users expect are there too. Every `$data` is JSON-encoded by PHP's
//! own `json_encode` (a string included, as webman/push does), so clients decode what PHP sent.
//!
//! This file only converts: bodies, auth answers, encryption and webhook checks are
//! [`crate::sdk`]'s, requests go through [`super::client`], and the zval conversions are in
//! [`super::api_values`]. A request that got no answer returns false (status 0 from `get()`, with
//! `'error'`), and `lastError()` says why.

use super::api_values::{
    coerce, decoded_or_false, false_zval, invalid, publish_result, reply_array, request_path, sodium_seal,
    string_pairs,
};
use super::client::Endpoint;
use super::{call_php, json_encode, php_array, push_error, string_zval, JSON_UNESCAPED};
use crate::protocol::request_path::encode_segment;
use crate::sdk::auth::{self, Credentials};
use crate::sdk::encryption::{self, EncryptError, MasterKey};
use crate::sdk::publish::{self, check_channel, check_socket_id};
use crate::sdk::settings::ApiSettings;
use crate::sdk::webhook;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

#[php_class]
#[php(name = "Webman\\Push\\Api")]
pub struct Api {
    endpoint: Endpoint,
    /// For `private-encrypted-` channels: derives each channel's key (as the Pusher SDKs do).
    master_key: Option<MasterKey>,
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
        let address = coerce(api_address, "api_address")?;
        let key = coerce(app_key, "app_key")?;
        let secret = coerce(app_secret, "app_secret")?;
        let options = string_pairs(options)?;
        let settings = ApiSettings::new(&address, key, secret, &options).map_err(invalid)?;
        // Verification stays on: a self-signed setup names its CA instead of turning it off.
        let agent = match options.iter().find(|(k, _)| k == "ca_file") {
            Some((_, path)) => Some(super::client::agent_trusting(path).map_err(push_error)?),
            None => None,
        };
        Ok(Api {
            endpoint: Endpoint {
                address: settings.address,
                base_path: settings.base_path,
                key: settings.key,
                secret: settings.secret,
                timeout: settings.timeout,
                agent,
                last_error: Default::default(),
            },
            master_key: settings.master_key,
        })
    }

    /// Why the last request got no answer (it returned false, or status 0), e.g. a refused
    /// connection or a failed certificate verification; null when the last request was answered.
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
        let event = coerce(event, "event")?;
        let data = self.encode_data(&channels, data)?;
        let extra = match socket_id.filter(|z| !z.is_null()) {
            Some(params) if params.array().is_some() => string_pairs(Some(params))?,
            Some(sid) => vec![("socket_id".to_owned(), coerce(sid, "socket_id")?)],
            None => Vec::new(),
        };
        let body = publish::trigger_body(&event, &channels, &data, &extra);
        let reply = self.endpoint.request("POST", "/events", &[], &body);
        publish_result(reply, publish::wants_info(&extra))
    }

    /// Publishes several events in one request: a list of `['channel','name','data'[,'socket_id','info']]`.
    pub fn trigger_batch(&self, batch: &Zval, already_encoded: Option<bool>) -> PhpResult<Zval> {
        let list = batch
            .array()
            .ok_or_else(|| push_error("triggerBatch expects a list of events"))?;
        let mut events = Vec::with_capacity(list.len());
        let mut wants_info = false;
        for item in list.values() {
            let table = item
                .array()
                .ok_or_else(|| push_error("Each batch event must be an array"))?;
            let mut event = Vec::with_capacity(table.len());
            for (k, v) in table.iter() {
                let k = k.to_string();
                let value = match k.as_str() {
                    "data" if already_encoded == Some(true) => coerce(v, "data")?,
                    "data" => {
                        let channel = table
                            .get("channel")
                            .and_then(Zval::coerce_to_string)
                            .unwrap_or_default();
                        self.encode_data(&[channel], v)?
                    }
                    _ => coerce(v, &k)?,
                };
                event.push((k, value));
            }
            wants_info |= publish::wants_info(&event);
            events.push(event);
        }
        let body = publish::batch_body(&events);
        let reply = self.endpoint.request("POST", "/batch_events", &[], &body);
        publish_result(reply, wants_info)
    }

    /// Sends an event to every connection signed in as `$user_id`.
    pub fn send_to_user(&self, user_id: &Zval, event: &Zval, data: &Zval) -> PhpResult<Zval> {
        let channel = string_zval(&publish::user_channel(&coerce(user_id, "user_id")?))?;
        self.trigger(&channel, event, data, None)
    }

    /// Closes every connection signed in as `$user_id`; true when the server accepted it.
    pub fn terminate_user_connections(&self, user_id: &Zval) -> PhpResult<bool> {
        let user = coerce(user_id, "user_id")?;
        let path = format!("/users/{}/terminate_connections", encode_segment(&user));
        Ok(self.endpoint.request("POST", &path, &[], b"{}").status == 200)
    }

    /// Signed GET of any API path: `['body' => …, 'status' => …, 'result' => decoded (on 200)]`,
    /// and `'error' => why` when the server could not be reached (status 0).
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
        check_channel(&channel).map_err(invalid)?;
        let path = format!("/channels/{}", encode_segment(&channel));
        decoded_or_false(self.endpoint.request("GET", &path, &string_pairs(params)?, b""))
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
        check_channel(&channel).map_err(invalid)?;
        let path = format!("/channels/{}/users", encode_segment(&channel));
        decoded_or_false(self.endpoint.request("GET", &path, &[], b""))
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
        // Checked before `$custom_data` is read, so a bad name is what an app hears first.
        check_channel(&channel).map_err(invalid)?;
        check_socket_id(&socket_id).map_err(invalid)?;
        // webman/push tests `if ($custom_data)`: "" and "0" mean none.
        let custom = match custom_data.filter(|z| z.coerce_to_bool()) {
            Some(z) => Some(coerce(z, "custom_data")?),
            None => None,
        };
        auth::channel_auth(
            self.credentials(),
            &channel,
            &socket_id,
            custom.as_deref(),
            self.master_key.as_ref(),
        )
        .map_err(invalid)
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
        check_socket_id(&socket_id).map_err(invalid)?;
        let has_id = user_data
            .array()
            .and_then(|t| t.get("id"))
            .and_then(Zval::coerce_to_string)
            .is_some_and(|id| !id.is_empty());
        if !has_id {
            return Err(push_error("user_data must be an array with a non-empty 'id'"));
        }
        let user_json = json_encode(user_data, 0)?;
        auth::user_auth(self.credentials(), &socket_id, &user_json).map_err(invalid)
    }

    /// Checks a webhook request (`X-Pusher-Key`, `X-Pusher-Signature`, constant time) and returns
    /// its decoded body as an array, or false when it is not from this app.
    pub fn verify_webhook(&self, headers: &Zval, body: &Zval) -> PhpResult<Zval> {
        let body = coerce(body, "body")?;
        let headers = string_pairs(Some(headers))?;
        let app = self.credentials();
        if webhook::verify(app.key, app.secret, &headers, &body).is_err() {
            return Ok(false_zval());
        }
        call_php("json_decode", vec![&string_zval(&body)?, &true])
    }
}

impl Api {
    fn credentials(&self) -> Credentials<'_> {
        Credentials {
            key: &self.endpoint.key,
            secret: &self.endpoint.secret,
        }
    }

    /// `$data` as the string that goes into an event: JSON-encoded, and encrypted for a
    /// `private-encrypted-` channel.
    fn encode_data(&self, channels: &[String], data: &Zval) -> PhpResult<String> {
        let encoded = json_encode(data, JSON_UNESCAPED)?;
        match encryption::encrypted_channel(channels).map_err(invalid)? {
            None => Ok(encoded),
            Some(channel) => encryption::encrypt(self.master_key.as_ref(), channel, &encoded, sodium_seal)
                .map_err(|e| match e {
                    EncryptError::NoMasterKey(e) => invalid(e),
                    EncryptError::Seal(e) => e,
                }),
        }
    }
}

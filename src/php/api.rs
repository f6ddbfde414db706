//! `Webman\Push\Api`: the server-side SDK, with webman/push's method names and argument order.
//!
//! Requests go over HTTP with one keep-alive agent shared by every Api object in the process
//! (as the original shares one curl handle), signed as Pusher's HTTP API requires.

use super::{json_encode, php_array, push_error, JSON_UNESCAPED};
use crate::protocol::signature::{auth_token, channel_string_to_sign, sign_api_request};
use crate::protocol::{ChannelName, SocketId};
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use std::sync::OnceLock;
use std::time::Duration;

/// webman/push's Api signs every path under this app id; the server finds the app by key.
const BASE_PATH: &str = "/apps/1024";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(DEFAULT_TIMEOUT))
            .build()
            .new_agent()
    })
}

#[php_class]
#[php(name = "Webman\\Push\\Api")]
pub struct Api {
    api_address: String,
    app_key: String,
    app_secret: String,
}

fn coerce(z: &Zval, what: &str) -> PhpResult<String> {
    z.coerce_to_string()
        .ok_or_else(|| push_error(format!("Invalid {what}: expected a string")))
}

#[php_impl]
impl Api {
    /// `new Api('http://127.0.0.1:3232', $app_key, $app_secret)`.
    pub fn __construct(api_address: &Zval, app_key: &Zval, app_secret: &Zval) -> PhpResult<Self> {
        let api_address = coerce(api_address, "api_address")?
            .trim_end_matches('/')
            .to_owned();
        if !(api_address.starts_with("http://") || api_address.starts_with("https://")) {
            return Err(push_error(format!(
                "Invalid api_address {api_address:?}: expected http://host:port"
            )));
        }
        let app_key = coerce(app_key, "app_key")?;
        let app_secret = coerce(app_secret, "app_secret")?;
        if app_key.is_empty() || app_secret.is_empty() {
            return Err(push_error("app_key and app_secret must not be empty"));
        }
        Ok(Api {
            api_address,
            app_key,
            app_secret,
        })
    }

    /// Publishes `$data` (JSON-encoded, a string included, as webman/push does) on one channel or
    /// a list of channels; true when the server accepted it.
    pub fn trigger(
        &self,
        channels: &Zval,
        event: &Zval,
        data: &Zval,
        socket_id: Option<&Zval>,
    ) -> PhpResult<bool> {
        let channels: Vec<String> = if let Some(list) = channels.array() {
            list.values()
                .map(|v| {
                    v.coerce_to_string()
                        .ok_or_else(|| push_error("Invalid channels: every channel must be a string"))
                })
                .collect::<PhpResult<_>>()?
        } else {
            vec![coerce(channels, "channels")?]
        };
        let event = coerce(event, "event")?;
        let data = json_encode(data, JSON_UNESCAPED)?;
        let mut body = serde_json::json!({ "name": event, "data": data, "channels": channels });
        if let Some(sid) = socket_id.filter(|z| !z.is_null()) {
            body["socket_id"] = serde_json::Value::String(coerce(sid, "socket_id")?);
        }
        let status = self.post("/events", body.to_string().as_bytes())?;
        Ok(status == 200)
    }

    /// The body an auth endpoint returns for a private channel (or any channel with `$custom_data`).
    pub fn socket_auth(
        &self,
        channel: &Zval,
        socket_id: &Zval,
        custom_data: Option<&Zval>,
    ) -> PhpResult<String> {
        let channel = coerce(channel, "channel")?;
        let socket_id = coerce(socket_id, "socket_id")?;
        ChannelName::parse(&channel, usize::MAX)
            .map_err(|_| push_error(format!("Invalid channel name {channel}")))?;
        SocketId::parse(&socket_id).ok_or_else(|| push_error(format!("Invalid socket ID {socket_id}")))?;
        // webman/push tests `if ($custom_data)`: "" and "0" mean none.
        let custom = match custom_data.filter(|z| z.coerce_to_bool()) {
            Some(z) => Some(coerce(z, "custom_data")?),
            None => None,
        };
        let auth = auth_token(
            &self.app_key,
            &self.app_secret,
            &channel_string_to_sign(&socket_id, &channel, custom.as_deref()),
        );
        let mut entries = vec![("auth", string_zval(&auth)?)];
        if let Some(c) = &custom {
            entries.push(("channel_data", string_zval(c)?));
        }
        json_encode(&php_array(entries)?, 0)
    }

    /// The auth body for a presence channel; `$user_info` is included only when truthy.
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
        let channel_data = json_encode(&php_array(entries)?, 0)?;
        let data_zval = string_zval(&channel_data)?;
        self.socket_auth(channel, socket_id, Some(&data_zval))
    }
}

impl Api {
    /// Signed POST of a JSON body under the app's base path; returns the HTTP status (0 when the
    /// server could not be reached, as curl reports it).
    fn post(&self, path: &str, body: &[u8]) -> PhpResult<u16> {
        let full_path = format!("{BASE_PATH}{path}");
        let query = sign_api_request(
            &self.app_key,
            &self.app_secret,
            "POST",
            &full_path,
            body,
            unix_now(),
            &[],
        );
        let url = format!("{}{full_path}?{query}", self.api_address);
        match agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
        {
            Ok(mut response) => {
                // Read the body so the connection goes back to the pool.
                let _ = response.body_mut().read_to_vec();
                Ok(response.status().as_u16())
            }
            Err(_) => Ok(0),
        }
    }
}

fn string_zval(s: &str) -> PhpResult<Zval> {
    let mut z = Zval::new();
    z.set_string(s, false).map_err(|e| push_error(e.to_string()))?;
    Ok(z)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

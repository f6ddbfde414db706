//! What `new Api($address, $key, $secret, $options)` accepts: the address forms, non-empty
//! credentials, the `timeout`, `app_id` and `encryption_master_key_base64` options.
//!
//! Checked once, when the Api is built, so that a typo fails there with a message naming the
//! argument instead of at the first publish. (`ca_file` is read by the binding: it is a file.)

use super::encryption::MasterKey;
use super::InvalidArgument;
use crate::protocol::request_path::encode_segment;
use std::time::Duration;

/// Seconds an Api waits for an answer unless `timeout` says otherwise (webman/push's curl timeout).
pub const DEFAULT_TIMEOUT_SECS: f64 = 2.0;

/// webman/push's hard-coded app id, the default of `app_id`.
pub const DEFAULT_APP_ID: &str = "1024";

/// An Api's checked settings.
#[derive(Debug)]
pub struct ApiSettings {
    /// `http(s)://host:port[/prefix]` or `unix:///path`, without a trailing slash.
    pub address: String,
    pub key: String,
    pub secret: String,
    /// `/apps/{app_id}`, the prefix of every API path.
    pub base_path: String,
    pub timeout: Duration,
    pub master_key: Option<MasterKey>,
}

impl ApiSettings {
    /// Checks the constructor's arguments; `options` are its 4th argument as strings.
    pub fn new(
        address: &str,
        key: String,
        secret: String,
        options: &[(String, String)],
    ) -> Result<ApiSettings, InvalidArgument> {
        let address = address.trim_end_matches('/');
        // The address becomes the Host header and the start of every request line.
        let scheme_ok = address.starts_with("http://")
            || address.starts_with("https://")
            || address.starts_with("unix:///");
        if !scheme_ok || address.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(InvalidArgument(format!(
                "Invalid api_address {address:?}: expected http://host:port or unix:///path/to/socket"
            )));
        }
        if key.is_empty() || secret.is_empty() {
            return Err(InvalidArgument("app_key and app_secret must not be empty".into()));
        }
        let option = |name: &str| options.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let timeout = match option("timeout") {
            Some(t) => t
                .parse::<f64>()
                .ok()
                .filter(|t| *t > 0.0 && *t < 3600.0)
                .ok_or_else(|| InvalidArgument("Invalid timeout: expected seconds greater than 0".into()))?,
            None => DEFAULT_TIMEOUT_SECS,
        };
        let master_key = option("encryption_master_key_base64")
            .map(MasterKey::from_base64)
            .transpose()?;
        let app_id = option("app_id").unwrap_or(DEFAULT_APP_ID);
        Ok(ApiSettings {
            address: address.to_owned(),
            key,
            secret,
            base_path: format!("/apps/{}", encode_segment(app_id)),
            timeout: Duration::from_secs_f64(timeout),
            master_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(address: &str, options: &[(&str, &str)]) -> Result<ApiSettings, InvalidArgument> {
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ApiSettings::new(address, "key".into(), "secret".into(), &options)
    }

    #[test]
    fn defaults_are_webman_push_ones() {
        let s = settings("http://127.0.0.1:3232/", &[]).unwrap();
        assert_eq!(s.address, "http://127.0.0.1:3232");
        assert_eq!(s.base_path, "/apps/1024");
        assert_eq!(s.timeout, Duration::from_secs(2));
        assert!(s.master_key.is_none());
    }

    #[test]
    fn addresses_are_http_https_or_a_unix_socket_without_spaces_or_controls() {
        for ok in ["http://h:1", "https://h:1/prefix", "unix:///run/push.sock"] {
            assert!(settings(ok, &[]).is_ok(), "{ok}");
        }
        for bad in [
            "nope",
            "ftp://h:1",
            "unix://relative",
            "http://h:1/a b",
            "http://h:1\r\nX: y",
        ] {
            let e = settings(bad, &[]).unwrap_err();
            assert!(e.0.starts_with("Invalid api_address"), "{bad}: {e}");
        }
    }

    #[test]
    fn empty_credentials_are_refused() {
        let e = ApiSettings::new("http://h:1", String::new(), "s".into(), &[]).unwrap_err();
        assert_eq!(e.0, "app_key and app_secret must not be empty");
    }

    #[test]
    fn options_set_timeout_app_id_and_master_key() {
        let s = settings(
            "http://h:1",
            &[
                ("timeout", "0.25"),
                ("app_id", "a/b"),
                (
                    "encryption_master_key_base64",
                    "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
                ),
            ],
        )
        .unwrap();
        assert_eq!(s.timeout, Duration::from_millis(250));
        assert_eq!(s.base_path, "/apps/a%2Fb");
        assert!(s.master_key.is_some());
        for bad in ["0", "-1", "3600", "soon", "NaN"] {
            let e = settings("http://h:1", &[("timeout", bad)]).unwrap_err();
            assert_eq!(e.0, "Invalid timeout: expected seconds greater than 0", "{bad}");
        }
    }
}

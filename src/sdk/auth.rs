//! The auth endpoint's answers: what an application returns to pusher-js for a private, presence
//! or encrypted channel (`socketAuth`, `presenceAuth`) and for a user sign-in (`authenticateUser`).
//!
//! The signed strings and tokens are [`crate::protocol::signature`]'s, the functions the server
//! checks `pusher:subscribe` and `pusher:signin` with, so what is signed here is what is verified
//! there. The JSON is written as PHP's `json_encode($answer, 0)` writes it (`\/`, `\uXXXX`):
//! applications moving from webman/push compare these answers byte for byte.

use super::encryption::{shared_secret, MasterKey};
use super::publish::{check_channel, check_socket_id};
use super::{php_json, InvalidArgument};
use crate::protocol::signature::{auth_token, channel_string_to_sign, user_string_to_sign};
use crate::protocol::ChannelKind;

/// The app a token is signed for.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub key: &'a str,
    pub secret: &'a str,
}

/// `{"auth"[,"channel_data"][,"shared_secret"]}` for subscribing `socket_id` to `channel`.
/// `channel_data` (a presence member's JSON, or any custom data) is signed and echoed; an
/// encrypted channel also gets its key when the app has a master key.
pub fn channel_auth(
    app: Credentials<'_>,
    channel: &str,
    socket_id: &str,
    channel_data: Option<&str>,
    master: Option<&MasterKey>,
) -> Result<String, InvalidArgument> {
    check_channel(channel)?;
    check_socket_id(socket_id)?;
    let signed = channel_string_to_sign(socket_id, channel, channel_data);
    let auth = auth_token(app.key, app.secret, &signed);
    let secret = match master {
        Some(master) if ChannelKind::of(channel) == ChannelKind::PrivateEncrypted => {
            Some(shared_secret(&master.channel_key(channel)))
        }
        _ => None,
    };
    let mut fields = vec![("auth", auth.as_str())];
    if let Some(data) = channel_data {
        fields.push(("channel_data", data));
    }
    if let Some(secret) = &secret {
        fields.push(("shared_secret", secret));
    }
    Ok(php_json::string_object(&fields))
}

/// `{"auth","user_data"}` for signing `socket_id` in as the user `user_data` describes (JSON
/// with an `id`, encoded by the caller).
pub fn user_auth(app: Credentials<'_>, socket_id: &str, user_data: &str) -> Result<String, InvalidArgument> {
    check_socket_id(socket_id)?;
    let auth = auth_token(app.key, app.secret, &user_string_to_sign(socket_id, user_data));
    Ok(php_json::string_object(&[
        ("auth", &auth),
        ("user_data", user_data),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signature::verify_auth_token;

    const WEBMAN: Credentials = Credentials {
        key: "app-key-123",
        secret: "app-secret-456",
    };
    const PUSHER_DOCS: Credentials = Credentials {
        key: "278d425bdf160c739803",
        secret: "7ad3773142a6692b25b8",
    };

    #[test]
    fn private_channel_auth_is_webman_push_reference_answer() {
        assert_eq!(
            channel_auth(WEBMAN, "private-user-1", "1.5", None, None).unwrap(),
            r#"{"auth":"app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"}"#
        );
    }

    #[test]
    fn private_channel_auth_matches_the_pusher_docs_vector() {
        let answer = channel_auth(PUSHER_DOCS, "private-foobar", "1234.1234", None, None).unwrap();
        assert_eq!(
            answer,
            r#"{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}"#
        );
    }

    #[test]
    fn presence_auth_signs_and_echoes_channel_data_php_escaped() {
        // webman/push's presence vector; PHP escapes the quotes and nothing else here.
        let data = r#"{"user_id":100,"user_info":{"name":"Tom"}}"#;
        assert_eq!(
            channel_auth(WEBMAN, "presence-room", "1.5", Some(data), None).unwrap(),
            concat!(
                r#"{"auth":"app-key-123:dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea","#,
                r#""channel_data":"{\"user_id\":100,\"user_info\":{\"name\":\"Tom\"}}"}"#
            )
        );
    }

    #[test]
    fn the_token_verifies_as_the_server_checks_it() {
        let answer = channel_auth(WEBMAN, "private-a", "7.8", Some("x/y"), None).unwrap();
        let value: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(value["channel_data"], "x/y");
        let to_sign = channel_string_to_sign("7.8", "private-a", Some("x/y"));
        assert!(verify_auth_token(
            WEBMAN.key,
            WEBMAN.secret,
            &to_sign,
            value["auth"].as_str().unwrap()
        ));
    }

    #[test]
    fn an_encrypted_channel_gets_its_shared_secret_when_there_is_a_master_key() {
        let master = MasterKey::from_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=").unwrap();
        let answer = channel_auth(WEBMAN, "private-encrypted-x", "1.5", None, Some(&master)).unwrap();
        // The key's '/' is escaped as PHP escapes it.
        assert!(
            answer.ends_with(r#","shared_secret":"mA1o1C9jkj3s\/HiI3zFDn3BLY7n3xqf+o7KgA669cZo="}"#),
            "{answer}"
        );
        let plain = channel_auth(WEBMAN, "private-x", "1.5", None, Some(&master)).unwrap();
        assert!(!plain.contains("shared_secret"));
        let no_master = channel_auth(WEBMAN, "private-encrypted-x", "1.5", None, None).unwrap();
        assert!(!no_master.contains("shared_secret"));
    }

    #[test]
    fn channel_auth_refuses_bad_names_before_signing() {
        assert_eq!(
            channel_auth(WEBMAN, "private a", "1.5", None, None)
                .unwrap_err()
                .0,
            "Invalid channel name private a"
        );
        assert_eq!(
            channel_auth(WEBMAN, "private-a", "1.5\n", None, None)
                .unwrap_err()
                .0,
            "Invalid socket ID 1.5\n"
        );
    }

    #[test]
    fn user_auth_matches_the_pusher_docs_vector() {
        assert_eq!(
            user_auth(PUSHER_DOCS, "1234.1234", r#"{"id":"12345"}"#).unwrap(),
            concat!(
                r#"{"auth":"278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba","#,
                r#""user_data":"{\"id\":\"12345\"}"}"#
            )
        );
        assert!(user_auth(PUSHER_DOCS, "x", "{}").is_err());
    }
}

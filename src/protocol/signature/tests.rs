use super::*;
use crate::protocol::query::Params;

const KEY: &str = "278d425bdf160c739803";
const SECRET: &str = "7ad3773142a6692b25b8";

#[test]
fn private_channel_auth_matches_the_pusher_docs_vector() {
    let to_sign = channel_string_to_sign("1234.1234", "private-foobar", None);
    assert_eq!(
        auth_token(KEY, SECRET, &to_sign),
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    );
}

#[test]
fn presence_channel_auth_covers_channel_data() {
    let pusher = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
    let channels = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
    assert_eq!(
        hmac_sha256_hex(
            SECRET,
            &channel_string_to_sign("1234.1234", "presence-foobar", Some(pusher))
        ),
        "afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
    );
    assert_eq!(
        hmac_sha256_hex(
            SECRET,
            &channel_string_to_sign("1234.1234", "presence-foobar", Some(channels))
        ),
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    );
}

#[test]
fn user_signin_matches_the_pusher_docs_vector() {
    assert_eq!(
        hmac_sha256_hex(SECRET, &user_string_to_sign("1234.1234", r#"{"id":"12345"}"#)),
        "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
    );
}

#[test]
fn webman_socket_auth_vectors() {
    assert_eq!(
        auth_token("app-key-123", "app-secret-456", "1.5:private-user-1"),
        "app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"
    );
    let data = r#"{"user_id":100,"user_info":{"name":"Tom"}}"#;
    assert_eq!(
        hmac_sha256_hex(
            "app-secret-456",
            &channel_string_to_sign("1.5", "presence-room", Some(data))
        ),
        "dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea"
    );
}

#[test]
fn auth_tokens_verify_only_with_the_right_key_and_signature() {
    let to_sign = channel_string_to_sign("1.5", "private-a", None);
    let good = auth_token("k", "s", &to_sign);
    assert!(verify_auth_token("k", "s", &to_sign, &good));
    assert!(!verify_auth_token("k", "other", &to_sign, &good));
    assert!(!verify_auth_token("k2", "s", &to_sign, &good));
    assert!(!verify_auth_token("k", "s", &to_sign, "k:zz"));
    assert!(!verify_auth_token("k", "s", &to_sign, "nocolon"));
    assert!(!verify_auth_token("k", "s", &to_sign, ""));
}

#[test]
fn http_api_signature_matches_the_pusher_docs_vector() {
    let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
    assert_eq!(body_md5_hex(body), "ec365a775a4cd0599faeb73354201b6f");
    let params: Vec<(String, String)> = vec![
        ("auth_key".into(), KEY.into()),
        ("auth_timestamp".into(), "1353088179".into()),
        ("auth_version".into(), "1.0".into()),
        ("body_md5".into(), "ec365a775a4cd0599faeb73354201b6f".into()),
    ];
    let to_sign = api_string_to_sign("POST", "/apps/3/events", &params);
    assert_eq!(
        to_sign,
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    );
    assert_eq!(
        hmac_sha256_hex(SECRET, &to_sign),
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    );
}

#[test]
fn webman_api_vector_verifies_within_the_window() {
    let body = br#"{"name":"message","data":"{\"content\":\"hi\"}","channels":["user-1"]}"#;
    let params = Params::parse(
        "auth_key=app-key-123&auth_signature=3b5d0c83d3af7943fcf76fed515a5ff67e9957e69104e66578f77ef5eb6cfadd&auth_timestamp=1700000000&body_md5=4f594a2b8a5cef012f95d879b65ecc11",
    );
    let req = ApiRequest {
        method: "POST",
        path: "/apps/1024/events",
        params: &params,
        body,
    };
    assert_eq!(req.verify("app-secret-456", 1_700_000_100, 600), Ok(()));
    assert_eq!(
        req.verify("app-secret-456", 1_700_000_601, 600),
        Err(ApiAuthError::TimestampExpired {
            skew: 601,
            window: 600
        })
    );
    assert_eq!(
        req.verify("wrong", 1_700_000_000, 600),
        Err(ApiAuthError::InvalidSignature)
    );
    let tampered = ApiRequest { body: b"{}", ..req };
    assert_eq!(
        tampered.verify("app-secret-456", 1_700_000_000, 600),
        Err(ApiAuthError::BodyMd5Mismatch)
    );
}

#[test]
fn signed_requests_round_trip() {
    let body = br#"{"name":"e","data":"x","channel":"c"}"#;
    let q = sign_api_request("k", "s", "POST", "/apps/1/events", body, 1000, &[]);
    let params = Params::parse(&q);
    let req = ApiRequest {
        method: "POST",
        path: "/apps/1/events",
        params: &params,
        body,
    };
    assert_eq!(req.verify("s", 1000, 600), Ok(()));
}

#[test]
fn string_to_sign_lower_cases_and_sorts_keys_and_upper_cases_the_method() {
    let params: Vec<(String, String)> = [("B", "2"), ("a", "1"), ("auth_signature", "x"), ("c", "")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(api_string_to_sign("post", "/p", &params), "POST\n/p\na=1&b=2&c=");
    assert_eq!(api_string_to_sign("get", "/p", &[]), "GET\n/p\n");
}

#[test]
fn missing_auth_params_are_named() {
    let params = Params::parse("auth_key=k");
    let req = ApiRequest {
        method: "GET",
        path: "/",
        params: &params,
        body: b"",
    };
    assert_eq!(
        req.verify("s", 0, 600),
        Err(ApiAuthError::MissingParam("auth_signature"))
    );
}

/// What `sign_api_request` wrote before it signed in place: every pair as an owned `String`, the
/// string to sign built, the query through `form_urlencoded`'s serializer.
fn sign_the_plain_way(body: &[u8], timestamp: u64, extra: &[(String, String)]) -> String {
    let mut params = extra.to_vec();
    params.push(("auth_key".into(), KEY.into()));
    params.push(("auth_timestamp".into(), timestamp.to_string()));
    params.push(("auth_version".into(), "1.0".into()));
    if !body.is_empty() {
        params.push(("body_md5".into(), body_md5_hex(body)));
    }
    let signature = hmac_sha256_hex(SECRET, &api_string_to_sign("POST", "/apps/3/events", &params));
    params.push(("auth_signature".into(), signature));
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        q.append_pair(k, v);
    }
    q.finish()
}

#[test]
fn the_signed_query_is_byte_for_byte_the_plain_construction() {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let escaped = vec![
        pair("info", "user_count,subscription_count"),
        pair("filter_by_prefix", "presence-a b&c=d/é"),
    ];
    let many: Vec<_> = (0..20)
        .map(|i| pair(&format!("P{i}"), &format!("v {i}")))
        .collect();
    type Case<'a> = (&'a [u8], u64, &'a [(String, String)]);
    let cases: [Case; 5] = [
        (
            b"{\"name\":\"e\",\"channel\":\"c\",\"data\":\"{}\"}",
            1_700_000_000,
            &[],
        ),
        (b"", 0, &[]),
        (b"", 7, &escaped),
        (b"{}", u64::MAX, &escaped),
        (b"{}", 1, &many),
    ];
    for (body, ts, extra) in cases {
        assert_eq!(
            sign_api_request(KEY, SECRET, "POST", "/apps/3/events", body, ts, extra),
            sign_the_plain_way(body, ts, extra)
        );
    }
}

//! The config's contract: webman's shapes accepted, defaults, and errors that name the key.

use super::*;

#[test]
fn webman_app_php_shape_is_accepted_with_defaults() {
    let c = ServerConfig::from_json(
        r#"{"enable":true,"websocket":"websocket://0.0.0.0:3131","api":"http://0.0.0.0:3232",
            "app_key":"k","app_secret":"s","channel_hook":"http://127.0.0.1:8787/plugin/webman/push/hook",
            "auth":"/plugin/webman/push/auth"}"#,
    )
    .unwrap();
    assert_eq!(c.websocket_addr().unwrap(), "0.0.0.0:3131".parse().unwrap());
    assert_eq!(c.api_addr().unwrap(), "0.0.0.0:3232".parse().unwrap());
    assert_eq!(c.activity_timeout, 55);
    let apps = c.all_apps();
    assert_eq!(apps.len(), 1);
    assert_eq!((apps[0].id.as_str(), apps[0].key.as_str()), ("1024", "k"));
}

#[test]
fn app_options_may_sit_at_the_top_level_for_the_single_app() {
    let c = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s","app_id":7,"max_connections":3,"webhook_names":"pusher",
            "apps":[{"id":"2","key":"k2","secret":"s2"}]}"#,
    )
    .unwrap();
    let apps = c.all_apps();
    assert_eq!((apps[0].id.as_str(), apps[0].max_connections), ("7", 3));
    assert_eq!(apps[0].webhook_names, WebhookNames::Pusher);
    assert_eq!((apps[1].key.as_str(), apps[1].max_connections), ("k2", 0));
}

#[test]
fn a_config_without_apps_is_refused() {
    assert!(ServerConfig::from_json("{}")
        .unwrap_err()
        .contains("no app configured"));
}

#[test]
fn wrong_types_are_reported_by_key() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","activity_timeout":"x"}"#).unwrap_err();
    assert!(err.contains("activity_timeout: invalid type"), "{err}");
}

#[test]
fn wrong_types_of_top_level_app_keys_are_reported_by_key() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","client_event_rate":"x"}"#).unwrap_err();
    assert!(err.contains("client_event_rate: invalid type"), "{err}");
}

#[test]
fn wrong_types_inside_apps_are_reported_by_index_and_key() {
    let err = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s",
            "apps":[{"key":"k1","secret":"s1"},{"key":"k2","secret":"s2","client_event_rate":"x"}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("apps[1].client_event_rate: invalid type"), "{err}");
}

#[test]
fn bad_listen_addresses_are_refused() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","websocket":"nowhere"}"#).unwrap_err();
    assert!(err.contains("cannot listen"), "{err}");
}

#[test]
fn duplicate_app_keys_are_refused() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","apps":[{"key":"k","secret":"t"}]}"#)
            .unwrap_err();
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn api_timeouts_and_pending_body_caps_are_validated_by_key() {
    let refused = |extra: &str| {
        ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s",{extra}}}"#)).unwrap_err()
    };
    assert!(refused(r#""api_head_timeout":0"#).contains("api_head_timeout must be more than 0"));
    assert!(refused(r#""api_body_timeout":-1"#).contains("api_body_timeout must be more than 0"));
    assert!(refused(r#""api_pending_body_per_ip":0"#).contains("api_pending_body_per_ip must be"));
    assert!(
        refused(r#""api_pending_body_per_ip":10,"api_pending_body_total":9"#)
            .contains("at most api_pending_body_total (9)")
    );
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_body_timeout":0.5}"#).unwrap();
    assert_eq!((c.api_head_timeout, c.api_body_timeout), (30.0, 0.5));
    assert_eq!(
        (c.api_pending_body_per_ip, c.api_pending_body_total),
        (8 << 20, 64 << 20)
    );
}

#[test]
fn an_api_busy_poll_over_a_millisecond_is_refused() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":5000}"#).unwrap_err();
    assert!(err.contains("api_busy_poll_us must be at most 1000"), "{err}");
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":0}"#).unwrap();
    assert_eq!(c.api_busy_poll_us, 0);
}

#[test]
fn api_socket_mode_is_octal_text_or_a_php_octal_number_at_most_0777() {
    let mode = |m: &str| {
        ServerConfig::from_json(&format!(
            r#"{{"app_key":"k","app_secret":"s","api_socket_mode":{m}}}"#
        ))
        .map(|c| c.api_socket_mode)
    };
    assert_eq!(
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#)
            .unwrap()
            .api_socket_mode,
        0o660
    );
    assert_eq!(mode(r#""0600""#), Ok(0o600));
    assert_eq!(mode("432"), Ok(0o660));
    assert!(mode(r#""rw""#)
        .unwrap_err()
        .contains("api_socket_mode must be an octal mode"));
    assert!(mode("660")
        .unwrap_err()
        .contains("api_socket_mode must be permission bits"));
}

#[test]
fn an_api_socket_path_that_is_relative_or_too_long_for_a_socket_address_is_refused() {
    let path = format!("/tmp/{}", "x".repeat(MAX_API_SOCKET_PATH));
    let err = ServerConfig::from_json(&format!(
        r#"{{"app_key":"k","app_secret":"s","api_socket":"{path}"}}"#
    ))
    .unwrap_err();
    assert!(
        err.contains("api_socket must be an absolute path of at most 107 bytes"),
        "{err}"
    );
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_socket":"push.sock"}"#).unwrap_err();
    assert!(err.contains("api_socket must be an absolute path"), "{err}");
}

#[test]
fn a_webhook_retry_interval_outside_its_range_is_refused_naming_the_key() {
    for bad in ["0", "61"] {
        let err = ServerConfig::from_json(&format!(
            r#"{{"app_key":"k","app_secret":"s","webhook_retry_interval":{bad}}}"#
        ))
        .unwrap_err();
        assert!(err.contains("webhook_retry_interval"), "{err}");
    }
}

#[test]
fn a_webhook_max_pending_bytes_under_16_kib_is_refused_naming_the_key() {
    let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","webhook_max_pending_bytes":1000}"#)
        .unwrap_err();
    assert!(
        err.contains("webhook_max_pending_bytes must be at least 16384"),
        "{err}"
    );
}

#[test]
fn backlog_defaults_to_somaxconn_but_at_least_1024() {
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
    assert_eq!(c.backlog, 0);
    assert!(c.listen_backlog() >= 1024, "{}", c.listen_backlog());
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","backlog":300}"#).unwrap();
    assert_eq!(c.listen_backlog(), 300);
    let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","backlog":70000}"#).unwrap_err();
    assert!(err.contains("backlog must be at most 65535"), "{err}");
}

#[test]
fn origins_proxies_and_per_ip_limits_are_read_and_bad_entries_named() {
    let c = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s","allowed_origins":["https://*.example.com"],
            "trusted_proxies":["127.0.0.1","10.0.0.0/8"],"max_connections_per_ip":5,
            "connection_rate_per_ip":2,"api_rate_limit":100,
            "apps":[{"key":"k2","secret":"s2","allowed_origins_strict":true}]}"#,
    )
    .unwrap();
    let apps = c.all_apps();
    assert!(apps[0]
        .allowed_origins
        .allows(Some(b"https://a.example.com"), false));
    assert!(!apps[0].allowed_origins.allows(Some(b"https://evil.test"), false));
    assert!(apps[1].allowed_origins_strict && apps[1].allowed_origins.is_empty());
    assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
    assert_eq!((c.max_connections_per_ip, c.connection_rate_per_ip), (5, 2));
    assert_eq!((apps[0].api_rate_limit, apps[1].api_rate_limit), (100, 0));
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","allowed_origins":["example.com"]}"#)
            .unwrap_err();
    assert!(err.contains("allowed_origins"), "{err}");
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","trusted_proxies":["x/8"]}"#).unwrap_err();
    assert!(err.contains("trusted_proxies"), "{err}");
}

#[test]
fn metrics_is_off_by_default_and_a_bad_address_is_named() {
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
    assert_eq!((c.metrics_addr(), c.metrics_token.as_str()), (Ok(None), ""));
    let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","metrics":"nowhere"}"#).unwrap_err();
    assert!(err.starts_with("metrics: cannot listen"), "{err}");
}

#[test]
fn ssl_needs_cert_and_key_together_and_https_api_needs_ssl() {
    let with =
        |extra: &str| ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s",{extra}}}"#));
    let c = with(r#""ssl":{"local_cert":"/c.pem","local_pk":"/k.pem"},"api":"https://127.0.0.1:0""#).unwrap();
    assert!(c.tls() && c.api_tls());
    assert_eq!(c.ssl.reload_interval, 5.0);
    let err = with(r#""ssl":{"local_cert":"/c.pem"}"#).unwrap_err();
    assert!(err.contains("ssl needs both local_cert and local_pk"), "{err}");
    let err = with(r#""api":"https://127.0.0.1:0""#).unwrap_err();
    assert!(err.contains("is https:// but ssl.local_cert"), "{err}");
    let err = with(r#""ssl":{"local_cert":"/c","local_pk":"/k","reload_interval":0}"#).unwrap_err();
    assert!(err.contains("ssl.reload_interval must be more than 0"), "{err}");
    assert!(!with(r#""ssl":[]"#).unwrap().tls(), "PHP's empty array is no TLS");
}

#[test]
fn a_handshake_timeout_of_zero_is_refused() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","handshake_timeout":0}"#).unwrap_err();
    assert!(err.contains("handshake_timeout must be more than 0"), "{err}");
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","handshake_timeout":0.5}"#).unwrap();
    assert_eq!(c.handshake_timeout, 0.5);
}

#[test]
fn console_defaults_and_a_zero_console_queue_is_refused_naming_the_key() {
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
    assert_eq!(
        (c.console, c.console_token.as_str(), c.console_queue),
        (true, "", 1024)
    );
    let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","console_queue":0}"#).unwrap_err();
    assert!(err.starts_with("console_queue"), "{err}");
}

#[test]
fn log_level_and_format_default_to_info_and_text() {
    let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
    assert_eq!((c.log_level, c.log_format), (LogLevel::Info, LogFormat::Text));
    let c = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s","log_level":"debug","log_format":"json"}"#,
    )
    .unwrap();
    assert_eq!((c.log_level, c.log_format), (LogLevel::Debug, LogFormat::Json));
}

#[test]
fn an_unknown_log_level_is_a_config_error_naming_the_key() {
    let err =
        ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","log_level":"verbose"}"#).unwrap_err();
    assert!(err.contains("log_level: unknown variant `verbose`"), "{err}");
    let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","log_format":"xml"}"#).unwrap_err();
    assert!(err.contains("log_format: unknown variant `xml`"), "{err}");
}

#[test]
fn every_timeout_of_the_server_is_a_key_refused_at_zero_naming_it() {
    for key in [
        "write_timeout",
        "close_timeout",
        "stop_timeout",
        "webhook_timeout",
    ] {
        let err =
            ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s","{key}":0}}"#)).unwrap_err();
        assert!(err.contains(&format!("{key} must be more than 0")), "{err}");
    }
    let c = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s","write_timeout":0.5,"close_timeout":0.1,"stop_timeout":0.2,"webhook_timeout":0.3}"#,
    )
    .unwrap();
    assert_eq!(
        (c.write_timeout, c.close_timeout, c.stop_timeout),
        (0.5, 0.1, 0.2)
    );
    assert_eq!(c.all_apps()[0].webhook_timeout, 0.3);
}

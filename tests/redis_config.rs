//! The scale-out keys (`redis*`) are checked when the config is read, with errors naming the key.

use webman_push::config::ServerConfig;

fn error_of(redis_keys: &str) -> String {
    ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s",{redis_keys}}}"#))
        .expect_err("the config is refused")
}

#[test]
fn sentinels_without_a_master_name_are_refused() {
    let err = error_of(r#""redis_sentinels":["redis://127.0.0.1:26379"]"#);
    assert!(err.contains("redis_master"), "{err}");
}

#[test]
fn a_sentinel_or_cluster_address_that_is_not_a_redis_url_is_refused_by_key() {
    let err = error_of(r#""redis_sentinels":["127.0.0.1:26379"],"redis_master":"m""#);
    assert!(err.contains("redis_sentinels"), "{err}");
    let err = error_of(r#""redis_cluster":["http://127.0.0.1:7000"]"#);
    assert!(err.contains("redis_cluster"), "{err}");
}

#[test]
fn a_cluster_together_with_a_single_redis_is_refused() {
    let err = error_of(r#""redis":"redis://127.0.0.1:6379","redis_cluster":["redis://127.0.0.1:7000"]"#);
    assert!(err.contains("redis_cluster"), "{err}");
}

#[test]
fn a_tls_ca_without_a_rediss_url_is_refused() {
    let err = error_of(r#""redis":"redis://127.0.0.1:6379","redis_tls_ca":"/tmp/ca.pem""#);
    assert!(err.contains("redis_tls_ca"), "{err}");
}

#[test]
fn sentinels_alone_turn_scale_out_on() {
    let c = ServerConfig::from_json(
        r#"{"app_key":"k","app_secret":"s","redis_sentinels":["redis://127.0.0.1:26379"],"redis_master":"m"}"#,
    )
    .unwrap();
    assert!(c.scale_out());
}

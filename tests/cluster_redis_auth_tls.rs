//! Scale-out over a production-style Redis: an ACL user with a password and a database in the
//! URL, TLS (`rediss://`) verified against a CA of the test's own, and what a node reports
//! when Redis does not take its messages.

mod common;
mod redis_servers;

use common::cluster::{eventually, publish, subscriber_known_on};
use common::{start_server, Client};
use redis_servers::{make_ca_and_server_cert, RedisProcess, Scratch};
use serde_json::{json, Value};
use webman_push::server::PushServer;

fn node(config: Value) -> PushServer {
    start_server(config)
}

/// Two nodes on `config`; a subscriber on the second hears a publish on the first.
async fn assert_publish_crosses_nodes(config: Value) -> (PushServer, PushServer) {
    let a = node(config.clone());
    let b = node(config);
    let mut on_b = subscriber_known_on(&b, &a, "news").await;
    publish(&a, "news", "\"across\"");
    let got = on_b.next_event().await.expect("the publish on a reaches b");
    assert_eq!(got["data"], "\"across\"");
    (a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acl_user_with_password_and_database_in_the_url_carries_the_cluster() {
    let redis = RedisProcess::plain(&[
        "--user", "default", "off", "--user", "push", "on", ">s3cret", "~*", "&*", "+@all",
    ]);
    let url = format!("redis://push:s3cret@127.0.0.1:{}/3", redis.port);
    let _nodes = assert_publish_crosses_nodes(json!({ "redis": url, "redis_prefix": "acl" })).await;
    let auth = ["--user", "push", "--pass", "s3cret", "--no-auth-warning"];
    let exists = |db: &str| redis.cli(&[&auth[..], &["-n", db, "EXISTS", "acl:leader"]].concat());
    eventually("the leader lease is taken", || exists("3") == "1").await;
    assert_eq!(
        exists("0"),
        "0",
        "the lease lives in the URL's database, not in 0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_acl_password_keeps_the_nodes_apart_and_counts_their_publishes_as_failed() {
    let redis = RedisProcess::plain(&[
        "--user", "default", "off", "--user", "push", "on", ">s3cret", "~*", "&*", "+@all",
    ]);
    let url = format!("redis://push:wrong@127.0.0.1:{}", redis.port);
    let a = node(json!({ "redis": url, "redis_prefix": "acl" }));
    publish(&a, "news", "\"lost\"");
    eventually("the refused publish is counted", || {
        a.cluster_lost_messages().0 >= 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rediss_url_with_redis_tls_ca_carries_the_cluster_over_verified_tls() {
    let dir = Scratch::new("tls");
    make_ca_and_server_cert(&dir, "good");
    let redis = RedisProcess::tls(&dir, "good");
    let (port, ca) = (redis.port, dir.path("good-ca.pem"));
    let config = json!({
        "redis": format!("rediss://127.0.0.1:{port}"), "redis_tls_ca": ca, "redis_prefix": "tls",
    });
    let _nodes = assert_publish_crosses_nodes(config).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rediss_server_whose_certificate_another_ca_signed_is_refused() {
    let dir = Scratch::new("tls-other");
    make_ca_and_server_cert(&dir, "server");
    make_ca_and_server_cert(&dir, "other");
    let redis = RedisProcess::tls(&dir, "server");
    let port = redis.port;
    let a = node(json!({
        "redis": format!("rediss://127.0.0.1:{port}"), "redis_tls_ca": dir.path("other-ca.pem"),
        "redis_prefix": "tls",
    }));
    publish(&a, "news", "\"refused\"");
    eventually("the publish is counted as not sent", || {
        a.cluster_lost_messages().0 >= 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_made_while_redis_is_gone_are_counted_not_silently_lost() {
    let mut redis = RedisProcess::plain(&[]);
    let a = node(json!({ "redis": redis.url(), "redis_prefix": "gone" }));
    let mut on_a = Client::connect(&a).await;
    on_a.subscribe("news").await;
    redis.kill();
    for i in 0..3 {
        publish(&a, "news", &format!("\"{i}\""));
    }
    assert_eq!(
        on_a.next_event().await.unwrap()["data"],
        "\"0\"",
        "local delivery goes on"
    );
    eventually("all three publishes are counted", || {
        a.cluster_lost_messages().0 >= 3
    })
    .await;
}

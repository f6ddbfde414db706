//! The HTTP API's signature check on the publish path: it allocates nothing for a signed publish,
//! and it agrees with the string to sign that clients hash, whatever the query looks like.
//!
//! Its own test binary because it counts allocations with a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use webman_push::protocol::query::{parse_owned, Params};
use webman_push::protocol::signature::{
    api_string_to_sign, body_md5_hex, hmac_sha256_hex, sign_api_request, ApiAuthError, ApiRequest,
};

/// Counts the allocations made on the calling thread (tests run on several threads at once).
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const SECRET: &str = "app-secret-456";
const NOW: u64 = 1_700_000_000;

#[test]
fn verifying_a_signed_publish_allocates_nothing() {
    let body = br#"{"name":"message","data":"{\"content\":\"hi\"}","channels":["user-1"]}"#;
    let query = sign_api_request("app-key-123", SECRET, "POST", "/apps/1024/events", body, NOW, &[]);
    let count = allocations_in(|| {
        let params = Params::parse(&query);
        let request = ApiRequest {
            method: "POST",
            path: "/apps/1024/events",
            params: &params,
            body,
        };
        assert_eq!(params.get("auth_key"), Some("app-key-123"));
        assert_eq!(request.verify(SECRET, NOW, 600), Ok(()));
    });
    assert_eq!(
        count, 0,
        "allocations while parsing and verifying a signed publish"
    );
}

/// What `verify` must agree with: the whole string to sign, built and hashed the way clients do.
fn expected_verdict(method: &str, path: &str, query: &str) -> bool {
    let params = parse_owned(query);
    let signature = params
        .iter()
        .find(|(k, _)| k == "auth_signature")
        .map(|(_, v)| v.as_str());
    signature
        == Some(&hmac_sha256_hex(
            SECRET,
            &api_string_to_sign(method, path, &params),
        ))
}

#[test]
fn verify_agrees_with_the_string_to_sign_for_any_case_escapes_and_count_of_keys() {
    let many: Vec<String> = (0..20).rev().map(|i| format!("Key{i}=v{i}")).collect();
    let many = many.join("&");
    for (method, extra) in [
        ("POST", "b=2&a=1"),
        ("post", "info=user_count,subscription_count"),
        ("GET", "Filter_By_Prefix=presence-&INFO=user_count"),
        ("GET", "name=a%20b&x=1+2&k=%E4%BD%A0&bad=%ZZ"),
        ("GET", "a=2&a=1&A=0"),
        (
            "GET",
            "AUTH_SIGNATURE=upper-case-is-signed&auth_signature=ignored-extra",
        ),
        ("GET", many.as_str()),
    ] {
        let path = "/apps/1/channels";
        let mut params: Vec<(String, String)> = parse_owned(extra);
        params.push(("auth_key".into(), "k".into()));
        params.push(("auth_timestamp".into(), NOW.to_string()));
        let signature = hmac_sha256_hex(SECRET, &api_string_to_sign(method, path, &params));
        let query = format!("{extra}&auth_key=k&auth_timestamp={NOW}&auth_signature={signature}");
        let params = Params::parse(&query);
        let request = ApiRequest {
            method,
            path,
            params: &params,
            body: b"",
        };
        let verdict = request.verify(SECRET, NOW, 600);
        assert_eq!(
            verdict.is_ok(),
            expected_verdict(method, path, &query),
            "{method} {query}"
        );
        // The first auth_signature is the one checked; only the case with a second one fails.
        assert_eq!(
            verdict.is_ok(),
            !extra.contains("auth_signature="),
            "{method} {query}: {verdict:?}"
        );
    }
}

fn publish_request_with(body_md5: &str, signature_case: fn(&str) -> String) -> Result<(), ApiAuthError> {
    let body = br#"{"name":"e","data":"x","channel":"c"}"#;
    let path = "/apps/1/events";
    let params: Vec<(String, String)> = vec![
        ("auth_key".into(), "k".into()),
        ("auth_timestamp".into(), NOW.to_string()),
        ("body_md5".into(), body_md5.into()),
    ];
    let signature = signature_case(&hmac_sha256_hex(
        SECRET,
        &api_string_to_sign("POST", path, &params),
    ));
    let query = format!("auth_key=k&auth_timestamp={NOW}&body_md5={body_md5}&auth_signature={signature}");
    let params = Params::parse(&query);
    ApiRequest {
        method: "POST",
        path,
        params: &params,
        body,
    }
    .verify(SECRET, NOW, 600)
}

#[test]
fn body_md5_is_compared_as_hex_of_either_case() {
    let md5 = body_md5_hex(br#"{"name":"e","data":"x","channel":"c"}"#);
    assert_eq!(publish_request_with(&md5, str::to_owned), Ok(()));
    assert_eq!(publish_request_with(&md5.to_uppercase(), str::to_owned), Ok(()));
}

#[test]
fn body_md5_that_is_not_32_hex_digits_of_the_body_is_a_mismatch() {
    let md5 = body_md5_hex(br#"{"name":"e","data":"x","channel":"c"}"#);
    for wrong in [
        &md5[..30],
        &format!("{md5}00"),
        &md5.replace(|c: char| c.is_ascii_digit(), "g"),
        "",
    ] {
        assert_eq!(
            publish_request_with(wrong, str::to_owned),
            Err(ApiAuthError::BodyMd5Mismatch),
            "{wrong:?}"
        );
    }
}

#[test]
fn a_signature_in_upper_case_hex_verifies_and_a_truncated_one_does_not() {
    let md5 = body_md5_hex(br#"{"name":"e","data":"x","channel":"c"}"#);
    assert_eq!(publish_request_with(&md5, |s| s.to_uppercase()), Ok(()));
    assert_eq!(
        publish_request_with(&md5, |s| s[..62].to_owned()),
        Err(ApiAuthError::InvalidSignature)
    );
    assert_eq!(
        publish_request_with(&md5, |s| format!("{s}zz")),
        Err(ApiAuthError::InvalidSignature)
    );
}

//! Conversions for `Webman\Push\Api`: caller zvals into the strings the SDK takes, the server's
//! replies into the values webman/push returned, and PHP's libsodium as the encrypted-channel
//! cipher. Everything with a rule in it lives in [`crate::sdk`]; these only change representation.

use super::client::Reply;
use super::{call_php, php_array, push_error, string_zval};
use crate::protocol::request_path::encode_path;
use crate::sdk::encryption::{ChannelKey, NONCE_LEN};
use crate::sdk::InvalidArgument;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

/// An argument the SDK refused, as the `PushException` the caller catches.
pub(super) fn invalid(e: InvalidArgument) -> PhpException {
    push_error(e.0)
}

/// PHP's string conversion of an argument, or a `PushException` naming it.
pub(super) fn coerce(z: &Zval, what: &str) -> PhpResult<String> {
    z.coerce_to_string()
        .ok_or_else(|| push_error(format!("Invalid {what}: expected a string")))
}

/// Reads an options/params array into (key, value) strings; arrays are comma-joined as webman does.
pub(super) fn string_pairs(params: Option<&Zval>) -> PhpResult<Vec<(String, String)>> {
    let Some(table) = params.and_then(Zval::array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(table.len());
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

/// `get()`/`post()`'s `$path`, percent-encoded for the request line.
pub(super) fn request_path(path: &Zval) -> PhpResult<String> {
    let path = coerce(path, "path")?;
    encode_path(&path).map_err(|e| push_error(format!("Invalid path {path:?}: {e}")))
}

pub(super) fn false_zval() -> Zval {
    let mut z = Zval::new();
    z.set_bool(false);
    z
}

fn binary_zval(bytes: &[u8]) -> Zval {
    let mut z = Zval::new();
    z.set_binary(bytes.to_vec());
    z
}

/// `trigger()`'s result: true/false on the status, or with `info` the decoded answer.
pub(super) fn publish_result(reply: Reply, wants_info: bool) -> PhpResult<Zval> {
    if !wants_info || reply.status != 200 {
        let mut z = Zval::new();
        z.set_bool(reply.status == 200);
        return Ok(z);
    }
    call_php("json_decode", vec![&string_zval(&reply.body)?])
}

/// webman/push's shape: `['body' => string|false, 'status' => int, 'result' => array (on 200)]`,
/// plus `'error' => why` when there was no answer (status 0).
pub(super) fn reply_array(reply: Reply) -> PhpResult<Zval> {
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
    if let Some(error) = &reply.error {
        entries.push(("error", string_zval(error)?));
    }
    php_array(entries)
}

/// The decoded answer as objects on 200, false otherwise.
pub(super) fn decoded_or_false(reply: Reply) -> PhpResult<Zval> {
    if reply.status != 200 {
        return Ok(false_zval());
    }
    call_php("json_decode", vec![&string_zval(&reply.body)?])
}

/// `crypto_secretbox` through PHP's libsodium, under a fresh random nonce: (nonce, ciphertext).
pub(super) fn sodium_seal(key: &ChannelKey, plaintext: &str) -> PhpResult<(Vec<u8>, Vec<u8>)> {
    let nonce = call_php("random_bytes", vec![&(NONCE_LEN as i64)])?;
    let sealed = call_php(
        "sodium_crypto_secretbox",
        vec![&string_zval(plaintext)?, &nonce, &binary_zval(key)],
    )?;
    let nonce = nonce.binary::<u8>().unwrap_or_default();
    let sealed = sealed
        .binary::<u8>()
        .ok_or_else(|| push_error("sodium_crypto_secretbox failed"))?;
    Ok((nonce, sealed))
}

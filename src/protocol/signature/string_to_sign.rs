//! The string an HTTP API request signs (Pusher's HTTP API signing): `METHOD\nPATH\nk=v&…`.
//!
//! Kept apart from the request check because it has two users that must agree byte for byte:
//! a signer builds the string ([`api_string_to_sign`]), while the verifier on the HTTP API hot
//! path feeds the same bytes straight to the HMAC ([`feed_string_to_sign`]) without building it.

use crate::protocol::query::INLINE;

/// `METHOD\nPATH\nk=v&…` over the query parameters except `auth_signature`, keys lower-cased
/// and sorted, values not re-escaped (Pusher's HTTP API signing).
pub fn api_string_to_sign(method: &str, path: &str, params: &[(String, String)]) -> String {
    let mut out = Vec::with_capacity(
        method.len() + path.len() + 2 + params.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>(),
    );
    feed_string_to_sign(method, path, params, &mut |bytes| out.extend_from_slice(bytes));
    // Only whole `&str`s and ASCII case changes of them were fed in.
    String::from_utf8(out).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Feeds the string to sign to `sink` piece by piece, so a verifier can hash it without building
/// it: the pairs are ordered through an array of indices on the stack, keys lower-cased on the way.
pub(super) fn feed_string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    path: &str,
    pairs: &[(K, V)],
    sink: &mut impl FnMut(&[u8]),
) {
    feed_cased(method, u8::to_ascii_uppercase, sink);
    sink(b"\n");
    sink(path.as_bytes());
    sink(b"\n");
    let signed = |i: &usize| pairs[*i].0.as_ref() != "auth_signature";
    let lower = |i: usize| pairs[i].0.as_ref().bytes().map(|b| b.to_ascii_lowercase());
    let mut inline = [0usize; INLINE];
    let mut spilled = Vec::new();
    let order: &mut [usize] = if pairs.len() <= INLINE {
        let mut n = 0;
        for i in (0..pairs.len()).filter(signed) {
            inline[n] = i;
            n += 1;
        }
        &mut inline[..n]
    } else {
        spilled.extend((0..pairs.len()).filter(signed));
        &mut spilled
    };
    order.sort_unstable_by(|&a, &b| {
        lower(a)
            .cmp(lower(b))
            .then_with(|| pairs[a].1.as_ref().cmp(pairs[b].1.as_ref()))
    });
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            sink(b"&");
        }
        feed_cased(pairs[i].0.as_ref(), u8::to_ascii_lowercase, sink);
        sink(b"=");
        sink(pairs[i].1.as_ref().as_bytes());
    }
}

/// Feeds `text` with `case` applied to each byte; as it is when that changes nothing (the rule).
fn feed_cased(text: &str, case: fn(&u8) -> u8, sink: &mut impl FnMut(&[u8])) {
    if text.bytes().all(|b| case(&b) == b) {
        return sink(text.as_bytes());
    }
    let mut buf = [0u8; 64];
    for chunk in text.as_bytes().chunks(buf.len()) {
        for (to, from) in buf.iter_mut().zip(chunk) {
            *to = case(from);
        }
        sink(&buf[..chunk.len()]);
    }
}

//! JSON text exactly as PHP's `json_encode($value, 0)` writes it, for the auth answers that
//! applications compare byte for byte with what webman/push (a PHP library) returned.
//!
//! PHP escapes more than `serde_json` does: `/` as `\/`, and every non-ASCII character as
//! `\uXXXX` (UTF-16, lower-case hex); DEL stays as it is.

use std::fmt::Write;

/// Appends `s` as a PHP-encoded JSON string, quotes included.
pub(crate) fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON object of string fields, in the given order, as PHP encodes an array of strings.
pub(crate) fn string_object(fields: &[(&str, &str)]) -> String {
    let len: usize = fields.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let mut out = String::with_capacity(len + 2);
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, key);
        out.push(':');
        push_string(&mut out, value);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_php_json_encode_does() {
        // php -r 'echo json_encode(["a" => "/\"\\\x01\x1f\x7f\t\n\r\x08\x0cé😀"]);'
        let php = "{\"a\":\"\\/\\\"\\\\\\u0001\\u001f\u{7f}\\t\\n\\r\\b\\f\\u00e9\\ud83d\\ude00\"}";
        let value = "/\"\\\u{1}\u{1f}\u{7f}\t\n\r\u{8}\u{c}é😀";
        assert_eq!(string_object(&[("a", value)]), php);
    }

    #[test]
    fn keeps_field_order_and_writes_an_empty_object() {
        assert_eq!(string_object(&[("b", "1"), ("a", "2")]), r#"{"b":"1","a":"2"}"#);
        assert_eq!(string_object(&[]), "{}");
    }
}

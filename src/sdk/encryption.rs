//! End-to-end encrypted channels (`private-encrypted-`), as the Pusher SDKs implement them.
//!
//! Each channel has its own 32-byte key, SHA-256 of the channel name followed by the app's master
//! key; pusher-js receives it as `shared_secret` in the auth answer ([`super::auth`]). An event's
//! data is sealed with NaCl `crypto_secretbox` (XSalsa20-Poly1305) under that key and a random
//! 24-byte nonce, and travels as `{"nonce","ciphertext"}`, both base64. The cipher itself is the
//! caller's (the PHP binding uses PHP's own libsodium, so no second implementation of it is
//! linked into the extension); the keys, the rule of which channel encrypts and the envelope are here.

use super::InvalidArgument;
use crate::protocol::ChannelKind;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use sha2::{Digest, Sha256};

/// Bytes of a `crypto_secretbox` nonce.
pub const NONCE_LEN: usize = 24;

/// A channel's `crypto_secretbox` key.
pub type ChannelKey = [u8; 32];

/// PHP's strict `base64_decode`: padding optional, whitespace skipped.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The app's master key (`encryption_master_key_base64`), from which every channel key derives.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Decodes the base64 option; it must be exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey, InvalidArgument> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
            .collect();
        LENIENT
            .decode(compact)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(MasterKey)
            .ok_or_else(|| {
                InvalidArgument("encryption_master_key_base64 must be 32 bytes, base64-encoded".into())
            })
    }

    /// SHA-256 of the channel name followed by the master key.
    pub fn channel_key(&self, channel: &str) -> ChannelKey {
        let mut h = Sha256::new();
        h.update(channel.as_bytes());
        h.update(self.0);
        h.finalize().into()
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// The channel whose key encrypts a publish to `channels`: none when no channel is encrypted. An
/// encrypted channel must be the only one, since every channel has its own key.
pub fn encrypted_channel<S: AsRef<str>>(channels: &[S]) -> Result<Option<&str>, InvalidArgument> {
    let mut encrypted = channels
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| ChannelKind::of(c) == ChannelKind::PrivateEncrypted);
    match (encrypted.next(), channels.len()) {
        (None, _) => Ok(None),
        (Some(channel), 1) => Ok(Some(channel)),
        (Some(_), _) => Err(InvalidArgument(
            "An encrypted channel must be the only channel of a trigger".into(),
        )),
    }
}

/// Encrypts `plaintext` for `channel` with `seal(key, plaintext) -> (nonce, ciphertext)`, the
/// caller's `crypto_secretbox`, and returns the envelope that goes out as the event's data.
pub fn encrypt<E>(
    master: Option<&MasterKey>,
    channel: &str,
    plaintext: &str,
    seal: impl FnOnce(&ChannelKey, &str) -> Result<(Vec<u8>, Vec<u8>), E>,
) -> Result<String, EncryptError<E>> {
    let master = master.ok_or_else(|| {
        EncryptError::NoMasterKey(InvalidArgument(
            "Triggering on private-encrypted- channels needs encryption_master_key_base64".into(),
        ))
    })?;
    let (nonce, ciphertext) = seal(&master.channel_key(channel), plaintext).map_err(EncryptError::Seal)?;
    Ok(envelope(&nonce, &ciphertext))
}

/// Why [`encrypt`] produced nothing.
#[derive(Debug)]
pub enum EncryptError<E> {
    NoMasterKey(InvalidArgument),
    /// The cipher's own failure.
    Seal(E),
}

/// `{"nonce":"…","ciphertext":"…"}` with both in standard base64, as pusher-js decodes it.
pub fn envelope(nonce: &[u8], ciphertext: &[u8]) -> String {
    format!(
        r#"{{"nonce":"{}","ciphertext":"{}"}}"#,
        STANDARD.encode(nonce),
        STANDARD.encode(ciphertext)
    )
}

/// A channel key as the auth answer's `shared_secret`.
pub fn shared_secret(key: &ChannelKey) -> String {
    STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER_32_K: &str = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";

    #[test]
    fn a_channel_key_is_sha256_of_the_name_then_the_master_key() {
        // php -r '$m = str_repeat("k", 32);
        //   echo base64_encode(hash("sha256", "private-encrypted-x" . $m, true));'
        let master = MasterKey::from_base64(MASTER_32_K).unwrap();
        assert_eq!(
            shared_secret(&master.channel_key("private-encrypted-x")),
            "mA1o1C9jkj3s/HiI3zFDn3BLY7n3xqf+o7KgA669cZo="
        );
    }

    #[test]
    fn the_master_key_must_decode_to_32_bytes() {
        assert!(MasterKey::from_base64(MASTER_32_K.trim_end_matches('=')).is_ok());
        assert!(MasterKey::from_base64(&format!(" {MASTER_32_K}\n")).is_ok());
        let short = MasterKey::from_base64("a2tr").unwrap_err();
        assert_eq!(
            short.0,
            "encryption_master_key_base64 must be 32 bytes, base64-encoded"
        );
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn only_a_lone_encrypted_channel_is_encrypted() {
        assert_eq!(encrypted_channel(&["a", "private-b"]), Ok(None));
        assert_eq!(
            encrypted_channel(&["private-encrypted-a"]),
            Ok(Some("private-encrypted-a"))
        );
        let mixed = encrypted_channel(&["a", "private-encrypted-b"]).unwrap_err();
        assert_eq!(
            mixed.0,
            "An encrypted channel must be the only channel of a trigger"
        );
    }

    #[test]
    fn encrypt_seals_with_the_channel_key_and_wraps_the_result() {
        let master = MasterKey::from_base64(MASTER_32_K).unwrap();
        let expected_key = master.channel_key("private-encrypted-x");
        let data = encrypt(Some(&master), "private-encrypted-x", "{}", |key, plaintext| {
            assert_eq!(key, &expected_key);
            assert_eq!(plaintext, "{}");
            Ok::<_, ()>((vec![0; NONCE_LEN], vec![0xfb, 0xff, 1]))
        })
        .unwrap();
        assert_eq!(
            data,
            r#"{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"+/8B"}"#
        );
    }

    #[test]
    fn encrypt_without_a_master_key_names_the_option() {
        let seal = |_: &ChannelKey, _: &str| Ok::<_, ()>((vec![], vec![]));
        match encrypt(None, "private-encrypted-x", "{}", seal) {
            Err(EncryptError::NoMasterKey(e)) => assert!(e.0.contains("encryption_master_key_base64")),
            other => panic!("{other:?}"),
        }
    }
}

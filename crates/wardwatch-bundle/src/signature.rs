//! minisign signatures of the manifest: made here deterministically (prehashed form,
//! `ED`, as `minisign -S` makes them), checked with the `minisign` crate after this
//! module has checked the shape of the text (the crate panics on a short global
//! signature, so lengths are checked first).

use std::io::Cursor;

use base64::Engine;
use blake2::{Blake2b512, Digest};

use crate::error::BundleError;
use crate::keys::{KeyId, PublicKey, SigningKey, TrustedKeys};

/// Largest signature file accepted (a real one is about 300 bytes).
pub const MAX_SIGNATURE_LEN: u64 = 8 * 1024;

/// A signature whose text has the minisign shape; not yet checked against any key.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    /// The key the signature claims to be made with.
    pub key_id: KeyId,
    /// The signed comment (`trusted comment:` line), meaningful only once verified.
    pub trusted_comment: String,
    text: String,
}

impl ParsedSignature {
    /// The signature file's text, as stored in the bundle.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Signs `data` as `minisign -S` would, but deterministically: Ed25519 over the
/// BLAKE2b-512 of the data, and a global signature over that signature and the comment.
pub fn sign(key: &SigningKey, data: &[u8], trusted_comment: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let comment: String = trusted_comment
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let comment = comment.trim();
    let prehash = Blake2b512::digest(data);
    let sig = key.sign_raw(&prehash);
    let mut sig_line = Vec::with_capacity(74);
    sig_line.extend_from_slice(b"ED");
    sig_line.extend_from_slice(&key.key_id().0);
    sig_line.extend_from_slice(&sig);
    let mut global_input = sig.to_vec();
    global_input.extend_from_slice(comment.as_bytes());
    let global = key.sign_raw(&global_input);
    format!(
        "untrusted comment: signature from wardwatch, key {:016X}\n{}\ntrusted comment: {}\n{}\n",
        u64::from_le_bytes(key.key_id().0),
        b64.encode(&sig_line),
        comment,
        b64.encode(global)
    )
}

/// Checks that `bytes` is a minisign signature file: four lines, the comments' prefixes,
/// a prehashed Ed25519 signature of the right length, a 64-byte global signature.
pub fn parse(bytes: &[u8]) -> Result<ParsedSignature, BundleError> {
    let bad = |detail: &str| BundleError::SignatureMalformed {
        detail: detail.to_owned(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text"))?;
    let mut lines = text.lines();
    let mut next = |what: &str| lines.next().ok_or_else(|| bad(&format!("no {what} line")));
    let untrusted = next("untrusted comment")?;
    let sig_line = next("signature")?;
    let trusted = next("trusted comment")?;
    let global_line = next("global signature")?;
    if lines.any(|l| !l.trim().is_empty()) {
        return Err(bad("text after the global signature"));
    }
    if !untrusted.starts_with("untrusted comment: ") {
        return Err(bad("the first line is not an untrusted comment"));
    }
    let trusted_comment = trusted
        .strip_prefix("trusted comment: ")
        .ok_or_else(|| bad("the third line is not a trusted comment"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sig = b64
        .decode(sig_line.trim())
        .map_err(|_| bad("the signature line is not base64"))?;
    if sig.len() != 74 {
        return Err(bad("the signature line has the wrong length"));
    }
    match &sig[..2] {
        b"ED" => {}
        b"Ed" => return Err(BundleError::LegacySignature),
        _ => return Err(bad("not an Ed25519 signature")),
    }
    let global = b64
        .decode(global_line.trim())
        .map_err(|_| bad("the global signature line is not base64"))?;
    if global.len() != 64 {
        return Err(bad("the global signature has the wrong length"));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&sig[2..10]);
    Ok(ParsedSignature {
        key_id: KeyId(id),
        trusted_comment: trusted_comment.trim().to_owned(),
        text: text.to_owned(),
    })
}

/// Checks the signature against the trusted key with its id; an id no trusted key has
/// is its own refusal, so "wrong key" and "forged" are told apart.
pub fn verify(
    sig: &ParsedSignature,
    data: &[u8],
    trusted: &TrustedKeys,
) -> Result<KeyId, BundleError> {
    let key = trusted
        .get(&sig.key_id)
        .ok_or_else(|| BundleError::UnknownKey {
            key_id: sig.key_id,
            trusted: trusted.describe(),
        })?;
    verify_with(sig, data, key)?;
    Ok(sig.key_id)
}

/// Checks the signature against one key.
pub fn verify_with(sig: &ParsedSignature, data: &[u8], key: &PublicKey) -> Result<(), BundleError> {
    if sig.key_id != key.key_id() {
        return Err(BundleError::UnknownKey {
            key_id: sig.key_id,
            trusted: key.key_id().to_string(),
        });
    }
    let bad = |detail: String| BundleError::BadSignature {
        key_id: sig.key_id,
        detail,
    };
    let sig_box = minisign::SignatureBox::from_string(&sig.text).map_err(|e| bad(e.to_string()))?;
    minisign::verify(&key.inner, &sig_box, Cursor::new(data), true, false, false)
        .map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_signatures_verify_and_are_deterministic() {
        let key = SigningKey::generate().unwrap();
        let mut trusted = TrustedKeys::new();
        trusted.add(key.public_key().clone()).unwrap();
        let text = sign(&key, b"manifest", "kind=signatures version=1");
        assert_eq!(text, sign(&key, b"manifest", "kind=signatures version=1"));
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(
            verify(&parsed, b"manifest", &trusted).unwrap(),
            key.key_id()
        );
        assert!(matches!(
            verify(&parsed, b"manifesT", &trusted),
            Err(BundleError::BadSignature { .. })
        ));
    }

    #[test]
    fn short_global_signature_is_refused_not_a_panic() {
        let key = SigningKey::generate().unwrap();
        let text = sign(&key, b"m", "c");
        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = "AAAA";
        let e = parse(lines.join("\n").as_bytes()).unwrap_err();
        assert!(matches!(e, BundleError::SignatureMalformed { .. }), "{e}");
    }
}

//! Last line of defence for what reaches the terminal: every secret the process handles is
//! registered here, and everything written to stderr (logs, error messages, notices) passes
//! through [`redact`], which masks each secret — also in the encoded forms a server or URL
//! would show it in — and shows control characters escaped, so text that came from a server
//! can neither drive the terminal nor fake extra lines of its own beyond plain newlines.

use std::borrow::Cow;
use std::sync::RwLock;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// RFC 3986's unreserved characters stay as they are; everything else is encoded.
const BEYOND_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The ways a secret may appear in text: as itself, percent-encoded (strictly or leaving the
/// unreserved characters, hex in either case), form-encoded, and JSON-escaped.
fn spellings(secret: &str) -> Vec<String> {
    let mut all = vec![secret.to_string()];
    for set in [NON_ALPHANUMERIC, BEYOND_UNRESERVED] {
        let upper = utf8_percent_encode(secret, set).to_string();
        let lower = lower_hex(&upper);
        all.extend([upper, lower]);
    }
    all.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    if let Ok(json) = serde_json::to_string(secret) {
        all.push(json.trim_matches('"').to_string());
    }
    all.sort();
    all.dedup();
    all
}

/// `%2B` → `%2b`: some servers write percent-encoding in lower case.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

/// Remembers a secret so it is masked wherever it would be printed.
pub fn register(secret: &str) {
    // Very short values would mask ordinary words; real tokens and secrets are long.
    if secret.len() < 6 {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write() {
        for spelling in spellings(secret) {
            if !secrets.contains(&spelling) {
                secrets.push(spelling);
            }
        }
        // Longest first, so a spelling that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret masked and control characters (other than newlines
/// and tabs) shown escaped.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), "***"));
            }
        }
    }
    if let Cow::Owned(escaped) = escape_controls(&out, |c| c == '\n' || c == '\t') {
        out = Cow::Owned(escaped);
    }
    out
}

/// Text that came from a server (or a browser callback), made safe to print on one line:
/// control characters, which could drive the terminal (escape sequences) or fake extra lines,
/// are shown escaped.
pub fn clean(text: &str) -> String {
    escape_controls(text, |_| false).into_owned()
}

/// `text` with its control characters shown escaped, except those `keep` lets through.
fn escape_controls(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() && !keep(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A stderr writer for the log subscriber that masks registered secrets.
pub struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked() {
        register("s3cr3t-value-123");
        assert_eq!(redact("token=s3cr3t-value-123;"), "token=***;");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn encoded_forms_are_masked_too() {
        register("Secret+With/Odd chars=1");
        for shown in [
            "secret=Secret%2BWith%2FOdd%20chars%3D1&x",
            "secret=Secret%2bWith%2fOdd%20chars%3d1&x",
            "secret=Secret%2BWith%2FOdd+chars%3D1&x",
        ] {
            assert_eq!(redact(shown), "secret=***&x", "{shown}");
        }
        register("tok\"en\\with-quotes");
        assert_eq!(redact(r#"{"t":"tok\"en\\with-quotes"}"#), r#"{"t":"***"}"#);
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(clean("plain text"), "plain text");
        assert_eq!(
            clean("red\u{1b}[31m\nfake line\r"),
            "red\\u{1b}[31m\\nfake line\\r"
        );
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(
            redact("bad\u{1b}[2Jthing\r\nnext\tline"),
            "bad\\u{1b}[2Jthing\\r\nnext\tline"
        );
    }
}

//! The one reader of TikTok's envelope `{code, message, request_id, data}`. `data` is handed to
//! a caller's seed, so a report page decodes its rows in the same pass while every other call
//! keeps `data` as raw JSON; either way `code`, `message` and `request_id` are read here only,
//! and the envelope's outcome is judged here only.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::error::ApiError;
use super::http::Answer;
use crate::redact::clean;

/// An envelope whose `data` went through a seed.
pub(crate) struct Envelope<D> {
    pub code: i64,
    pub message: String,
    pub request_id: String,
    /// `None` when the envelope had no `data` key.
    pub data: Option<D>,
}

impl<D> Envelope<D> {
    /// Code 0, nothing said, no `data`: what a reader fills in.
    pub(crate) fn empty() -> Self {
        Self {
            code: 0,
            message: String::new(),
            request_id: String::new(),
            data: None,
        }
    }
}

/// Reads one envelope from `bytes`, handing `data` to `seed`; trailing bytes are an error.
pub(crate) fn read<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    seed: S,
) -> serde_json::Result<Envelope<S::Value>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let envelope = de.deserialize_map(EnvelopeVisitor { seed })?;
    de.end()?;
    Ok(envelope)
}

/// Turns what was read into the call's outcome: success (`code` 0, or 20001 = partial
/// success, on a 2xx), TikTok's error, an HTTP error, a body cut short, or a body that is not
/// an envelope at all.
pub(crate) fn judge<D>(
    endpoint: &str,
    answer: &Answer<'_>,
    read: serde_json::Result<Envelope<D>>,
) -> Result<Envelope<D>, ApiError> {
    match read {
        Ok(envelope) if envelope.code == 0 || envelope.code == 20001 => {
            if answer.is_success() {
                Ok(envelope)
            } else {
                Err(answer.http_error(endpoint))
            }
        }
        Ok(envelope) => Err(ApiError::Api {
            code: envelope.code,
            message: clean(&envelope.message),
            request_id: clean(&envelope.request_id),
            endpoint: endpoint.to_string(),
        }),
        Err(_) if !answer.is_success() => Err(answer.http_error(endpoint)),
        // A body that stops in the middle of the JSON was cut short on the way (a proxy, a
        // dropped link) even when its Content-Length agreed: worth another try.
        Err(e) if e.is_eof() => Err(ApiError::Inconsistent {
            endpoint: endpoint.to_string(),
            detail: format!(
                "the answer was cut short ({} bytes, {e})",
                answer.body.len()
            ),
        }),
        Err(e) => Err(ApiError::Decode {
            endpoint: endpoint.to_string(),
            detail: format!("not a TikTok JSON envelope ({e})"),
        }),
    }
}

struct EnvelopeVisitor<S> {
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for EnvelopeVisitor<S> {
    type Value = Envelope<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TikTok envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut code = None;
        let mut envelope = Envelope::empty();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "code" => {
                    let value: serde_json::Value = map.next_value()?;
                    let parsed = match &value {
                        serde_json::Value::Number(n) => n.as_i64(),
                        serde_json::Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    code = Some(parsed.ok_or_else(|| {
                        serde::de::Error::custom(format!("code {value} is not a number"))
                    })?);
                }
                "message" => {
                    envelope.message = map.next_value::<Option<String>>()?.unwrap_or_default()
                }
                "request_id" => {
                    envelope.request_id = match map.next_value::<serde_json::Value>()? {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    }
                }
                "data" => match seed.take() {
                    Some(seed) => envelope.data = Some(map.next_value_seed(seed)?),
                    None => return Err(serde::de::Error::duplicate_field("data")),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        envelope.code = code.ok_or_else(|| serde::de::Error::missing_field("code"))?;
        Ok(envelope)
    }
}

/// Keeps `data` as raw JSON text, for decoding into whatever type the caller wants.
pub(crate) struct RawData;

impl<'de> DeserializeSeed<'de> for RawData {
    type Value = Box<serde_json::value::RawValue>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        serde::Deserialize::deserialize(de)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_as_numbers_or_strings_and_keeps_data_raw() {
        let e = read(
            br#"{"code":"40100","message":"slow","request_id":7,"data":{"a":1}}"#,
            RawData,
        )
        .unwrap();
        assert_eq!(e.code, 40100);
        assert_eq!(e.request_id, "7");
        assert_eq!(e.data.unwrap().get(), r#"{"a":1}"#);
        let e = read(br#"{"code":0}"#, RawData).unwrap();
        assert!(e.data.is_none());
    }

    #[test]
    fn missing_code_duplicate_data_and_trailing_bytes_are_refused() {
        assert!(read(br#"{"message":"x"}"#, RawData).is_err());
        assert!(read(br#"{"code":0,"data":{},"data":{}}"#, RawData).is_err());
        assert!(read(br#"{"code":0} {"code":0}"#, RawData).is_err());
        assert!(
            read(br#"{"code":0,"data":{"list":["#, RawData)
                .err()
                .is_some_and(|e| e.is_eof())
        );
    }
}

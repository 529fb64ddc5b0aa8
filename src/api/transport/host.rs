//! Where requests may go: the API host a user configures, and the one rule that keeps the token
//! off the network unencrypted (plain http only to this machine's loopback addresses).

use std::net::IpAddr;

use url::Url;

/// Checks a `--base-url`: https anywhere, plain http only to this machine.
pub(crate) fn parse_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("invalid base URL {text:?} ({e}): expected e.g. https://business-api.tiktok.com")
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "refusing plain http to {}: the token would cross the network unencrypted; use \
                 https, or http only for 127.0.0.1, ::1 or localhost",
                url.host_str().unwrap_or("?")
            ));
        }
        other => {
            return Err(format!(
                "unsupported scheme {other:?} in base URL: use https"
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL must not carry a query or fragment".into());
    }
    Ok(url)
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_for_loopback() {
        assert!(parse_base_url("https://business-api.tiktok.com").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://[::1]:8080").is_ok());
        assert!(parse_base_url("http://localhost:1").is_ok());
        let err = parse_base_url("http://example.com").unwrap_err();
        assert!(err.contains("refusing plain http"), "{err}");
        assert!(parse_base_url("ftp://example.com").is_err());
        assert!(parse_base_url("not a url").is_err());
    }
}

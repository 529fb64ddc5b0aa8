//! `.env` in the working directory: it may set the app ID and secret and the tool's defaults,
//! never where requests go. A `.env` comes with whatever repository a user happens to run the
//! tool in, so a variable that would send the token elsewhere (another API host, a proxy, a
//! trust store, another config directory) is ignored there with a notice; set in the real
//! environment or as a flag it works as documented. Variables already set always win.

use std::path::Path;

/// Variables that decide where requests go, whom TLS trusts, or which stored secrets are used.
const WHERE_REQUESTS_GO: &[&str] = &[
    "TIKTOK_ADS_BASE_URL",
    "TIKTOK_ADS_CONFIG_DIR",
    "TIKTOK_ADS_STATE_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// What a `.env` holds for this process.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EnvFile {
    /// Variables to set (only `TIKTOK_*` ones not already set, none of the refused).
    pub apply: Vec<(String, String)>,
    /// Names refused because they would change where requests go.
    pub refused: Vec<String>,
    /// Why the file could not be read, if it could not.
    pub problem: Option<String>,
}

/// Reads `path` (a missing file is an empty one) and sorts its variables; `is_set` says which
/// are already in the environment.
pub fn read(path: &Path, is_set: impl Fn(&str) -> bool) -> EnvFile {
    let mut file = EnvFile::default();
    let items = match dotenvy::from_path_iter(path) {
        Ok(items) => items,
        Err(e) if e.not_found() => return file,
        Err(e) => {
            file.problem = Some(e.to_string());
            return file;
        }
    };
    for item in items {
        let (key, value) = match item {
            Ok(pair) => pair,
            Err(e) => {
                file.problem = Some(e.to_string());
                break;
            }
        };
        if WHERE_REQUESTS_GO
            .iter()
            .any(|refused| refused.eq_ignore_ascii_case(&key))
        {
            file.refused.push(key);
        } else if key.starts_with("TIKTOK_") && !is_set(&key) {
            file.apply.push((key, value));
        }
    }
    file
}

impl EnvFile {
    /// The one line to say about it, if any.
    pub fn notice(&self) -> Option<String> {
        if let Some(problem) = &self.problem {
            return Some(format!("note: ignoring .env ({problem})"));
        }
        (!self.refused.is_empty()).then(|| {
            format!(
                "note: ignoring {} in ./.env: a .env may set the app ID, secret and defaults, never \
                 where requests go (set it in the environment or pass the flag)",
                self.refused.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_changing_variables_are_refused_and_set_ones_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "TIKTOK_APP_ID=7100000000000000009\nTIKTOK_ADS_BASE_URL=https://attacker.example\n\
             https_proxy=http://attacker.example:3128\nSSL_CERT_FILE=/tmp/evil.pem\n\
             TIKTOK_ADS_PROFILE=work\nDATABASE_URL=postgres://x\n",
        )
        .unwrap();
        let file = read(&path, |key| key == "TIKTOK_ADS_PROFILE");
        assert_eq!(
            file.apply,
            [(
                "TIKTOK_APP_ID".to_string(),
                "7100000000000000009".to_string()
            )]
        );
        assert_eq!(
            file.refused,
            ["TIKTOK_ADS_BASE_URL", "https_proxy", "SSL_CERT_FILE"]
        );
        assert!(file.notice().unwrap().contains("TIKTOK_ADS_BASE_URL"));
        assert_eq!(
            read(&dir.path().join("missing"), |_| false),
            EnvFile::default()
        );
    }
}

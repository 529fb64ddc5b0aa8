//! Country codes back from the names an async task's CSV writes: TikTok's asynchronous
//! reports name the country (REFERENCE 9, a known bug) where the synchronous endpoint writes
//! its ISO 3166-1 alpha-2 code. Which spelling TikTok uses is not documented, so a name is
//! matched by its letters alone against the ISO names and the usual English short names.

use std::sync::atomic::{AtomicBool, Ordering};

/// The alpha-2 code of a country named `name` ("United States", "united_states", "Korea,
/// Republic of"); `None` when no country is known by it.
pub(super) fn code_of(name: &str) -> Option<&'static str> {
    // ISO's "Korea, Republic of" order is "Republic of Korea" in the tables.
    let turned = match name.split_once(',') {
        Some((head, qualifier)) => format!("{qualifier} {head}"),
        None => name.to_string(),
    };
    let letters: String = turned
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    celes::Country::from_name(&letters)
        .or_else(|_| celes::Country::from_alias(&letters))
        .ok()
        .map(|country| country.alpha2)
}

/// A `country_code` cell as the synchronous endpoint writes it: a code stays, a name becomes
/// its code, and a name no table knows stays as written (said once per run).
pub(super) fn spelled_as_code(value: &str) -> String {
    let is_code = value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase());
    if is_code || value.is_empty() || value == "-" {
        return value.to_string();
    }
    match code_of(value) {
        Some(code) => code.to_string(),
        None => {
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "the async report names a country \"{value}\" that has no known ISO code: \
                     kept as written, so this column differs from the synchronous report's"
                );
            }
            value.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_usual_spellings_become_codes() {
        for (name, code) in [
            ("United States", "US"),
            ("United States of America", "US"),
            ("united_states", "US"),
            ("United Kingdom", "GB"),
            ("Germany", "DE"),
            ("Austria", "AT"),
            ("France", "FR"),
            ("Canada", "CA"),
            ("Korea, Republic of", "KR"),
            ("South Korea", "KR"),
            ("Viet Nam", "VN"),
            ("Vietnam", "VN"),
            ("Russia", "RU"),
            ("Czech Republic", "CZ"),
            ("Czechia", "CZ"),
            ("Netherlands", "NL"),
            ("Japan", "JP"),
            ("Brazil", "BR"),
            ("Saudi Arabia", "SA"),
            ("United Arab Emirates", "AE"),
            ("Taiwan", "TW"),
        ] {
            assert_eq!(code_of(name), Some(code), "{name}");
        }
        assert_eq!(code_of("Atlantis"), None);
    }

    #[test]
    fn codes_and_empty_cells_stay_and_unknown_names_are_kept() {
        assert_eq!(spelled_as_code("US"), "US");
        assert_eq!(spelled_as_code(""), "");
        assert_eq!(spelled_as_code("-"), "-");
        assert_eq!(spelled_as_code("Germany"), "DE");
        assert_eq!(spelled_as_code("Atlantis"), "Atlantis");
    }
}

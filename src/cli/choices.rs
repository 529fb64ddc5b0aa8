//! Flags whose values are the domain's own enums (output formats, token stores, report levels):
//! clap stays here, in the CLI layer; the enums below know nothing of it.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// One accepted value: its name on the command line, its help, and what it means.
pub(crate) type Choice<T> = (&'static str, &'static str, T);

/// A value parser accepting exactly `choices` (shown in help and completions).
pub(crate) fn parser<T: Clone + Send + Sync + 'static>(
    choices: &'static [Choice<T>],
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(choices.iter().map(|(name, help, _)| {
        let value = PossibleValue::new(*name);
        if help.is_empty() {
            value
        } else {
            value.help(*help)
        }
    }))
    .try_map(move |name| {
        choices
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, value)| value.clone())
            .ok_or("not one of the accepted values")
    })
}

use crate::config::TokenStoreKind;
use crate::output::FormatChoice;
use crate::report::{Breakdown, Level};

pub(crate) const FORMATS: &[Choice<FormatChoice>] = &[
    (
        "auto",
        "Table on a terminal; otherwise from the -o extension, else CSV",
        FormatChoice::Auto,
    ),
    ("table", "", FormatChoice::Table),
    ("csv", "", FormatChoice::Csv),
    ("json", "", FormatChoice::Json),
    ("ndjson", "", FormatChoice::Ndjson),
];

pub(crate) const TOKEN_STORES: &[Choice<TokenStoreKind>] = &[
    (
        "auto",
        "The OS keyring, falling back to the credentials file when no keyring is reachable",
        TokenStoreKind::Auto,
    ),
    ("keyring", "The OS keyring only", TokenStoreKind::Keyring),
    (
        "file",
        "The owner-only credentials file only",
        TokenStoreKind::File,
    ),
];

pub(crate) const LEVELS: &[Choice<Level>] = &[
    ("advertiser", "", Level::Advertiser),
    ("campaign", "", Level::Campaign),
    ("adgroup", "", Level::Adgroup),
    ("ad", "", Level::Ad),
];

pub(crate) const BREAKDOWNS: &[Choice<Breakdown>] = &[
    (
        "day",
        "One row per day (`stat_time_day`; at most 30 days per request)",
        Breakdown::Day,
    ),
    (
        "hour",
        "One row per hour (`stat_time_hour`; one day per request)",
        Breakdown::Hour,
    ),
    (
        "none",
        "Totals over the range (at most 365 days per request)",
        Breakdown::None,
    ),
];

//! `doctor`: each piece of the setup checked on its own line with what to do about it.
//! Never prints a secret.

use std::fmt::Write as _;

use anyhow::Result;

use super::context::Context;
use super::credentials::{ResolvedToken, TokenSource};
use super::errors::CliError;
use crate::api::{Client, Headers, Query, Request};
use crate::auth::token::app_secret_key;
use crate::config::{ConfigFile, Environment, TokenStoreKind};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Problem,
}

struct Report {
    lines: Vec<(Level, &'static str, String, Option<String>)>,
}

impl Report {
    fn add(
        &mut self,
        level: Level,
        check: &'static str,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.lines.push((level, check, detail.into(), fix));
    }
}

pub(crate) async fn run(ctx: &Context) -> Result<()> {
    let mut r = Report { lines: Vec::new() };
    check_config(&mut r, ctx);
    check_environment(&mut r, ctx);
    check_app(&mut r, ctx).await;
    check_keyring(&mut r, ctx).await;
    let tls = check_tls(&mut r, ctx);
    let token = check_token(&mut r, ctx).await;
    if let (Some(token), true) = (token, tls) {
        let client = ctx.client(Some(token.token.clone()))?;
        check_token_at_tiktok(&mut r, &client).await;
        check_advertisers(&mut r, ctx, &client, &token).await;
        quota(&mut r, &client);
    }
    ctx.write_text(&r.render())?;
    let problems = r.lines.iter().filter(|l| l.0 == Level::Problem).count();
    if problems > 0 {
        return Err(CliError::Partial(format!("doctor found {problems} problem(s)")).into());
    }
    Ok(())
}

impl Report {
    /// One line per check (`ok`, `warn`, `problem`), with the fix under it; secrets masked.
    fn render(&self) -> String {
        let mut out = String::new();
        for (level, check, detail, fix) in &self.lines {
            let tag = match level {
                Level::Ok => "ok",
                Level::Warn => "warn",
                Level::Problem => "problem",
            };
            let _ = writeln!(
                out,
                "{tag:<8} {check:<12} {}",
                crate::redact::redact(detail)
            );
            if let Some(fix) = fix {
                let _ = writeln!(out, "{:<8} {:<12} fix: {fix}", "", "");
            }
        }
        out
    }
}

/// The config file and whether it names the profile.
fn check_config(r: &mut Report, ctx: &Context) {
    let path = ConfigFile::path(&ctx.settings.config_dir);
    match ConfigFile::load(&ctx.settings.config_dir) {
        Ok(config) if config.profiles.contains_key(ctx.settings.profile_name()) => r.add(
            Level::Ok,
            "config",
            format!(
                "{} (profile {:?})",
                path.display(),
                ctx.settings.profile_name()
            ),
            None,
        ),
        Ok(_) => r.add(
            Level::Ok,
            "config",
            format!(
                "profile {:?} not in {} (defaults apply)",
                ctx.settings.profile_name(),
                path.display()
            ),
            None,
        ),
        Err(e) => r.add(
            Level::Problem,
            "config",
            format!("{e:#}"),
            Some(format!("fix or remove {}", path.display())),
        ),
    }
}

/// The environment and the host calls go to.
fn check_environment(r: &mut Report, ctx: &Context) {
    let host_note = if ctx.settings.base_override.is_some() {
        " (--base-url / TIKTOK_ADS_BASE_URL)"
    } else {
        ""
    };
    r.add(
        Level::Ok,
        "environment",
        format!(
            "{}, {}{host_note}",
            ctx.settings.environment, ctx.settings.base_url
        ),
        None,
    );
}

/// The app's ID and secret (needed to log in and list accounts, not for reports).
async fn check_app(r: &mut Report, ctx: &Context) {
    let secret = ctx.credentials.app_secret(false).await;
    match (ctx.settings.app_id(), secret) {
        (Some(app_id), Ok(Some(_))) => r.add(Level::Ok, "app", format!("app ID {app_id}, app secret present"), None),
        (app_id, _) => r.add(
            Level::Warn,
            "app",
            format!(
                "{} (needed by auth login, advertiser list and logout, not by reports)",
                match app_id {
                    Some(id) => format!("app ID {id}, no app secret"),
                    None => "no app ID".to_string(),
                }
            ),
            Some("set TIKTOK_APP_ID and TIKTOK_APP_SECRET (or a .env file), or `tiktok-ads config set app_id ID`".into()),
        ),
    }
}

/// Whether the OS keyring answers (probed with a read of an entry that does not exist).
async fn check_keyring(r: &mut Report, ctx: &Context) {
    let store = ctx.credentials.store();
    if ctx.settings.store_kind() == TokenStoreKind::File {
        r.add(Level::Ok, "keyring", "not used (token store: file)", None);
    } else {
        let probe = crate::auth::SecretStore::new(
            TokenStoreKind::Keyring,
            crate::auth::file::FileStore::in_dir(&ctx.settings.config_dir),
        );
        match probe.get(&app_secret_key("doctor-probe")).await {
            Ok(_) => r.add(Level::Ok, "keyring", "the OS keyring answers", None),
            Err(e) if ctx.settings.store_kind() == TokenStoreKind::Keyring => r.add(
                Level::Problem,
                "keyring",
                e.to_string(),
                Some(
                    "start a desktop session with an unlocked keyring, or use --token-store file"
                        .into(),
                ),
            ),
            Err(e) => r.add(
                Level::Warn,
                "keyring",
                format!("{e} — tokens go to {}", store.file_path().display()),
                None,
            ),
        }
    }
}

/// Whether an HTTPS client can be made (CA certificates); `true` when it can.
fn check_tls(r: &mut Report, ctx: &Context) -> bool {
    match ctx.client(None) {
        Ok(_) => {
            r.add(Level::Ok, "tls", "CA certificates loaded", None);
            true
        }
        Err(e) => {
            r.add(
                Level::Problem,
                "tls",
                format!("{e:#}"),
                Some(
                    "install CA certificates (Debian/Ubuntu: apt-get install ca-certificates)"
                        .into(),
                ),
            );
            false
        }
    }
}

/// Where the token comes from; the token, when there is one.
async fn check_token(r: &mut Report, ctx: &Context) -> Option<ResolvedToken> {
    let token = ctx.token().await;
    match &token {
        Ok(t) => {
            let detail = match &t.source {
                TokenSource::Env => "from TIKTOK_ACCESS_TOKEN".to_string(),
                other => format!("in the {other}, for {}", ctx.settings.realm_shown()),
            };
            r.add(Level::Ok, "token", format!("found {detail}"), None);
        }
        Err(e) => r.add(
            Level::Problem,
            "token",
            format!("{e:#}"),
            Some(format!(
                "tiktok-ads{} auth login",
                if ctx.settings.environment == Environment::Sandbox {
                    " --sandbox"
                } else {
                    ""
                }
            )),
        ),
    }
    token.ok()
}

/// Whether TikTok takes the token (the cheapest call there is), and the clock against TikTok's.
async fn check_token_at_tiktok(r: &mut Report, client: &Client) {
    let no_parameters = Query::new();
    let live = client
        .call(&Request::get(
            crate::api::user::USER_INFO_PATH,
            &no_parameters,
        ))
        .await;
    match live {
        Ok(response) => {
            r.add(
                Level::Ok,
                "token check",
                format!("accepted by TikTok (request_id {})", response.request_id),
                None,
            );
            clock(r, &response.headers);
        }
        Err(e) => r.add(
            Level::Problem,
            "token check",
            e.to_string(),
            Some(if e.is_auth() {
                "tiktok-ads auth login".into()
            } else {
                "check the network and try again".into()
            }),
        ),
    }
}

/// Whether the accounts a command would use (`--advertiser`, the profile's, else those
/// recorded at login) are reachable with the token.
async fn check_advertisers(r: &mut Report, ctx: &Context, client: &Client, token: &ResolvedToken) {
    let mut accounts = ctx.settings.advertisers_given();
    if accounts.is_empty() {
        accounts.extend(
            token
                .stored
                .as_ref()
                .map(|s| s.advertiser_ids.clone())
                .unwrap_or_default(),
        );
    }
    if accounts.is_empty() {
        r.add(
            Level::Warn,
            "advertisers",
            "none known to check",
            Some("pass --advertiser ID".into()),
        );
    } else {
        match client
            .advertisers()
            .info(&accounts, &["advertiser_id", "name"])
            .await
        {
            Ok(found) => {
                let reachable = accounts
                    .iter()
                    .filter(|a| {
                        found.iter().any(|f| {
                            f.get("advertiser_id").and_then(|v| v.as_str()) == Some(a.as_str())
                        })
                    })
                    .count();
                let all = reachable == accounts.len();
                r.add(
                    if all { Level::Ok } else { Level::Problem },
                    "advertisers",
                    format!("{reachable} of {} reachable", accounts.len()),
                    (!all).then(|| "log in again and grant the missing ad accounts".into()),
                )
            }
            Err(e) => r.add(
                Level::Problem,
                "advertisers",
                e.to_string(),
                Some("log in again and grant these ad accounts, or check --advertiser".into()),
            ),
        }
    }
}

/// How each endpoint of the app used TikTok's quota lately, as every tiktok-ads process of the
/// app recorded it in the shared pacing state.
fn quota(r: &mut Report, client: &Client) {
    let (store, shared) = client.pacing_store();
    if shared {
        r.add(
            Level::Ok,
            "pacing",
            format!("state shared through {store}"),
            None,
        );
    } else {
        r.add(
            Level::Warn,
            "pacing",
            format!("pacing {store}"),
            Some(
                "other runs of this app are not paced with this one: check the state directory \
                 or the --pacing database"
                    .into(),
            ),
        );
    }
    for standing in client.quota_standings() {
        let slowed = if standing.share < 1000 {
            format!(
                ", pacing at {}% of the limit after rejections",
                standing.share / 10
            )
        } else {
            String::new()
        };
        let learned = standing
            .learned
            .map(|(count, secs)| {
                format!(
                    ", TikTok allows about {count} in any {secs} s (learnt from its rejections)"
                )
            })
            .unwrap_or_default();
        r.add(
            if standing.rejected > 0 {
                Level::Warn
            } else {
                Level::Ok
            },
            "quota",
            format!(
                "{}: {} requests in the last minute, {} rate-limited in the last 10 min, {} today{slowed}{learned}",
                standing.endpoint, standing.last_minute, standing.rejected, standing.today
            ),
            (standing.rejected > 0).then(|| {
                "other clients of the app share its quota: lower --rate, or spread the cron jobs out"
                    .to_string()
            }),
        );
    }
}

/// The local clock against the server's `Date` header (TikTok signs nothing with time, but a
/// wrong clock breaks "yesterday" and "today").
fn clock(r: &mut Report, headers: &Headers) {
    let server = headers
        .get("date")
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok());
    match server {
        Some(server) => {
            let skew = (chrono::Utc::now() - server.with_timezone(&chrono::Utc))
                .num_seconds()
                .abs();
            if skew > 300 {
                r.add(
                    Level::Problem,
                    "clock",
                    format!("{skew} s away from the server's clock"),
                    Some("synchronise the system clock (NTP)".into()),
                );
            } else {
                r.add(
                    Level::Ok,
                    "clock",
                    format!("within {skew} s of the server"),
                    None,
                );
            }
        }
        None => r.add(
            Level::Warn,
            "clock",
            "the server sent no Date header to compare with",
            None,
        ),
    }
}

//! `auth login | status | token | logout`.

use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::context::Context;
use super::credentials::{ResolvedToken, TokenSource};
use super::errors::{CliError, usage};
use crate::api::oauth::{AppCredentials, TokenGrant};
use crate::api::{ApiError, Client};
use crate::auth::StoredToken;
use crate::auth::login::{self, CallbackListener};
use crate::config::{self, DEFAULT_REDIRECT_URI, Environment};
use crate::output::Format;

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Authorize ad accounts in the browser and store the token.
    Login(LoginArgs),
    /// Show the profile, environment, token source and whether the token works.
    Status,
    /// Print the token (for scripts).
    Token,
    /// Revoke the token at TikTok (when the app secret is at hand) and delete it.
    Logout,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Print the URL instead of opening a browser; accept the callback or a pasted redirected URL.
    #[arg(long)]
    pub no_browser: bool,

    /// Only exchange this auth_code (`-` reads it from stdin, which keeps it out of `ps`).
    #[arg(long, value_name = "CODE", conflicts_with_all = ["no_browser", "with_token"])]
    pub auth_code: Option<String>,

    /// Read an existing access token from stdin (e.g. a sandbox token), verify and store it.
    #[arg(long, conflicts_with = "no_browser")]
    pub with_token: bool,

    /// Redirect URI registered on the app [default: profile, else http://localhost:8080/callback].
    #[arg(long, value_name = "URL")]
    pub redirect_uri: Option<String>,

    /// Seconds to wait for the browser callback.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub callback_timeout: u64,
}

pub(crate) async fn run(ctx: &Context, command: AuthCommand) -> Result<()> {
    match command {
        AuthCommand::Login(args) => login(ctx, args).await,
        AuthCommand::Status => status(ctx).await,
        AuthCommand::Token => token(ctx).await,
        AuthCommand::Logout => logout(ctx).await,
    }
}

async fn login(ctx: &Context, args: LoginArgs) -> Result<()> {
    if args.with_token {
        return login_with_token(ctx).await;
    }
    if ctx.settings.environment == Environment::Sandbox && ctx.settings.base_override.is_none() {
        ctx.notice(
            "note: sandbox tokens are created in the developer portal (app page → sandbox ad \
             account); store one with `tiktok-ads --sandbox auth login --with-token`",
        );
    }
    // Everything that can fail without the user is checked before the browser opens.
    let app = ctx.credentials.app_credentials(true).await?;
    let client = ctx.client(None)?;
    let code = match &args.auth_code {
        Some(code) => code_from_arg(ctx, code)?,
        None => browser_consent(ctx, &app, &args).await?,
    };
    crate::redact::register(code.expose_secret());
    let grant = client
        .oauth()
        .exchange_code(&app, &code)
        .await
        .context("exchanging the auth_code for a token")?;
    crate::redact::register(grant.access_token.expose_secret());
    store_grant(ctx, &app, &grant).await?;

    let authed = ctx.client(Some(grant.access_token.clone()))?;
    print_advertisers_after_login(ctx, &authed, &app, &grant).await
}

fn code_from_arg(ctx: &Context, code: &str) -> Result<SecretString> {
    if code == "-" {
        return ctx.credentials.read_from_stdin("auth_code");
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(usage("--auth-code is empty"));
    }
    Ok(SecretString::from(code.to_string()))
}

async fn browser_consent(
    ctx: &Context,
    app: &AppCredentials,
    args: &LoginArgs,
) -> Result<SecretString> {
    let redirect_text = args
        .redirect_uri
        .clone()
        .or_else(|| ctx.settings.profile.redirect_uri.clone())
        .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_string());
    let redirect_uri = config::parse_redirect_uri(&redirect_text).map_err(usage)?;
    let state = login::new_state();
    let url = login::consent_url(
        &ctx.settings.consent_base(),
        &app.app_id,
        &state,
        &redirect_uri,
    );

    // With a remote redirect URI only pasting can work; otherwise listen before opening.
    let listener = match CallbackListener::bind(&redirect_uri).await {
        Ok(listener) => Some(listener),
        Err(login::LoginError::NotLoopback(_)) if args.no_browser => None,
        Err(e) => return Err(e.into()),
    };
    let paste_allowed = args.no_browser;
    // The URL and what to do are said even under --quiet: the login cannot go on without them.
    if args.no_browser {
        ctx.say(&format!(
            "Open this URL in a browser, approve the ad accounts, then come back:\n\n  {url}\n"
        ));
        if paste_allowed {
            ctx.say(&format!(
                "Waiting for the redirect to {redirect_uri} ... or paste the URL you were redirected \
                 to (or the auth_code) and press Enter:"
            ));
        }
    } else {
        ctx.say(&format!(
            "Opening the TikTok consent page in your browser. If it does not open, visit:\n\n  {url}\n"
        ));
        if webbrowser::open(url.as_str()).is_err() {
            ctx.say("(no browser could be started: open the URL above by hand)");
        }
        ctx.say(&format!(
            "Waiting up to {} s for the redirect to {redirect_uri} ...",
            args.callback_timeout
        ));
    }
    let paste = paste_allowed.then(|| ctx.streams.async_input());
    let code = login::wait_for_code(
        listener,
        paste,
        &state,
        Duration::from_secs(args.callback_timeout),
    )
    .await?;
    Ok(code)
}

async fn store_grant(ctx: &Context, app: &AppCredentials, grant: &TokenGrant) -> Result<()> {
    let record = StoredToken {
        access_token: grant.access_token.expose_secret().to_string(),
        app_id: Some(app.app_id.clone()),
        advertiser_ids: grant.advertiser_ids.clone(),
        scope: grant.scope.clone(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    save_token(ctx, &record).await
}

async fn save_token(ctx: &Context, record: &StoredToken) -> Result<()> {
    let saved = ctx
        .credentials
        .store()
        .set(ctx.credentials.token_key(), &record.to_json())
        .await
        .context("storing the token")?;
    if let Some(reason) = &saved.fallback_reason {
        ctx.notice(&format!(
            "No usable OS keyring ({reason}); the token is stored in {} (readable only by you).",
            saved.location
        ));
    }
    ctx.notice(&format!(
        "Logged in to {} as profile {:?}; token stored in the {}.",
        ctx.settings.realm_shown(),
        ctx.settings.profile_name(),
        saved.location
    ));
    Ok(())
}

async fn print_advertisers_after_login(
    ctx: &Context,
    client: &Client,
    app: &AppCredentials,
    grant: &TokenGrant,
) -> Result<()> {
    let names = match client.oauth().advertisers(app).await {
        Ok(list) => list,
        Err(e) => {
            ctx.notice(&format!("(could not fetch advertiser names: {e})"));
            Vec::new()
        }
    };
    let mut writer = ctx.record_writer(vec!["advertiser_id".into(), "advertiser_name".into()])?;
    for id in &grant.advertiser_ids {
        let name = names
            .iter()
            .find(|a| &a.advertiser_id == id)
            .map(|a| a.advertiser_name.clone())
            .unwrap_or_default();
        writer.write(&record(&[
            ("advertiser_id", id.clone()),
            ("advertiser_name", name),
        ]))?;
    }
    ctx.finish(writer)?;
    Ok(())
}

async fn login_with_token(ctx: &Context) -> Result<()> {
    let token = ctx.credentials.read_from_stdin("access token")?;
    let client = ctx.client(Some(token.clone()))?;
    let user = match client.user().info().await {
        Ok(user) => Some(user),
        // Some sandbox deployments do not serve /user/info/: store, but say it is unverified.
        Err(e) if matches!(e.code(), Some(40008 | 40009 | 40014)) => {
            ctx.notice(&format!(
                "note: the token could not be verified here ({e}); storing it anyway"
            ));
            None
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context("the token was not accepted by TikTok; nothing was stored"));
        }
    };
    let mut advertiser_ids = ctx.settings.global.advertiser.clone();
    if advertiser_ids.is_empty()
        && let Some(id) = &ctx.settings.profile.advertiser_id
    {
        advertiser_ids.push(id.clone());
    }
    let record = StoredToken {
        access_token: token.expose_secret().to_string(),
        app_id: ctx.settings.app_id(),
        advertiser_ids,
        scope: Vec::new(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    save_token(ctx, &record).await?;
    if let Some(user) = user.filter(|u| !u.display_name.is_empty()) {
        ctx.notice(&format!("The token belongs to {}.", user.display_name));
    }
    Ok(())
}

async fn status(ctx: &Context) -> Result<()> {
    let mut fields: Vec<(&str, Value)> = vec![
        ("profile", json!(ctx.settings.profile_name())),
        ("environment", json!(ctx.settings.environment.as_str())),
        ("api_host", json!(ctx.settings.base_url.as_str())),
        ("token_for", json!(ctx.settings.token_realm())),
    ];
    let resolved = match ctx.token().await {
        Ok(resolved) => resolved,
        Err(e) => {
            fields.push(("token", json!("none")));
            print_status(ctx, &fields)?;
            return Err(e);
        }
    };
    describe_token(ctx, &resolved, &mut fields);
    let client = ctx.client(Some(resolved.token.clone()))?;
    let live = client.user().info().await;
    match &live {
        Ok(user) => {
            fields.push(("token_valid", json!(true)));
            fields.push(("user", json!(user.display_name)));
        }
        Err(e) => {
            fields.push(("token_valid", json!(false)));
            fields.push(("check_error", json!(e.to_string())));
        }
    }
    print_status(ctx, &fields)?;
    live.map(|_| ())
        .context("the stored token did not pass the live check (/user/info/)")
}

fn describe_token(ctx: &Context, resolved: &ResolvedToken, fields: &mut Vec<(&str, Value)>) {
    fields.push(("token_source", json!(resolved.source.to_string())));
    let app_id = resolved
        .stored
        .as_ref()
        .and_then(|s| s.app_id.clone())
        .or_else(|| ctx.settings.app_id());
    fields.push(("app_id", json!(app_id)));
    if let Some(stored) = &resolved.stored {
        fields.push(("advertiser_ids", json!(stored.advertiser_ids)));
        fields.push(("created_at", json!(stored.created_at)));
    }
}

fn print_status(ctx: &Context, fields: &[(&str, Value)]) -> Result<()> {
    use std::io::Write;
    let mut out = ctx.destination()?;
    match ctx.format()? {
        Format::Json | Format::Ndjson => {
            let object: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            serde_json::to_writer(&mut out, &object)?;
            writeln!(out)?;
        }
        Format::Table | Format::Csv => {
            for (key, value) in fields {
                let text = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| crate::output::records::cell(Some(v)))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => crate::output::records::cell(Some(other)),
                };
                writeln!(out, "{key:<15} {text}")?;
            }
        }
    }
    out.commit()
}

async fn token(ctx: &Context) -> Result<()> {
    use std::io::Write;
    let resolved = ctx.token().await?;
    let mut out = ctx.destination()?;
    writeln!(out, "{}", resolved.token.expose_secret())?;
    out.commit()
}

async fn logout(ctx: &Context) -> Result<()> {
    let resolved = match ctx.token().await {
        Ok(resolved) => resolved,
        // Logging out of nothing leaves the wanted state: say so, do not fail.
        Err(e) if matches!(e.downcast_ref(), Some(CliError::NotLoggedIn { .. })) => {
            ctx.notice(&format!(
                "Not logged in to {} with profile {:?}: nothing to log out.",
                ctx.settings.realm_shown(),
                ctx.settings.profile_name()
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if resolved.source == TokenSource::Env {
        return Err(usage(
            "the token comes from TIKTOK_ACCESS_TOKEN, which tiktok-ads never stores: unset it \
             (and revoke it in TikTok for Business if it leaked)",
        ));
    }
    let revoke_error = match ctx.credentials.app_secret(false).await? {
        Some(secret) => {
            match ctx.settings.app_id() {
                Some(app_id) => {
                    let app = AppCredentials { app_id, secret };
                    let client = ctx.client(Some(resolved.token.clone()))?;
                    match client.oauth().revoke(&app, &resolved.token).await {
                        Ok(_) => {
                            ctx.notice("Token revoked at TikTok.");
                            None
                        }
                        // Already revoked or unknown: nothing left to revoke.
                        Err(e) if e.code() == Some(40105) => None,
                        Err(e) => Some(e),
                    }
                }
                None => {
                    ctx.notice("No app ID at hand: the token was not revoked at TikTok, only deleted here.");
                    None
                }
            }
        }
        None => {
            ctx.notice(
                "No app secret at hand (TIKTOK_APP_SECRET): the token was not revoked at TikTok, only \
                 deleted here.",
            );
            None
        }
    };
    let removed = ctx
        .credentials
        .store()
        .delete(ctx.credentials.token_key())
        .await
        .context("deleting the stored token")?;
    for location in &removed {
        ctx.notice(&format!("Deleted the token from the {location}."));
    }
    match revoke_error {
        Some(e) => Err(anyhow::Error::new::<ApiError>(e).context(
            "the token was deleted here but TikTok did not confirm the revocation; it may still be \
             valid: revoke the app's access in TikTok for Business",
        )),
        None => Ok(()),
    }
}

fn record(pairs: &[(&str, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect()
}

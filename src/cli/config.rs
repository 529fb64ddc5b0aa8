//! `config set | get | unset | list | path`: profile settings in the config file. Only
//! `app_secret` touches the secret store; nothing else here opens the keyring.

use std::fmt::Write as _;

use anyhow::Result;
use clap::Subcommand;

use super::context::Context;
use super::errors::usage;
use crate::auth::token::app_secret_key;
use crate::config::{ConfigFile, PROFILE_KEYS};

const SECRET_KEY: &str = "app_secret";

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set a key of the profile (`app_secret` reads the value from stdin, never from argv).
    Set {
        key: String,
        /// The value (not accepted for app_secret).
        value: Option<String>,
    },
    /// Print a key of the profile.
    Get { key: String },
    /// Remove a key from the profile.
    Unset { key: String },
    /// Print every key of the profile (and the known keys).
    List,
    /// Print the path of the config file.
    Path,
}

pub(crate) async fn run(ctx: &Context, command: ConfigCommand) -> Result<()> {
    let dir = &ctx.settings.config_dir;
    let profile_name = ctx.settings.profile_name().to_string();
    match command {
        ConfigCommand::Set { key, value } if key == SECRET_KEY => {
            set_secret(ctx, value.is_some(), &profile_name).await
        }
        ConfigCommand::Set { key, value } => {
            let Some(value) = value else {
                return Err(usage(format!("config set {key} needs a value")));
            };
            let path = ConfigFile::update(dir, |config| {
                let profile = config.profiles.entry(profile_name.clone()).or_default();
                profile.set(&key, Some(&value)).map_err(usage)
            })?;
            ctx.notice(&format!(
                "Set {key} of profile {profile_name:?} in {}.",
                path.display()
            ));
            Ok(())
        }
        ConfigCommand::Unset { key } if key == SECRET_KEY => {
            let removed = ctx
                .credentials
                .store()
                .delete(&app_secret_key(&profile_name))
                .await?;
            if removed.is_empty() {
                ctx.notice("No stored app secret for this profile.");
            }
            Ok(())
        }
        ConfigCommand::Unset { key } => {
            ConfigFile::update(dir, |config| {
                let profile = config.profiles.entry(profile_name).or_default();
                profile.set(&key, None).map_err(usage)
            })?;
            Ok(())
        }
        ConfigCommand::Get { key } => get(ctx, &key, &profile_name),
        ConfigCommand::List => ctx.write_text(&list(ctx, &profile_name)?),
        ConfigCommand::Path => ctx.write_text(&format!("{}\n", ConfigFile::path(dir).display())),
    }
}

/// `config set app_secret`: the secret from stdin (never from argv) into the secret store.
async fn set_secret(ctx: &Context, given_on_argv: bool, profile_name: &str) -> Result<()> {
    if given_on_argv {
        return Err(usage(
            "the app secret is never taken from the command line (every user can read it in \
             `ps`): pipe it on stdin, e.g. `printf %s \"$SECRET\" | tiktok-ads config set app_secret`",
        ));
    }
    let secret = ctx.credentials.read_from_stdin("app secret")?;
    let saved = ctx
        .credentials
        .store()
        .set(
            &app_secret_key(profile_name),
            secrecy::ExposeSecret::expose_secret(&secret),
        )
        .await?;
    if let Some(reason) = &saved.fallback_reason {
        ctx.notice(&format!("No usable OS keyring ({reason})."));
    }
    ctx.notice(&format!(
        "Stored the app secret of profile {profile_name:?} in the {}.",
        saved.location
    ));
    Ok(())
}

/// `config get KEY`: one known key's value (never the app secret's).
fn get(ctx: &Context, key: &str, profile_name: &str) -> Result<()> {
    if key == SECRET_KEY {
        return Err(usage(
            "the app secret is not printed; `tiktok-ads config set app_secret` replaces it",
        ));
    }
    if !PROFILE_KEYS.iter().any(|(k, _)| *k == key) {
        return Err(usage(format!(
            "unknown key {key:?}: see `tiktok-ads config list`"
        )));
    }
    match ConfigFile::load(&ctx.settings.config_dir)?
        .profile(profile_name)
        .get(key)
    {
        Some(value) => ctx.write_text(&format!("{value}\n")),
        None => Err(usage(format!(
            "{key} is not set in profile {profile_name:?}"
        ))),
    }
}

/// `config list`: the profile's keys, the unset ones with what they are for, other profiles.
fn list(ctx: &Context, profile_name: &str) -> Result<String> {
    let dir = &ctx.settings.config_dir;
    let config = ConfigFile::load(dir)?;
    let profile = config.profile(profile_name);
    let mut out = String::new();
    writeln!(
        out,
        "# profile {profile_name:?} in {}",
        ConfigFile::path(dir).display()
    )?;
    for (key, about) in PROFILE_KEYS {
        if *key == SECRET_KEY {
            continue;
        }
        match profile.get(key) {
            Some(value) => writeln!(out, "{key} = {value}")?,
            None => writeln!(out, "# {key} (unset): {about}")?,
        }
    }
    let others: Vec<&str> = config
        .profiles
        .keys()
        .filter(|p| *p != profile_name)
        .map(String::as_str)
        .collect();
    if !others.is_empty() {
        writeln!(out, "# other profiles: {}", others.join(", "))?;
    }
    Ok(out)
}

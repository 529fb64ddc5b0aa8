//! `audience create|append|remove|replace|list|get|delete`: customer lists hashed on this
//! machine (see `crate::audience`), uploaded as parts of hashes, and the audiences made from
//! them. `--dry-run` on every write shows what would be sent — counts, reasons, parts — and
//! sends and writes nothing.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::context::Context;
use super::errors::{CliError, usage};
use super::stopped::thousands;
use crate::api::Client;
use crate::api::PartSource;
use crate::api::audience::{Action, FILE_PATHS_PER_CALL};
use crate::audience::normalize::{EmailRules, Invalid};
use crate::audience::prepare::{
    self, Options, Prepared, Preview, Refused, TARGETING_FLOOR, TypeChoice,
};
use crate::audience::status::status;
use crate::audience::sync::{Pending, Records, difference};
use crate::warehouse::audience_records;

#[derive(Debug, Subcommand)]
pub enum AudienceCommand {
    /// A new audience from a customer list (hashed here; raw values never leave this machine).
    Create(CreateArgs),
    /// Adds the list's people to an audience.
    Append(UpdateArgs),
    /// Removes the list's people from an audience (refused if under 1,000 would remain).
    Remove(UpdateArgs),
    /// Makes an audience exactly the list (refused under 1,000).
    Replace(UpdateArgs),
    /// Keeps an audience equal to a list across runs: only the additions and removals since
    /// the last sync are sent (the first sync replaces, and asks).
    Sync(SyncArgs),
    /// Waits until TikTok has matched the audiences (checks growing from --poll-secs to an hour
    /// apart; at most --wait-timeout): exit 0 when ready, 6 when one failed, 5 when still calculating.
    Wait {
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        /// Give up after this many seconds (48 h: TikTok matches within 24–48 h).
        #[arg(long, value_name = "SECS", default_value_t = 172_800)]
        wait_timeout: u64,
        /// The first wait between two checks, in seconds (doubling up to an hour).
        #[arg(long, value_name = "SECS", default_value_t = 600.0)]
        poll_secs: f64,
    },
    /// A lookalike of an audience: people like its people, in the locations given.
    Lookalike(LookalikeArgs),
    /// Shares audiences with other ad accounts of the Business Center.
    Share {
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        /// The ad accounts to share with (comma-separated or repeated).
        #[arg(
            long,
            value_name = "ADVERTISER",
            value_delimiter = ',',
            required = true
        )]
        to: Vec<String>,
    },
    /// The account's audiences with their state and size.
    List,
    /// Audiences by ID: state, matched people, TikTok's message (--history: its changes).
    Get {
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        #[arg(long)]
        history: bool,
    },
    /// Deletes audiences (asks on a terminal; --yes in scripts).
    Delete {
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// The customer list: a CSV with a header (email, phone, idfa, gaid columns found by name,
    /// hashed ones too: email_sha256), or one value per line.
    #[arg(long = "from", value_name = "FILE")]
    pub from: PathBuf,
    /// The ID column(s) to read: a kind (email, phone, idfa, gaid) or a header name.
    #[arg(long = "column", value_name = "COLUMN", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// What the values are, for a file without a header: email, phone or maid; `multiple`
    /// sends several ID columns (email, phone, idfa/gaid) together, one row per customer.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub kind: Option<TypeChoice>,
    /// The country of phone numbers written without a country code (ISO code: US, GB, DE…).
    #[arg(long, value_name = "CC", value_parser = parse_country)]
    pub default_country: Option<phonenumber::country::Id>,
    /// Keep the dots before an email's @ (TikTok's API note removes them; its newer help page
    /// does not say so).
    #[arg(long)]
    pub keep_email_dots: bool,
    /// Go on even when more than half of the values are invalid.
    #[arg(long)]
    pub allow_invalid: bool,
    /// Show what would be sent (counts, reasons, parts) and send and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The audience's name (1–128 characters; refused when the account has one of that name).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub list: ListArgs,
    /// Days until it expires (1–365; TikTok's default: 365 days after its last use).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=365))]
    pub retention: Option<u32>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The audience.
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct LookalikeArgs {
    /// The audience it is like (not a lookalike itself; at least 100 matched people).
    #[arg(long, value_name = "ID")]
    pub source: String,
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// narrow (most alike), balanced or broad (most people).
    #[arg(long, value_name = "SIZE", value_parser = ["narrow", "balanced", "broad"])]
    pub size: String,
    /// Location IDs (`tiktok-ads region list`), comma-separated or repeated.
    #[arg(
        long = "location",
        value_name = "ID",
        value_delimiter = ',',
        required = true
    )]
    pub locations: Vec<String>,
    /// all, android or ios.
    #[arg(long, value_name = "OS", default_value = "all", value_parser = ["all", "android", "ios"])]
    pub os: String,
    /// Count the source's own people in.
    #[arg(long)]
    pub include_source: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The audience.
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub list: ListArgs,
    /// Replace without asking on the first sync (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Keep the record of the hashes sent in this database (sqlite:PATH or postgres://…, next
    /// to report sync's tables) instead of the state directory.
    #[arg(long, value_name = "DEST")]
    pub into: Option<String>,
}

fn parse_type(text: &str) -> Result<TypeChoice, String> {
    match text.to_ascii_lowercase().as_str() {
        "email" => Ok(TypeChoice::Email),
        "phone" => Ok(TypeChoice::Phone),
        "maid" | "idfa" | "gaid" => Ok(TypeChoice::Maid),
        "multiple" => Ok(TypeChoice::Multiple),
        _ => Err(format!("{text:?} is not email, phone, maid or multiple")),
    }
}

fn parse_country(text: &str) -> Result<phonenumber::country::Id, String> {
    text.trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("{text:?} is not a country code such as US, GB or DE"))
}

impl ListArgs {
    fn options(&self) -> Options {
        Options {
            columns: self.columns.clone(),
            kind: self.kind,
            default_country: self.default_country,
            email: EmailRules {
                strip_dots: !self.keep_email_dots,
            },
            ..Options::default()
        }
    }

    /// The list prepared off the runtime; a list TikTok could not use is a usage error.
    async fn prepare(&self, write: bool) -> Result<Prepared> {
        let (path, options) = (
            self.from.clone(),
            Options {
                allow_invalid: self.allow_invalid,
                ..self.options()
            },
        );
        tokio::task::spawn_blocking(move || prepare::prepare(&path, &options, write))
            .await
            .context("preparing the list")?
            .map_err(|e| match e.downcast::<Refused>() {
                Ok(refused) => usage(refused.0),
                Err(other) => other,
            })
    }
}

/// The preview: what would be sent, in counts only (never a value).
fn describe(path: &std::path::Path, p: &Preview) -> String {
    let mut out = format!(
        "{}: {} rows read; {} values valid ({} already hashed), {} invalid, {} blank; {} duplicate{} dropped\n",
        path.display(),
        thousands(p.rows),
        thousands(p.valid),
        thousands(p.already_hashed),
        thousands(p.invalid_total()),
        thousands(p.blank),
        thousands(p.duplicates),
        if p.duplicates == 1 { "" } else { "s" },
    );
    for (why, (n, lines)) in &p.invalid {
        let lines: Vec<String> = lines.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "  invalid: {} {} (first on lines {})\n",
            thousands(*n),
            Invalid::reason(*why),
            lines.join(", ")
        ));
    }
    let columns: Vec<String> = p
        .columns
        .iter()
        .map(|(c, k)| format!("{c} ({})", k.name()))
        .collect();
    out.push_str(&format!(
        "  read {} → {}\n",
        columns.join(", "),
        p.calculate_type
    ));
    out.push_str(&format!(
        "  {} distinct {} in {} part{}:",
        thousands(p.unique),
        if p.calculate_type == prepare::MULTIPLE_TYPES {
            "rows of hashes"
        } else {
            "hashes"
        },
        p.parts.len(),
        if p.parts.len() == 1 { "" } else { "s" }
    ));
    for (i, part) in p.parts.iter().enumerate() {
        out.push_str(&format!(
            " part {}: {} lines, {} bytes;",
            i + 1,
            thousands(part.lines),
            thousands(part.bytes)
        ));
    }
    out.push('\n');
    for warning in &p.warnings {
        out.push_str(&format!("  warning: {warning}\n"));
    }
    out
}

pub(crate) async fn run(ctx: &Context, command: AudienceCommand) -> Result<()> {
    match command {
        AudienceCommand::Create(args) => create(ctx, args).await,
        AudienceCommand::Append(args) => update(ctx, args, Action::Append).await,
        AudienceCommand::Remove(args) => update(ctx, args, Action::Remove).await,
        AudienceCommand::Replace(args) => update(ctx, args, Action::Replace).await,
        AudienceCommand::Sync(args) => sync(ctx, args).await,
        AudienceCommand::Wait {
            ids,
            wait_timeout,
            poll_secs,
        } => wait(ctx, ids, wait_timeout, poll_secs).await,
        AudienceCommand::Lookalike(args) => lookalike(ctx, args).await,
        AudienceCommand::Share { ids, to } => share(ctx, ids, to).await,
        AudienceCommand::List => list(ctx).await,
        AudienceCommand::Get { ids, history } => get(ctx, ids, history).await,
        AudienceCommand::Delete { ids, yes } => delete(ctx, ids, yes).await,
    }
}

/// Where a sync records its accepted uploads, to resume without sending them again.
struct Resume<'r> {
    records: &'r Records,
    audience: String,
    pending: Pending,
}

/// Uploads `parts`; their `file_path`s. With `resume`, a part already accepted (by its MD5)
/// is not sent again, and each accepted one is recorded at once.
async fn upload_parts(
    ctx: &Context,
    client: &Client,
    advertiser: &str,
    calculate_type: &str,
    parts: &[prepare::Part],
    mut resume: Option<&mut Resume<'_>>,
) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    let count = parts.len();
    for (i, part) in parts.iter().enumerate() {
        let (Some(path), Some(md5)) = (&part.path, &part.md5) else {
            continue;
        };
        if let Some(done) = resume.as_ref().and_then(|r| r.pending.uploaded.get(md5)) {
            ctx.notice(&format!(
                "part {} of {count} was uploaded by the interrupted run: not sent again",
                i + 1
            ));
            paths.push(done.clone());
            continue;
        }
        let name = format!("part-{:03}.txt", i + 1);
        let source = PartSource::Range {
            path: path.clone(),
            offset: 0,
            len: part.bytes,
        };
        let file_path = client
            .audiences()
            .upload(advertiser, &name, md5, calculate_type, source)
            .await
            .with_context(|| format!("uploading part {} of {count}", i + 1))?;
        if let Some(resume) = resume.as_mut() {
            resume
                .pending
                .uploaded
                .insert(md5.clone(), file_path.clone());
            resume
                .records
                .uploaded(advertiser, &resume.audience, &resume.pending)?;
        }
        ctx.notice(&format!(
            "uploaded part {} of {count} ({} hashes)",
            i + 1,
            thousands(part.lines)
        ));
        paths.push(file_path);
    }
    Ok(paths)
}

/// Uploads every part of a prepared list; their `file_path`s.
async fn upload(
    ctx: &Context,
    client: &Client,
    advertiser: &str,
    prepared: &Prepared,
) -> Result<Vec<String>> {
    upload_parts(
        ctx,
        client,
        advertiser,
        prepared.preview.calculate_type,
        &prepared.preview.parts,
        None,
    )
    .await
}

/// Sends `paths` with `action` in calls of 50 (a replace in several calls: the first
/// replaces, the others add).
async fn send(
    client: &Client,
    advertiser: &str,
    id: &str,
    action: Action,
    paths: &[String],
) -> Result<()> {
    for (i, chunk) in paths.chunks(FILE_PATHS_PER_CALL).enumerate() {
        let this = if action == Action::Replace && i > 0 {
            Action::Append
        } else {
            action
        };
        client
            .audiences()
            .update(advertiser, id, this, chunk)
            .await
            .with_context(|| format!("{} on audience {id}", this.name()))?;
    }
    Ok(())
}

/// The matched size of an audience (for the 1,000 floor).
async fn matched(client: &Client, advertiser: &str, id: &str) -> Result<u64> {
    let audiences = client
        .audiences()
        .get(advertiser, &[id.to_string()], 1)
        .await?;
    audiences
        .first()
        .and_then(|a| a.get("audience_details"))
        .and_then(|d| d.get("cover_num"))
        .and_then(Value::as_u64)
        .ok_or_else(|| usage(format!("no audience {id} in ad account {advertiser}")))
}

async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let name = args.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(usage("--name takes 1 to 128 characters"));
    }
    // A preview asks nothing of TikTok and needs no account; a create needs one, known before
    // a long list is read.
    let advertiser = if args.list.dry_run {
        String::new()
    } else {
        ctx.settings.advertiser_id()?
    };
    let prepared = args.list.prepare(!args.list.dry_run).await?;
    ctx.say(describe(&args.list.from, &prepared.preview).trim_end());
    if args.list.dry_run {
        ctx.say(&format!(
            "--dry-run: nothing was sent or written; it would create {name:?} ({}) from {} part(s)",
            prepared.preview.calculate_type,
            prepared.preview.parts.len()
        ));
        return Ok(());
    }
    if prepared.preview.unique == 0 {
        return Err(usage(format!(
            "{}: no valid ID: there is no one to add",
            args.list.from.display()
        )));
    }
    let (client, _) = ctx.authed_client().await?;
    // Names are not unique at TikTok: a second create would make a twin.
    let pages = client.audiences().list(&advertiser);
    futures_util::pin_mut!(pages);
    while let Some(page) = pages
        .try_next()
        .await
        .context("listing the account's audiences")?
    {
        if let Some(twin) = page
            .list
            .iter()
            .find(|a| a.get("name").and_then(Value::as_str) == Some(name.as_str()))
        {
            let id = twin.get("audience_id").map(cell).unwrap_or_default();
            return Err(usage(format!(
                "ad account {advertiser} already has an audience named {name:?} ({id}): add to it with \
                 `audience append {id} --from …`, or choose another --name"
            )));
        }
    }
    let paths = upload(ctx, &client, &advertiser, &prepared).await?;
    let (first, rest) = paths.split_at(paths.len().min(FILE_PATHS_PER_CALL));
    let id = client
        .audiences()
        .create(
            &advertiser,
            &name,
            prepared.preview.calculate_type,
            first,
            args.retention,
        )
        .await
        .context("creating the audience")?;
    for chunk in rest.chunks(FILE_PATHS_PER_CALL) {
        client
            .audiences()
            .update(&advertiser, &id, Action::Append, chunk)
            .await
            .with_context(|| format!("adding the remaining parts to audience {id}"))?;
    }
    ctx.write_text(&format!("{id}\n"))?;
    ctx.notice(&format!(
        "created audience {id} from {} distinct hashes: TikTok matches them within 24–48 h (`tiktok-ads audience get {id}`)",
        thousands(prepared.preview.unique)
    ));
    Ok(())
}

async fn update(ctx: &Context, args: UpdateArgs, action: Action) -> Result<()> {
    if args.id.is_empty() || !args.id.chars().all(|c| c.is_ascii_digit()) {
        return Err(usage(format!("{:?} is not an audience ID", args.id)));
    }
    let advertiser = ctx.settings.advertiser_id()?;
    let prepared = args.list.prepare(!args.list.dry_run).await?;
    ctx.say(describe(&args.list.from, &prepared.preview).trim_end());
    let unique = prepared.preview.unique;
    if action == Action::Replace && unique < TARGETING_FLOOR {
        return Err(usage(format!(
            "REPLACE would leave audience {} with {} people: TikTok refuses fewer than {TARGETING_FLOOR}",
            args.id,
            thousands(unique)
        )));
    }
    if args.list.dry_run && action != Action::Remove {
        ctx.say(&format!(
            "--dry-run: nothing was sent or written; it would {} {} hashes",
            action.name(),
            thousands(unique)
        ));
        return Ok(());
    }
    let (client, _) = ctx.authed_client().await?;
    if action == Action::Remove {
        let audiences = client
            .audiences()
            .get(&advertiser, std::slice::from_ref(&args.id), 1)
            .await?;
        let details = audiences
            .first()
            .and_then(|a| a.get("audience_details"))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                usage(format!(
                    "no audience {} in ad account {advertiser}",
                    args.id
                ))
            })?;
        let size = details
            .get("cover_num")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if size.saturating_sub(unique) < TARGETING_FLOOR {
            return Err(usage(format!(
                "REMOVE of up to {} people from audience {} ({} matched now) could leave fewer than {TARGETING_FLOOR}: TikTok refuses that",
                thousands(unique),
                args.id,
                thousands(size)
            )));
        }
        if args.list.dry_run {
            ctx.say(&format!(
                "--dry-run: nothing was sent or written; it would REMOVE {} hashes",
                thousands(unique)
            ));
            return Ok(());
        }
    }
    let paths = upload(ctx, &client, &advertiser, &prepared).await?;
    send(&client, &advertiser, &args.id, action, &paths).await?;
    ctx.notice(&format!(
        "{} of {} hashes sent to audience {}",
        action.name(),
        thousands(unique),
        args.id
    ));
    Ok(())
}

async fn sync(ctx: &Context, args: SyncArgs) -> Result<()> {
    if args.id.is_empty() || !args.id.chars().all(|c| c.is_ascii_digit()) {
        return Err(usage(format!("{:?} is not an audience ID", args.id)));
    }
    if args.list.kind == Some(TypeChoice::Multiple) {
        return Err(usage(
            "audience sync keeps one kind of ID in step (its record holds single hashes): sync \
             each kind into an audience of its own, or use audience replace with --type multiple"
                .to_string(),
        ));
    }
    let advertiser = ctx.settings.advertiser_id()?;
    let prepared = args.list.prepare(true).await?;
    ctx.say(describe(&args.list.from, &prepared.preview).trim_end());
    let into = super::scope::database(args.into.as_deref())?;
    let records = Records::new(super::scope::state_subdir(ctx, "audiences")?);
    let dir = tempfile::Builder::new()
        .prefix("tiktok-ads-sync-")
        .tempdir()?;
    let record = match &into {
        None => records.record(&advertiser, &args.id),
        Some(destination) => {
            let (destination, account, id, path) = (
                destination.clone(),
                advertiser.clone(),
                args.id.clone(),
                dir.path().join("old-record.txt"),
            );
            tokio::task::spawn_blocking(move || {
                audience_records::read(&destination, &account, &id, &path)
                    .map(|known| known.then_some(path))
            })
            .await
            .context("reading the record")??
        }
    };
    let (list_parts, record_path, dir_path) = (
        prepared.preview.parts.clone(),
        record.clone(),
        dir.path().to_path_buf(),
    );
    let difference = tokio::task::spawn_blocking(move || {
        difference(
            &list_parts,
            record_path.as_deref(),
            &dir_path,
            prepare::PART_BYTES,
        )
    })
    .await
    .context("comparing with the last sync")??;
    let first = record.is_none();
    if first {
        ctx.say(&format!(
            "no record of an earlier sync of audience {} here: this sync REPLACES its people with the list's {} hashes",
            args.id,
            thousands(prepared.preview.unique)
        ));
        if prepared.preview.unique < TARGETING_FLOOR {
            return Err(usage(format!(
                "REPLACE would leave audience {} with {} people: TikTok refuses fewer than {TARGETING_FLOOR}",
                args.id,
                thousands(prepared.preview.unique)
            )));
        }
    } else {
        ctx.say(&format!(
            "since the last sync: {} to add, {} to remove",
            thousands(difference.added),
            thousands(difference.removed)
        ));
    }
    if args.list.dry_run {
        ctx.say("--dry-run: nothing was sent or written");
        return Ok(());
    }
    if first
        && !args.yes
        && !ctx.confirm(
            &format!("replace the people of audience {}? [y/N] ", args.id),
            "the first sync replaces the audience: add --yes when not on a terminal",
            "nothing was sent",
        )?
    {
        return Ok(());
    }
    let (client, _) = ctx.authed_client().await?;
    let calculate_type = prepared.preview.calculate_type;
    let mut resume = Resume {
        records: &records,
        audience: args.id.clone(),
        pending: records.pending(&advertiser, &args.id),
    };
    if !first && difference.removed > 0 {
        let size = matched(&client, &advertiser, &args.id).await?;
        if size.saturating_sub(difference.removed) < TARGETING_FLOOR {
            return Err(usage(format!(
                "removing {} people from audience {} ({} matched now) could leave fewer than {TARGETING_FLOOR}: TikTok refuses that; nothing was sent",
                thousands(difference.removed),
                args.id,
                thousands(size)
            )));
        }
    }
    // The first sync replaces with everything; later ones add what is new, then remove what went.
    let steps = [
        (
            &difference.additions,
            if first {
                Action::Replace
            } else {
                Action::Append
            },
        ),
        (&difference.removals, Action::Remove),
    ];
    for (parts, action) in steps {
        if parts.is_empty() {
            continue;
        }
        let paths = upload_parts(
            ctx,
            &client,
            &advertiser,
            calculate_type,
            parts,
            Some(&mut resume),
        )
        .await?;
        send(&client, &advertiser, &args.id, action, &paths).await?;
    }
    match &into {
        None => records.keep(&advertiser, &args.id, &difference.record)?,
        Some(destination) => {
            let (destination, account, id, path) = (
                destination.clone(),
                advertiser.clone(),
                args.id.clone(),
                difference.record.clone(),
            );
            tokio::task::spawn_blocking(move || {
                audience_records::write(&destination, &account, &id, &path)
            })
            .await
            .context("keeping the record")??;
            records.done(&advertiser, &args.id);
        }
    }
    ctx.notice(&format!(
        "audience {} is in step with {}: {} added, {} removed",
        args.id,
        args.list.from.display(),
        thousands(difference.added),
        thousands(difference.removed)
    ));
    Ok(())
}

fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const COLUMNS: [&str; 8] = [
    "audience_id",
    "name",
    "status",
    "cover_num",
    "calculate_type",
    "expired_time",
    "msg",
    "error_msg",
];

fn row(details: &Map<String, Value>) -> Map<String, Value> {
    let now = chrono::Utc::now().naive_utc();
    let mut row: Map<String, Value> = COLUMNS
        .iter()
        .map(|c| {
            (
                c.to_string(),
                details.get(*c).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    row.insert("status".into(), json!(status(details, now)));
    row
}

async fn wait(ctx: &Context, ids: Vec<String>, timeout: u64, poll_secs: f64) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let first = std::time::Duration::try_from_secs_f64(poll_secs.max(0.05))
        .map_err(|_| usage("--poll-secs takes a number of seconds"))?;
    ctx.notice(&format!(
        "waiting for TikTok to match {} (usually 24–48 h; at most {})",
        ids.join(", "),
        humantime::format_duration(std::time::Duration::from_secs(timeout))
    ));
    let details = crate::audience::wait::until_matched(
        &client,
        &advertiser,
        &ids,
        first,
        std::time::Duration::from_secs(timeout),
    )
    .await?;
    let mut writer = ctx.record_writer(COLUMNS.map(String::from).to_vec())?;
    let rows: Vec<Map<String, Value>> = details.iter().map(row).collect();
    for r in &rows {
        writer.write(r)?;
    }
    ctx.finish(writer)?;
    let state = |s: &str| rows.iter().filter(|r| r["status"] == s).count();
    if state("failed") > 0 {
        return Err(CliError::Partial(format!(
            "{} audience(s) failed: see error_msg",
            state("failed")
        ))
        .into());
    }
    if state("calculating") > 0 {
        return Err(anyhow::Error::new(crate::api::ApiError::Timeout {
            endpoint: crate::api::audience::GET_PATH.into(),
            timeout: std::time::Duration::from_secs(timeout),
        })
        .context(format!(
            "{} audience(s) still calculating: check later with `tiktok-ads audience get`",
            state("calculating")
        )));
    }
    Ok(())
}

async fn lookalike(ctx: &Context, args: LookalikeArgs) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let name = args.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(usage("--name takes 1 to 128 characters"));
    }
    let spec = json!({
        "source_audience_id": args.source, "include_source": args.include_source,
        "mobile_os": args.os.to_ascii_uppercase(), "placements": ["TikTok"],
        "location_ids": args.locations, "audience_size": args.size.to_ascii_uppercase(),
    });
    let (client, _) = ctx.authed_client().await?;
    let id = client
        .audiences()
        .lookalike(&advertiser, name, &spec)
        .await
        .context("creating the lookalike")?;
    ctx.write_text(&format!("{id}\n"))?;
    Ok(())
}

async fn share(ctx: &Context, ids: Vec<String>, to: Vec<String>) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    client
        .audiences()
        .share(&advertiser, &ids, &to)
        .await
        .context("sharing the audiences")?;
    ctx.notice(&format!("shared {} with {}", ids.join(", "), to.join(", ")));
    Ok(())
}

async fn list(ctx: &Context) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let mut writer = ctx.record_writer(COLUMNS.map(String::from).to_vec())?;
    let pages = client.audiences().list(&advertiser);
    futures_util::pin_mut!(pages);
    while let Some(page) = pages.try_next().await.context("listing the audiences")? {
        for audience in &page.list {
            writer.write(&row(audience))?;
        }
        writer.flush()?;
    }
    ctx.finish(writer)?;
    Ok(())
}

async fn get(ctx: &Context, ids: Vec<String>, history: bool) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let found = client
        .audiences()
        .get(&advertiser, &ids, if history { 100 } else { 1 })
        .await?;
    let mut columns: Vec<String> = COLUMNS.map(String::from).to_vec();
    columns.push("last_change".into());
    if history {
        columns.push("history".into());
    }
    let mut writer = ctx.record_writer(columns)?;
    let mut seen = Vec::new();
    for audience in &found {
        let Some(details) = audience.get("audience_details").and_then(Value::as_object) else {
            continue;
        };
        let mut out = row(details);
        let changes = audience
            .get("audience_history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let last = changes.first().map(|h| {
            format!(
                "{} {} {}",
                h.get("opt_time").map(cell).unwrap_or_default(),
                h.get("action").map(cell).unwrap_or_default(),
                h.get("msg").map(cell).unwrap_or_default()
            )
            .trim()
            .to_string()
        });
        out.insert("last_change".into(), json!(last));
        if history {
            out.insert("history".into(), json!(Value::Array(changes).to_string()));
        }
        seen.push(details.get("audience_id").map(cell).unwrap_or_default());
        writer.write(&out)?;
    }
    ctx.finish(writer)?;
    let missing: Vec<&String> = ids.iter().filter(|id| !seen.contains(id)).collect();
    if !missing.is_empty() {
        return Err(CliError::Partial(format!(
            "no audience {} in ad account {advertiser}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    Ok(())
}

async fn delete(ctx: &Context, ids: Vec<String>, yes: bool) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    if !yes
        && !ctx.confirm(
            &format!(
                "delete audience{} {}? [y/N] ",
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", ")
            ),
            "deleting audiences needs --yes when not on a terminal",
            "nothing was deleted",
        )?
    {
        return Ok(());
    }
    let (client, _) = ctx.authed_client().await?;
    client
        .audiences()
        .delete(&advertiser, &ids)
        .await
        .context("deleting the audiences")?;
    ctx.notice(&format!("deleted {}", ids.join(", ")));
    Ok(())
}

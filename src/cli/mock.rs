//! `mock` (the local simulator as a server) and `demo` (the simulator in-process, driven through
//! login, a campaign list and a report export).

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Parser};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::context::Context;
use super::report::RunArgs;
use super::{GlobalArgs, entity};
use crate::api::oauth::AppCredentials;
use crate::auth::login::{self, CallbackListener};
use crate::mock::{Faults, Mock, MockOptions};
use crate::output::Streams;

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Make every report exactly N synthetic rows (ad × day), for big-report tests.
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// Answer every Nth request with the 40100 rate limit.
    #[arg(long, value_name = "N")]
    pub rate_limit_every: Option<u64>,
    /// Answer every Nth request with the 50000 system error.
    #[arg(long, value_name = "N")]
    pub fail_every: Option<u64>,
    /// Allow at most N requests per endpoint in any sliding --qps-window (40100 above it, the
    /// rejected requests not counted), like TikTok's per-app quota. Counts at /_mock/stats.
    #[arg(long, value_name = "N")]
    pub qps_limit: Option<u32>,
    /// The window of --qps-limit, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub qps_window: f64,
    /// Wait this long before each answer.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// How long a newly uploaded video takes to be processed (TikTok: 30 s to 5 min); 0 makes
    /// it usable at once. The control API's `video_ready_ms` changes it at run time.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub video_ready_secs: f64,
    /// How long a new ad stays in review before it delivers (or is rejected, as
    /// `/_mock/review` decides); 0 ends reviews at the next read. The control API's
    /// `ad_review_ms` changes it at run time.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub ad_review_secs: f64,
    /// Any fault of the control API's `/_mock/faults` from the start, as NAME=VALUE
    /// (repeatable): `--fault truncate_next=3 --fault endpoint=/report/integrated/get/`.
    #[arg(long = "fault", value_name = "NAME=VALUE")]
    pub faults: Vec<String>,
    /// How long TikTok takes to match a created or changed audience (TikTok: 24–48 h); 0 makes
    /// it ready at once. The control API's `audience_ready_ms` changes it at run time.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub audience_ready_secs: f64,
    /// Ad accounts of the seeded world (2 to 12), all in the Business Center.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(2..=crate::mock::MAX_ACCOUNTS as u64))]
    pub accounts: u64,
    /// Ad groups of each live campaign (three live campaigns an account; two ads each).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub adgroups_per_campaign: u64,
    /// The seed of the simulated numbers and IDs (the same seed, the same data).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Keep the data, tokens and tasks in this file across restarts (read at start if it
    /// exists, written after every change).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo report goes [default: demo.csv in a new temporary directory]. An
    /// existing file is never overwritten.
    #[arg(long, value_name = "FILE")]
    pub report_file: Option<std::path::PathBuf>,
}

pub(crate) async fn serve(args: MockArgs, streams: &Streams) -> Result<()> {
    if Duration::try_from_secs_f64(args.qps_window).map_or(true, |w| w.is_zero()) {
        return Err(super::errors::usage(
            "--qps-window takes a positive number of seconds",
        ));
    }
    // An app secret in the environment (the one `auth login` will send) becomes the
    // simulated app's, so the tool and the simulator agree without copying it around.
    let env_secret = std::env::var(crate::cli::credentials::APP_SECRET_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty());
    let options = MockOptions {
        rows: args.rows,
        faults: Faults {
            rate_limit_every: args.rate_limit_every,
            fail_every: args.fail_every,
            qps_limit: args.qps_limit,
            qps_window: Some(args.qps_window),
            latency_ms: args.latency_ms,
            video_ready_ms: (args.video_ready_secs.max(0.0) * 1000.0) as u64,
            ad_review_ms: Some((args.ad_review_secs.max(0.0) * 1000.0) as u64),
            audience_ready_ms: Some((args.audience_ready_secs.max(0.0) * 1000.0) as u64),
            ..Faults::default()
        },
        seed: args.seed,
        app_secret: env_secret.clone(),
        state_file: args.state_file,
        size: crate::mock::WorldSize {
            accounts: args.accounts as usize,
            adgroups_per_campaign: args.adgroups_per_campaign as usize,
        },
    };
    let mock = Mock::new(options).context("starting the simulator")?;
    let mock_accounts = mock.accounts();
    let mut settings = serde_json::Map::new();
    for fault in &args.faults {
        let Some((name, value)) = fault.split_once('=') else {
            return Err(super::errors::usage(format!(
                "--fault {fault:?} is not NAME=VALUE (e.g. --fault rate_limit_next=3)"
            )));
        };
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        settings.insert(name.trim().to_string(), value);
    }
    if !settings.is_empty() {
        mock.set_faults(&settings)
            .map_err(|e| super::errors::usage(format!("--fault: {e}")))?;
    }
    let (listener, addr) = Mock::bind(args.port)
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{} (try --port 0)", args.port))?;
    // The URL alone on stdout, for scripts (`url=$(tiktok-ads mock --port 0 | head -1)`).
    super::stopped::record(super::stopped::Done::Serving);
    let mut out = streams.stdout();
    writeln!(out, "http://{addr}")?;
    out.flush()?;
    let token = mock.startup_token().to_string();
    let (app_id, secret) = mock.app();
    let app_line = if env_secret.is_some() {
        format!("export TIKTOK_APP_ID={app_id}   (the secret is your TIKTOK_APP_SECRET)")
    } else {
        format!("export TIKTOK_APP_ID={app_id} TIKTOK_APP_SECRET={secret}")
    };
    streams.write_err_line(&format!(
        "tiktok-ads mock: a local TikTok API simulator on http://{addr} (Ctrl-C stops it)\n\
         Point the tool at it:  export TIKTOK_ADS_BASE_URL=http://{addr}\n\
         A token it issued:     export TIKTOK_ACCESS_TOKEN={token}\n\
         Its app (auth login):  {app_line}\n\
         Ad accounts:           {}\n\
         Business Center:       {}\n\
         Control API:           http://{addr}/_mock/ (faults, request log, tokens; see the README)",
        mock_accounts.join(", "),
        crate::mock::BC_ID
    ));
    mock.serve(listener).await.context("the simulator stopped")
}

pub(crate) async fn demo(global: GlobalArgs, args: DemoArgs, streams: &Streams) -> Result<()> {
    let report_file = demo_report_file(args.report_file)?;
    let (listener, addr) = Mock::bind(0)
        .await
        .context("starting the local simulator")?;
    let mock = Mock::new(MockOptions::default()).context("starting the local simulator")?;
    let mock_first_account: Vec<String> = mock.accounts().into_iter().take(1).collect();
    let app = mock.app();
    let server = tokio::spawn(mock.serve(listener));
    let base = Url::parse(&format!("http://{addr}"))?;

    let mut demo_global = global;
    demo_global.base_url = Some(base.to_string());
    demo_global.sandbox = false;
    demo_global.output = None;
    demo_global.advertiser = mock_first_account;
    let mut ctx = Context::new(demo_global.clone(), streams.clone())?;
    ctx.notice(&format!(
        "1/4  Started the local TikTok simulator on {base}"
    ));

    let token = login(&ctx, &base, app).await?;
    ctx.credentials.token_override = Some(token);
    ctx.notice(
        "2/4  Logged in through the consent page and the loopback callback (token kept in memory only)",
    );

    ctx.notice(&format!(
        "3/4  Campaigns of ad account {}:",
        ctx.settings.advertiser_id()?
    ));
    let list = DemoList::parse_from([
        "list",
        "--fields",
        "campaign_id,campaign_name,operation_status,budget,currency",
    ]);
    entity::list(&ctx, &super::campaign::ENTITY, list.args).await?;

    demo_global.output = Some(report_file.clone());
    let mut report_ctx = Context::new(demo_global, streams.clone())?;
    report_ctx.credentials.token_override = ctx.credentials.token_override.clone();
    let run = DemoReport::parse_from([
        "report",
        "--last",
        "7",
        "--level",
        "campaign",
        "--metrics",
        "campaign_name,spend,impressions,clicks,ctr,cpc",
    ]);
    super::report::run_report(&report_ctx, run.args).await?;
    ctx.notice(&format!(
        "4/4  Exported last week's campaign report to {}",
        report_file.display()
    ));
    ctx.notice(
        "\nNext: log in for real with `tiktok-ads auth login` (production) or store a sandbox token with \
         `tiktok-ads --sandbox auth login --with-token`, then run\n  tiktok-ads report run --advertiser ID --last 7 > report.csv\n\
         or keep a simulator running for your scripts with `tiktok-ads mock`.",
    );
    server.abort();
    Ok(())
}

/// The demo writes into a directory of its own unless told where, and never over a file.
fn demo_report_file(chosen: Option<std::path::PathBuf>) -> Result<std::path::PathBuf> {
    match chosen {
        Some(path) if path.exists() => Err(super::errors::usage(format!(
            "{} already exists: the demo does not overwrite files; choose another --report-file",
            path.display()
        ))),
        Some(path) => Ok(path),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("tiktok-ads-demo-")
                .tempdir()
                .context("creating a directory for the demo's report")?
                .keep();
            Ok(dir.join("demo.csv"))
        }
    }
}

#[derive(Parser)]
struct DemoList {
    #[command(flatten)]
    args: entity::ListArgs,
}

#[derive(Parser)]
struct DemoReport {
    #[command(flatten)]
    args: RunArgs,
}

/// The browser-less login: an HTTP client plays the browser, the real loopback listener
/// catches the redirect and checks `state`, and the code is exchanged.
async fn login(
    ctx: &Context,
    base: &Url,
    (app_id, secret): (String, String),
) -> Result<SecretString> {
    let listener = CallbackListener::bind(&Url::parse("http://127.0.0.1:0/callback")?).await?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let redirect = Url::parse(&format!("http://127.0.0.1:{port}/callback"))?;
    let state = login::new_state();
    let consent = login::consent_url(base, &app_id, &state, &redirect);
    let expected = state.clone();
    let waiting = tokio::spawn(async move {
        login::wait_for_code(
            listener,
            None::<tokio::io::BufReader<tokio::io::Stdin>>,
            &expected,
            Duration::from_secs(30),
        )
        .await
    });
    crate::mock::browser::approve(&consent)
        .await
        .context("opening the consent page")?;
    let code = waiting.await.context("the callback listener stopped")??;
    let app = AppCredentials {
        app_id,
        secret: SecretString::from(secret),
    };
    let grant = ctx.client(None)?.oauth().exchange_code(&app, &code).await?;
    crate::redact::register(grant.access_token.expose_secret());
    Ok(grant.access_token)
}

//! `--exec CMD`: CMD run by `sh -c` once per event, the event's JSON on its stdin, without the
//! tool's secrets in its environment (the token and the app secret never reach a hook). What
//! it prints goes to stderr (stdout carries the events). A hook that fails, hangs past its
//! timeout or cannot start is reported; the watch goes on.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::cli::credentials::{ACCESS_TOKEN_ENV, APP_SECRET_ENV};
use crate::watch::Event;

/// How long one hook may run.
const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) struct Hook {
    command: String,
}

/// What a hook run gave: its output (for stderr) and whether it failed, and how.
pub(super) struct Ran {
    pub output: String,
    pub failure: Option<String>,
}

impl Hook {
    pub(super) fn new(command: String) -> Self {
        Self { command }
    }

    pub(super) async fn run(&self, event: &Event) -> Ran {
        match self.try_run(event).await {
            Ok(ran) => ran,
            Err(e) => Ran {
                output: String::new(),
                failure: Some(format!("could not run: {e}")),
            },
        }
    }

    async fn try_run(&self, event: &Event) -> std::io::Result<Ran> {
        let mut json = serde_json::to_vec(event)?;
        json.push(b'\n');
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env_remove(ACCESS_TOKEN_ENV)
            .env_remove(APP_SECRET_ENV)
            // The database password of `--into postgres://…`, if it came from the environment.
            .env_remove("PGPASSWORD")
            .env("TIKTOK_ADS_EVENT", event.event.name())
            .env(
                "TIKTOK_ADS_EVENT_BUCKET",
                event.bucket.map(|b| b.name()).unwrap_or_default(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            // A hook that does not read its stdin is fine: a closed pipe is not a failure.
            let _ = stdin.write_all(&json).await;
        }
        match tokio::time::timeout(HOOK_TIMEOUT, child.wait_with_output()).await {
            Err(_) => Ok(Ran {
                output: String::new(),
                failure: Some(format!(
                    "still running after {} s: stopped",
                    HOOK_TIMEOUT.as_secs()
                )),
            }),
            Ok(output) => {
                let output = output?;
                let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&output.stderr));
                Ok(Ran {
                    output: text,
                    failure: (!output.status.success()).then(|| output.status.to_string()),
                })
            }
        }
    }
}

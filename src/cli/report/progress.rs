//! How a running report shows itself at a terminal: notes and errors on stderr (errors even
//! under `-q`), a progress line while it runs (kept, with the final counts, when it ends), and
//! after `-o FILE` the line saying how many rows went there. In cron, only the errors.

use crate::cli::context::Context;
use crate::report::observer::{Observer, Progress};

pub(crate) struct CliObserver<'a> {
    ctx: &'a Context,
    bar: indicatif::ProgressBar,
}

impl<'a> CliObserver<'a> {
    pub(crate) fn new(ctx: &'a Context) -> Self {
        Self {
            ctx,
            bar: ctx.progress(),
        }
    }
}

impl Observer for CliObserver<'_> {
    fn note(&self, text: &str) {
        self.bar.suspend(|| self.ctx.notice(text));
    }

    fn error(&self, text: &str) {
        self.bar.suspend(|| self.ctx.say(text));
    }

    fn progress(&self, progress: &Progress) {
        if self.bar.is_hidden() {
            // Cron: nothing is drawn, so nothing is formatted either.
            return;
        }
        let message = match &progress.waiting {
            Some(waiting) => waiting.clone(),
            None => format!(
                "windows {}/{} · rows {} · requests {} · retries {}",
                progress.windows_done,
                progress.windows,
                progress.rows,
                progress.requests,
                progress.retries
            ),
        };
        self.bar.set_message(message);
    }

    fn committed(&self, rows: u64) {
        // The last progress line stays on screen, then the summary on a line of its own.
        self.end_bar();
        self.ctx.say_written(rows);
    }
}

impl CliObserver<'_> {
    /// Leaves the last progress line on screen and ends it, so whatever follows (the summary,
    /// an error) starts a line of its own.
    fn end_bar(&self) {
        if self.bar.is_finished() {
            return;
        }
        self.bar.finish();
        if !self.bar.is_hidden() {
            self.ctx.streams.write_err("\n");
        }
    }
}

impl Drop for CliObserver<'_> {
    fn drop(&mut self) {
        self.end_bar();
    }
}

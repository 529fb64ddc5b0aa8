//! The signals that end a run early — Ctrl-C (SIGINT), `kill`/`timeout`/systemd/cron (SIGTERM),
//! a closed terminal (SIGHUP) — are all handled alike: the run stops, whatever it was writing
//! is dropped (temp files removed) and the exit code is 128 + the signal's number.

/// Why a run was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }

    /// 128 + the signal number, as shells report a process killed by it.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
            Stop::Hangup => 129,
        }
    }
}

/// Resolves at the first of SIGINT, SIGTERM or SIGHUP.
pub async fn first() -> Stop {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| async move {
            match signal(kind) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = listen(SignalKind::interrupt()) => Stop::Interrupt,
            () = listen(SignalKind::terminate()) => Stop::Terminate,
            () = listen(SignalKind::hangup()) => Stop::Hangup,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Stop::Interrupt
    }
}

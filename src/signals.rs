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

/// Takes over SIGINT, SIGTERM and SIGHUP now (a signal from here on no longer kills the
/// process outright) and resolves at the first of them. Call it before the work starts: the
/// handlers exist from the call, not from the first poll. Needs the tokio runtime.
pub fn first() -> impl Future<Output = Stop> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let listen = |kind| signal(kind).ok();
        let (mut interrupt, mut terminate, mut hangup) = (
            listen(SignalKind::interrupt()),
            listen(SignalKind::terminate()),
            listen(SignalKind::hangup()),
        );
        async move {
            async fn next(stream: &mut Option<Signal>) {
                match stream {
                    Some(stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = next(&mut interrupt) => Stop::Interrupt,
                () = next(&mut terminate) => Stop::Terminate,
                () = next(&mut hangup) => Stop::Hangup,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
            Stop::Interrupt
        }
    }
}

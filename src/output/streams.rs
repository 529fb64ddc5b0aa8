//! The process's standard streams as one value (gh's IOStreams): data goes to stdout (or `-o`)
//! through the output writers, messages to stderr, answers come from stdin, and whether each is
//! a terminal is decided once, here. Commands never touch `std::io::stdout()` and friends
//! themselves, so tests can run a command in-process with captured streams and read exactly
//! what it wrote where.

use std::collections::VecDeque;
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// Bytes written to a captured stream.
type Buffer = Arc<Mutex<Vec<u8>>>;

#[derive(Clone)]
enum Sink {
    Stdout,
    Stderr,
    Buffer(Buffer),
}

/// Stdout's reader went away (`| head` has read what it wanted): the one broken pipe that is
/// not a failure of the run. A broken pipe anywhere else (a database's socket, a FIFO given to
/// `-o`) is one.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed by its reader")
    }
}

impl std::error::Error for StdoutClosed {}

/// A write to stdout that failed: a broken pipe is marked as stdout's own.
fn on_stdout(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::BrokenPipe {
        io::Error::new(io::ErrorKind::BrokenPipe, StdoutClosed)
    } else {
        error
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout => io::stdout().write(buf).map_err(on_stdout),
            Sink::Stderr => io::stderr().write(buf),
            Sink::Buffer(buffer) => {
                lock(buffer).extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().write_all(buf).map_err(on_stdout),
            Sink::Stderr => io::stderr().write_all(buf),
            Sink::Buffer(buffer) => {
                lock(buffer).extend_from_slice(buf);
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().flush().map_err(on_stdout),
            Sink::Stderr => io::stderr().flush(),
            Sink::Buffer(_) => Ok(()),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Input {
    Stdin,
    Lines(Mutex<VecDeque<String>>),
}

/// Cheap to clone: every clone writes to and reads from the same streams.
#[derive(Clone)]
pub struct Streams {
    out: Sink,
    err: Sink,
    input: Arc<Input>,
    pub out_is_terminal: bool,
    pub err_is_terminal: bool,
    pub in_is_terminal: bool,
}

/// What a command wrote to captured streams.
#[derive(Clone)]
pub struct Captured {
    out: Buffer,
    err: Buffer,
}

impl Captured {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&lock(&self.out)).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&lock(&self.err)).into_owned()
    }
}

impl Streams {
    /// The process's own stdin, stdout and stderr.
    pub fn system() -> Self {
        Self {
            out: Sink::Stdout,
            err: Sink::Stderr,
            input: Arc::new(Input::Stdin),
            out_is_terminal: io::stdout().is_terminal(),
            err_is_terminal: io::stderr().is_terminal(),
            in_is_terminal: io::stdin().is_terminal(),
        }
    }

    /// Streams in memory, none a terminal, with `input` as stdin.
    pub fn captured(input: &str) -> (Self, Captured) {
        let captured = Captured {
            out: Buffer::default(),
            err: Buffer::default(),
        };
        let streams = Self {
            out: Sink::Buffer(captured.out.clone()),
            err: Sink::Buffer(captured.err.clone()),
            input: Arc::new(Input::Lines(Mutex::new(
                input.lines().map(str::to_string).collect(),
            ))),
            out_is_terminal: false,
            err_is_terminal: false,
            in_is_terminal: false,
        };
        (streams, captured)
    }

    /// A writer of data to stdout (the output layer buffers it).
    pub fn stdout(&self) -> Box<dyn Write + Send> {
        Box::new(self.out.clone())
    }

    /// One line on stderr, as given (callers redact).
    pub fn write_err_line(&self, line: &str) {
        let mut err = self.err.clone();
        let _ = writeln!(err, "{line}");
    }

    /// Text on stderr without a line break (a prompt).
    pub fn write_err(&self, text: &str) {
        let mut err = self.err.clone();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// All of stdin (a JSON body given as `-`).
    pub fn read_to_string(&self) -> io::Result<String> {
        match self.input.as_ref() {
            Input::Stdin => io::read_to_string(io::stdin().lock()),
            Input::Lines(lines) => Ok(lock(lines).drain(..).map(|l| format!("{l}\n")).collect()),
        }
    }

    /// Stdin for reading while something else is awaited (a pasted login URL).
    pub fn async_input(&self) -> Box<dyn tokio::io::AsyncBufRead + Unpin + Send> {
        match self.input.as_ref() {
            Input::Stdin => Box::new(tokio::io::BufReader::new(tokio::io::stdin())),
            Input::Lines(lines) => {
                let text: String = lock(lines).drain(..).map(|l| format!("{l}\n")).collect();
                Box::new(std::io::Cursor::new(text.into_bytes()))
            }
        }
    }

    /// One line from stdin, without its line break; `None` at the end of input.
    pub fn read_line(&self) -> io::Result<Option<String>> {
        match self.input.as_ref() {
            Input::Stdin => {
                let mut line = String::new();
                let read = io::stdin().lock().read_line(&mut line)?;
                Ok((read > 0).then(|| line.trim_end_matches(['\n', '\r']).to_string()))
            }
            Input::Lines(lines) => Ok(lock(lines).pop_front()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_streams_keep_what_was_written_and_give_what_was_typed() {
        let (streams, captured) = Streams::captured("first\nsecond\n");
        streams.stdout().write_all(b"data\n").unwrap();
        streams.write_err_line("a message");
        assert_eq!(captured.out(), "data\n");
        assert_eq!(captured.err(), "a message\n");
        assert_eq!(streams.read_line().unwrap().as_deref(), Some("first"));
        assert_eq!(streams.read_line().unwrap().as_deref(), Some("second"));
        assert_eq!(streams.read_line().unwrap(), None);
        assert!(!streams.out_is_terminal && !streams.in_is_terminal);
    }
}

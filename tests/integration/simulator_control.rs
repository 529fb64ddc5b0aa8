//! The simulator's control API (`/_mock/...`) over plain HTTP/1.1, no async runtime needed;
//! shared by the black-box tests and the benchmarks.

use serde_json::Value;

/// A call to the control API, answered with JSON.
pub(crate) fn control(url: &str, method: &str, path: &str, body: &str) -> Value {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("the simulator listens");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let (_, payload) = answer.split_once("\r\n\r\n").expect("headers and a body");
    serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

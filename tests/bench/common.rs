//! What the benchmarks share: a token from the simulator they run against (it accepts only
//! tokens it issued).

/// Issues a token through the simulator's control API (`POST /_mock/tokens`).
pub fn simulator_token(url: &str) -> String {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("the simulator listens");
    write!(
        stream,
        "POST /_mock/tokens HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let value: serde_json::Value = serde_json::from_str(body).expect("JSON from the simulator");
    value["access_token"].as_str().expect("a token").to_string()
}

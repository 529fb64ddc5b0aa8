//! The sliding log of sends as the shared state stores it: each client named once, each send
//! as the step from the one before and the client's index. A busy endpoint logs thousands of
//! sends, and every claim reads and writes the log: at a few bytes a send instead of forty,
//! the shared file costs microseconds, not a tenth of the CPU of an export.

use std::collections::VecDeque;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::schedule::Sent;

#[derive(Serialize, Deserialize)]
struct Log {
    clients: Vec<u64>,
    /// (milliseconds since the previous send, index into `clients`).
    steps: Vec<(i64, u32)>,
}

pub(super) fn serialize<S: Serializer>(sends: &VecDeque<Sent>, s: S) -> Result<S::Ok, S::Error> {
    let mut clients: Vec<u64> = Vec::new();
    let mut steps = Vec::with_capacity(sends.len());
    let mut previous = 0u64;
    for sent in sends {
        let index = match clients.iter().position(|&c| c == sent.1) {
            Some(i) => i,
            None => {
                clients.push(sent.1);
                clients.len() - 1
            }
        };
        // Times ascend, but a step back must survive the trip too.
        let step = sent.0.wrapping_sub(previous) as i64;
        steps.push((step, u32::try_from(index).unwrap_or(u32::MAX)));
        previous = sent.0;
    }
    Log { clients, steps }.serialize(s)
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VecDeque<Sent>, D::Error> {
    let log = Log::deserialize(d)?;
    let mut previous = 0u64;
    log.steps
        .into_iter()
        .map(|(step, index)| {
            let client = usize::try_from(index)
                .ok()
                .and_then(|i| log.clients.get(i))
                .ok_or_else(|| D::Error::custom("a send of an unknown client"))?;
            previous = previous.wrapping_add(step as u64);
            Ok(Sent(previous, *client))
        })
        .collect()
}

//! The access log: who did what to which record, from which device, with what result. Entries are
//! hash-chained (each holds the hash of the one before), so an edited, removed or reordered entry
//! is found by `verify`. Entries name records by kind and id only: no names, no text.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Reader;
use crate::time::Timestamp;

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    /// Staff id; 0 for the system or an unknown login.
    pub actor: u64,
    #[serde(default)]
    pub device: Option<String>,
    pub action: String,
    /// Record kind and id acted on, if one.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub record: Option<u64>,
    /// `ok` or an error code (`forbidden`, `not_found`, `conflict`, ...).
    pub result: String,
    /// Non-personal detail: a result count, a revision number.
    #[serde(default)]
    pub detail: Option<String>,
    pub prev: String,
    pub hash: String,
}

impl AuditEntry {
    #[must_use]
    pub fn new(at: Timestamp, actor: u64, device: Option<String>, action: &str) -> Self {
        Self {
            seq: 0,
            at,
            actor,
            device,
            action: action.to_owned(),
            kind: None,
            record: None,
            result: "ok".to_owned(),
            detail: None,
            prev: String::new(),
            hash: String::new(),
        }
    }

    #[must_use]
    pub fn on(mut self, kind: &str, id: u64) -> Self {
        self.kind = Some(kind.to_owned());
        self.record = Some(id);
        self
    }

    /// The hash over everything but the hash itself.
    #[must_use]
    pub fn compute_hash(&self) -> String {
        let mut unsealed = self.clone();
        unsealed.hash = String::new();
        let bytes = serde_json::to_vec(&unsealed).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        crate::to_hex(&digest)
    }

    pub(crate) fn seal(&mut self, prev: &str) {
        prev.clone_into(&mut self.prev);
        self.hash = self.compute_hash();
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::Corrupt(format!("audit entry: {e}")))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(format!("audit entry unreadable: {e}")))
    }
}

/// What `verify` found: the number of good entries, or the first bad one and why.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { entries: u64 },
    Broken { seq: u64, reason: String },
}

/// Walks the chain from the first entry: sequence numbers must run 1, 2, 3… without a gap, each
/// `prev` must be the previous `hash`, and each `hash` must match its entry.
pub fn verify(reader: &impl Reader) -> Result<Verdict> {
    let mut expected_seq = 1u64;
    let mut prev = GENESIS.to_owned();
    loop {
        let batch = reader.audit_entries(expected_seq, 4096)?;
        if batch.is_empty() {
            return check_head(reader, expected_seq - 1, &prev);
        }
        for (key, bytes) in batch {
            if key != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing (next is {key})"),
                });
            }
            let entry = match AuditEntry::decode(&bytes) {
                Ok(e) => e,
                Err(e) => return Ok(Verdict::Broken { seq: key, reason: e.to_string() }),
            };
            if entry.seq != key {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: format!("entry stored at {key} says it is {}", entry.seq),
                });
            }
            if entry.prev != prev {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: "does not follow the entry before it (chain broken)".into(),
                });
            }
            if entry.compute_hash() != entry.hash {
                return Ok(Verdict::Broken {
                    seq: key,
                    reason: "content does not match its hash (edited)".into(),
                });
            }
            prev = entry.hash;
            expected_seq += 1;
        }
    }
}

/// The store also keeps the newest entry's number and hash apart from the log, so that removing
/// entries from the end is found too.
fn check_head(reader: &impl Reader, last: u64, last_hash: &str) -> Result<Verdict> {
    let head = reader.meta("audit_head")?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let expected = if last == 0 { None } else { Some(format!("{last}:{last_hash}")) };
    if head == expected {
        return Ok(Verdict::Intact { entries: last });
    }
    let recorded =
        head.as_deref().and_then(|h| h.split_once(':')).and_then(|(n, _)| n.parse::<u64>().ok()).unwrap_or(0);
    let seq = if recorded > last { last + 1 } else { recorded.max(1) };
    Ok(Verdict::Broken {
        seq,
        reason: format!(
            "the log ends at entry {last} but the store recorded its last entry as {}",
            head.unwrap_or_else(|| "none".into())
        ),
    })
}

//! The access log: who did what to which record, from which device, with what result. Entries are
//! hash-chained (each holds the hash of the one before), so an edited, removed or reordered entry
//! is found by `store::verify_audit`. Entries name records by kind and id only: no names, no text.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
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
    /// The client's network address (a tablet's, a console's SSH peer), where there was one.
    /// Left out of the entry when absent, so that entries written before it existed keep
    /// their hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
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
            address: None,
            action: action.to_owned(),
            kind: None,
            record: None,
            result: "ok".to_owned(),
            detail: None,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// The entry with the client's address.
    #[must_use]
    pub fn from_address(mut self, address: Option<std::net::IpAddr>) -> Self {
        self.address = address.map(|a| a.to_string());
        self
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

/// What a backup says the audit log held when it was made: entry `seq` had hash `hash`. Kept
/// outside the store (authenticated in every backup manifest), it catches what the chain alone
/// cannot: an old entry rewritten with every later one rehashed changes the hash of every entry
/// an anchor made after it names. Written `SEQ:HASH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl Anchor {
    /// Reads `SEQ:HASH`; `None` for anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.split_once(':')?;
        let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        Some(Self { seq: seq.parse().ok()?, hash: hash.to_owned() }).filter(|_| hash_ok)
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The audit log compared with anchors kept outside the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnchorCheck {
    /// Every anchor names an entry the log holds, with the same hash.
    Agrees { anchors: usize, newest: u64 },
    /// The first anchor (by entry) the log does not agree with, where it came from, and why.
    Differs { seq: u64, source: String, reason: String },
}

impl AuditEntry {
    /// What the log is searched by: the staff member (`s:12`), the action (`a:read_case`), the
    /// record acted on (`r:case:34`), and the children a search listed (`r:child:5`, from the
    /// ids `search` writes into its detail).
    #[must_use]
    pub fn terms(&self) -> Vec<String> {
        let mut out = vec![format!("s:{}", self.actor), format!("a:{}", self.action)];
        if let (Some(kind), Some(id)) = (&self.kind, self.record) {
            out.push(record_term(kind, id));
        }
        if self.action == "search"
            && let Some(ids) = self.detail.as_deref().and_then(|d| d.split_once("results: ")).map(|(_, i)| i)
        {
            out.extend(
                ids.split(',').filter_map(|i| i.parse::<u64>().ok()).map(|id| record_term("child", id)),
            );
        }
        out.sort();
        out.dedup();
        out
    }
}

#[must_use]
pub fn record_term(kind: &str, id: u64) -> String {
    format!("r:{kind}:{id}")
}

/// What an auditor asks of the log. Every part is optional; given parts must all match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub staff: Option<u64>,
    /// Entries about any of these records (a child, its cases and what was written in them):
    /// search terms from `record_term`, filled in by the service from a child id.
    pub records: Option<Vec<String>>,
    pub action: Option<String>,
    /// From this instant (inclusive) …
    pub from: Option<Timestamp>,
    /// … to this one (exclusive).
    pub until: Option<Timestamp>,
}

impl AuditQuery {
    pub(crate) fn matches(&self, e: &AuditEntry) -> bool {
        self.staff.is_none_or(|s| e.actor == s)
            && self.action.as_ref().is_none_or(|a| &e.action == a)
            && self.from.is_none_or(|f| e.at >= f)
            && self.until.is_none_or(|u| e.at < u)
            && self.records.as_ref().is_none_or(|rs| {
                let terms = e.terms();
                rs.iter().any(|r| terms.binary_search(r).is_ok())
            })
    }
}

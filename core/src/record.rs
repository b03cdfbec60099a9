//! What every record kind is to the store, without the store: its id, its schema version (and
//! how an older shape is upgraded), whether it holds secrets; and one stored version of it. The
//! domain's records implement `Record`; the store (`store/`) keeps any of them.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ids::RecordId;
use crate::time::Timestamp;

/// A kind of stored record. Bump `SCHEMA` when the shape changes and teach `upgrade` the old one.
pub trait Record: Serialize + DeserializeOwned + Clone {
    type Id: RecordId;
    const SCHEMA: u16;
    /// Secrets (credentials, the reporter's identity): in the change log for backups, never in
    /// events or exports.
    const SENSITIVE: bool = false;
    /// Turns a body written at an older schema into the current shape.
    fn upgrade(schema: u16, body: serde_json::Value) -> Result<serde_json::Value, String> {
        let _ = schema;
        Ok(body)
    }
}

/// One stored version of a record, with who wrote it and when.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Versioned<T> {
    pub id: u64,
    pub rev: u64,
    pub at: Timestamp,
    /// Staff id of the writer; 0 for the system.
    pub by: u64,
    #[serde(default)]
    pub device: Option<String>,
    pub body: T,
}

//! mamoru-core: the domain of child-consultation case management (records, legal clocks, code
//! tables, assessment sheets, Japanese dates and search), the redb store that never loses an edit,
//! and the service layer that every front-end calls. No HTTP, terminal, SSH, encryption or CLI.

pub mod alert;
pub mod assessment;
pub mod audit;
pub mod case;
pub mod certificate;
pub mod code_table;
pub mod deadline;
pub mod device;
pub mod drill;
pub mod error;
pub mod fixture;
pub mod forms;
pub mod genogram;
pub mod ids;
pub mod interchange;
pub mod maintenance;
pub mod merge;
pub mod person;
pub mod photo;
pub mod protection;
pub mod record;
pub mod search;
pub mod service;
pub mod service_report;
pub mod staff;
pub mod statistics;
pub mod store;
pub mod text;
pub use service::restore;
pub use store::{snapshot, txlog};
pub mod throttle;
pub mod time;
pub mod totp;
pub mod traffic;
pub mod uptime;
pub mod wareki;

pub use error::{Error, Result};

/// Lower-case hex of some bytes (ids, tokens, hashes).
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
pub use service::{Actor, Service};

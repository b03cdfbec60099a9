//! Integration tests of mamoru-core: one binary, one module per concern.
#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail loudly, like the tests they serve")]

mod admin;
mod approvals;
mod audit;
mod authz;
mod caseloads;
mod casework;
mod clocks;
mod compat;
mod court;
mod crash;
mod drills;
mod events;
mod family;
mod forms;
mod intake;
mod migration;
mod photos;
mod search;
mod service_report;
mod sessions;
mod snapshot;
mod statistics;
mod store;
mod support;
mod templates;
mod uptime;

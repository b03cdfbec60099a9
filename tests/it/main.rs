//! End-to-end tests that drive the built `mamoru` binary: one test binary, one module per area.
#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail loudly, like the tests they serve")]
#![expect(
    clippy::too_many_lines,
    clippy::many_single_char_names,
    reason = "an end-to-end test reads as one story, with short names for its handles"
)]

mod alerts;
mod approvals;
mod backup;
mod browser;
mod caseloads;
mod cli;
mod console;
mod disk;
mod family;
mod http;
mod maintenance;
mod migration;
mod phone;
mod prober;
mod shutdown;
mod support;
mod templates;
mod tls;
mod unread;
mod web;

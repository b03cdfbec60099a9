//! End-to-end tests that drive the built `mamoru` binary: one test binary, one module per area.
#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail loudly, like the tests they serve")]
#![expect(clippy::too_many_lines, reason = "an end-to-end test reads as one story")]

mod cli;
mod http;
mod support;

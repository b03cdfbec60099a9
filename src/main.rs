//! The `mamoru` binary: parses the command line, reads config and environment, starts the runtime
//! and wires core, web, console and backup together. Prints one line and exits non-zero on failure.

mod alerts;
mod backup;
mod cli;
mod clock;
mod commands;
mod config;
mod console;
mod control;
mod demo;
mod drill;
mod files;
mod prober;
mod scheduler;
mod smtp;
mod systemd;
mod tls;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("mamoru: internal error: {info}");
    }));
    files::private_by_default();
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAMORU_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: the journal would keep the escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamoru: {}", one_line(&e));
            let key_problem = e.chain().any(|c| {
                c.downcast_ref::<mamoru_backup::Error>().is_some_and(mamoru_backup::Error::is_key_problem)
            });
            if key_problem { ExitCode::from(KEY_PROBLEM) } else { ExitCode::FAILURE }
        }
    }
}

/// The exit status when a backup key is wrong or missing (any other failure is 1), so a
/// script can tell "bring the right key" from "the backup is bad".
const KEY_PROBLEM: u8 = 3;

/// The error and its causes on one line, without repeating a cause that its context already says.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

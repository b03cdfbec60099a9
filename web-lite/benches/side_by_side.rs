//! Side by side (issue #22): a warp hello-world and Mamoru, served from this one process with the
//! same warp and tokio, each driven in turn by the same load tool (wrk, a second process on
//! loopback) at the same connections, so that Mamoru's rate is read against what the machine and
//! the web stack give at best in the same run.
//!
//! ```text
//! cargo bench -p mamoru-core --bench reference      # the reference store, once
//! cargo bench -p mamoru-web --bench side_by_side
//! cargo bench -p mamoru-web --bench side_by_side -- --seconds 20 --connections 100 --store DIR
//! ```
//!
//! Runs, in this order: hello-world, Mamoru's case page, Mamoru's furigana search page, a
//! progress note written per request (POST, a durable write), hello-world again. Mamoru's pages
//! are read as a signed-in caseworker, every read audited and durable before it is answered, as
//! in service. Prints a Markdown table for docs/PERFORMANCE.md. Needs `wrk` (Debian's package).

// The servers' filter types are deep (Mamoru's routes beside the hello-world's).
#![recursion_limit = "256"]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use mamoru_core::fixture::{DEMO_PASSWORD, FAMILY};
use mamoru_core::staff::{Action, Password};
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};
use mamoru_core::{Actor, Service};
use mamoru_web::Health;
use warp::Filter;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    seconds: u64,
    connections: usize,
    threads: usize,
    store: PathBuf,
    /// Only the runs whose label contains this (for a profiler: `--only case --seconds 60`).
    only: Option<String>,
}

fn args() -> Result<Args, Error> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let mut a = Args {
        seconds: 10,
        connections: 100,
        threads: 2,
        store: target.join("reference-store-100000-20"),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => a.seconds = value()?.parse()?,
            "--connections" => a.connections = value()?.parse()?,
            "--threads" => a.threads = value()?.parse()?,
            "--store" => a.store = PathBuf::from(value()?),
            "--only" => a.only = Some(value()?),
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// What wrk measured in one run.
struct Run {
    label: String,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Non-2xx/3xx answers and socket errors.
    errors: u64,
}

/// A wrk duration (`101.23ms`, `850.00us`, `1.20s`) in ms.
fn duration_ms(s: &str) -> Option<f64> {
    let (number, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(n / 1000.0),
        "ms" => Some(n),
        "s" => Some(n * 1000.0),
        "m" => Some(n * 60_000.0),
        _ => None,
    }
}

fn parse_wrk(label: &str, out: &str) -> Result<Run, Error> {
    let mut run = Run { label: label.to_owned(), rate: 0.0, p50_ms: 0.0, p99_ms: 0.0, errors: 0 };
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => run.rate = rate.parse()?,
            ["50%", d] => run.p50_ms = duration_ms(d).ok_or("wrk's p50")?,
            ["99%", d] => run.p99_ms = duration_ms(d).ok_or("wrk's p99")?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                run.errors +=
                    rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    if run.rate == 0.0 {
        return Err(format!("wrk printed no rate for {label}:\n{out}").into());
    }
    Ok(run)
}

/// Drives `url` with wrk (on a blocking thread: the servers run on this process's runtime).
async fn wrk(a: &Args, label: &str, url: String, extra: Vec<String>) -> Result<Option<Run>, Error> {
    if a.only.as_ref().is_some_and(|only| !label.contains(only.as_str())) {
        return Ok(None);
    }
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{}", a.threads))
        .arg(format!("-c{}", a.connections))
        .arg(format!("-d{}s", a.seconds))
        .arg("--latency")
        .args(extra)
        .arg(url);
    eprintln!("{label}…");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await?
        .map_err(|e| format!("running wrk: {e} (install it: apt-get install wrk)"))?;
    if !out.status.success() {
        return Err(format!("wrk failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    parse_wrk(label, &String::from_utf8_lossy(&out.stdout)).map(Some)
}

fn pct(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// One GET with the cookie, before the load: the page must answer 200 with a body, or the rates
/// would measure an error page. Returns the body.
fn check_page(addr: SocketAddr, path: &str, cookie: &str) -> Result<String, Error> {
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or_default()).into());
    }
    Ok(body.to_owned())
}

/// Two cases the caseworker may read and add notes to, from the unit's board: one to read, one
/// to write to (so that the page read does not grow from run to run).
fn two_cases(svc: &Service, actor: &Actor) -> Result<(u64, u64), Error> {
    let mut found = Vec::new();
    for item in svc.board(actor, actor.units()[0], None)? {
        let case = item.deadline.case;
        if !found.contains(&case.0) && svc.case(actor, case)?.may(Action::AddNote) {
            found.push(case.0);
        }
        if let [read, write] = found[..] {
            return Ok((read, write));
        }
    }
    Err("fewer than two open cases on demo-cw1's board".into())
}

/// wrk's Lua for a note per request, each with its own draft key (exactly-once keys must differ).
fn note_script(dir: &std::path::Path, form_key: &str) -> Result<PathBuf, Error> {
    let path = dir.join("note.lua");
    std::fs::write(
        &path,
        format!(
            r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
local run = tostring(os.time()) .. tostring(math.random(1000000))
request = function()
  n = n + 1
  local body = "form_key={form_key}&idempotency_key=sbs-" .. run .. "-" .. tostring(n) .. "&at=2026-11-23T09%3A30&kind=3&body=%E8%A8%88%E6%B8%AC%EF%BC%88%E6%9E%B6%E7%A9%BA%EF%BC%89"
  return wrk.format(nil, nil, nil, body)
end
"#
        ),
    )?;
    Ok(path)
}

async fn bench(a: Args) -> Result<(), Error> {
    let store = Store::open(&a.store)
        .map_err(|e| format!("{e}: build it first with `cargo bench -p mamoru-core --bench reference`"))?;
    let now = Timestamp::parse("2026-11-23T10:00:00+09:00")?;
    let svc = Arc::new(Service::new(store, Arc::new(FixedClock::new(now))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mamoru = listener.local_addr()?;
    let health = Health { version: "bench", https: false, backup_now: None };
    tokio::spawn(mamoru_web::serve_plain(listener, svc.clone(), health, std::future::pending()));

    let hello_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hello = hello_listener.local_addr()?;
    tokio::spawn(warp::serve(warp::any().map(|| "Hello, World!")).incoming(hello_listener).run());

    let (token, session) =
        svc.sign_in("demo-cw1", &Password::attempt(DEMO_PASSWORD.to_owned()), None, None)?;
    let cookie = format!("__Host-mamoru_session={token}");
    let (case, written) = two_cases(&svc, &session.actor)?;
    let case_path = format!("/cases/{case}");
    let search_path = format!("/search?q={}", pct(FAMILY[0].1));
    let case_bytes = check_page(mamoru, &case_path, &cookie)?.len();
    let search_bytes = check_page(mamoru, &search_path, &cookie)?.len();
    let home = check_page(mamoru, "/home", &cookie)?;
    let form_key = home
        .split("name=\"form_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no form key on the home page")?;
    let header = vec!["-H".to_owned(), format!("Cookie: {cookie}")];
    let scratch = tempfile::tempdir()?;
    let mut note = header.clone();
    note.extend(["-s".to_owned(), note_script(scratch.path(), form_key)?.display().to_string()]);

    let runs: Vec<Run> = [
        wrk(&a, "warp hello-world", format!("http://{hello}/"), Vec::new()).await?,
        wrk(
            &a,
            &format!("Mamoru, a case page ({} KB)", case_bytes / 1024),
            format!("http://{mamoru}{case_path}"),
            header.clone(),
        )
        .await?,
        wrk(
            &a,
            &format!("Mamoru, a furigana search page ({} KB)", search_bytes / 1024),
            format!("http://{mamoru}{search_path}"),
            header,
        )
        .await?,
        wrk(
            &a,
            "Mamoru, a progress note written (POST → 303, durable)",
            format!("http://{mamoru}/cases/{written}/notes"),
            note,
        )
        .await?,
        wrk(&a, "warp hello-world, again", format!("http://{hello}/"), Vec::new()).await?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let best = runs.iter().filter(|r| r.label.starts_with("warp")).map(|r| r.rate).fold(f64::NAN, f64::max);
    println!(
        "### Side by side: wrk -t{} -c{} -d{}s, loopback, one process serving both\n",
        a.threads, a.connections, a.seconds
    );
    println!("| server | requests/s | of hello-world | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|");
    for r in &runs {
        println!(
            "| {} | {:.0} | {:.1} % | {:.2} ms | {:.2} ms | {} |",
            r.label,
            r.rate,
            100.0 * r.rate / best,
            r.p50_ms,
            r.p99_ms,
            r.errors
        );
    }
    let server = svc.traffic().summary();
    println!(
        "\nServer's own timing (core::traffic, last minute): {} requests, p50 {:.2} ms, p99 {:.2} ms, {} server errors.",
        server.requests, server.p50_ms, server.p99_ms, server.server_errors
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let a = args()?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(bench(a))
}

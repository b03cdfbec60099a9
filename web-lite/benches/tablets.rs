//! The tablet load benchmark (issue #3) on the reference store that
//! `cargo bench -p mamoru-core --bench reference` builds:
//!
//! - N simulated tablets (default 100), each signed in through the login page with its own
//!   session and keep-alive connection, each doing one thing after another with a pause of
//!   0.5–1.5 s (a person reading and tapping; `--pause 0` runs them flat out): the board 30 %,
//!   a furigana search 25 %, a child's page 20 %, a case page 15 %, a progress note through the
//!   case page's form 10 %. Latency is measured at the tablet (request written → whole page
//!   read) over loopback HTTP, per page.
//! - SSE fan-out: S event streams (default 200) open on `/api/v1/events`; one note is written;
//!   the time until the last stream has the event, over R rounds (default 20).
//!
//! ```text
//! cargo bench -p mamoru-web --bench tablets
//! cargo bench -p mamoru-web --bench tablets -- --tablets 100 --seconds 60 --streams 200 --store DIR
//! ```
//!
//! The server and the load run in one process on the same two cores (warp on tokio, as
//! `mamoru serve`); the figures include the load tool's own share of the CPU.

// The server's filter types are deep: spawning it here needs more than the default 128.
#![recursion_limit = "256"]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use mamoru_core::case::NewNote;
use mamoru_core::code_table::Code;
use mamoru_core::fixture::{DEMO_PASSWORD, FAMILY, Rng};
use mamoru_core::ids::CaseId;
use mamoru_core::staff::{Action, Password};
use mamoru_core::store::Store;
use mamoru_core::time::{FixedClock, Timestamp};
use mamoru_core::{Actor, Service};
use mamoru_web::Health;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    tablets: usize,
    seconds: u64,
    streams: usize,
    rounds: usize,
    /// Mean pause between one tablet's actions, in ms (each pause is 0.5–1.5 times it; 0 runs
    /// the tablets flat out, to find the server's capacity).
    pause: u64,
    store: PathBuf,
}

fn args() -> Result<Args, Error> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let mut a = Args {
        tablets: 100,
        seconds: 30,
        streams: 200,
        rounds: 20,
        pause: 1000,
        store: target.join("reference-store-100000-20"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--tablets" => a.tablets = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--streams" => a.streams = value()?.parse()?,
            "--rounds" => a.rounds = value()?.parse()?,
            "--pause" => a.pause = value()?.parse()?,
            "--store" => a.store = PathBuf::from(value()?),
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// The logins the tablets sign in as (the demo staff of the reference store), cycling.
const LOGINS: [&str; 5] = ["demo-cw1", "demo-cw2", "demo-sv", "demo-city-cw", "demo-city-sv"];
/// The 児童相談所's staff: every one of them may read the cases the fan-out writes to.
const CENTRE: [&str; 3] = ["demo-cw1", "demo-cw2", "demo-sv"];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Page {
    Board,
    Search,
    Child,
    Case,
    Note,
}

impl Page {
    fn label(self) -> &'static str {
        match self {
            Page::Board => "ホーム (board, GET /home)",
            Page::Search => "検索 (furigana, GET /search)",
            Page::Child => "児童 (GET /children/{id})",
            Page::Case => "ケース (GET /cases/{id})",
            Page::Note => "経過記録 (POST /cases/{id}/notes → 303)",
        }
    }
}

/// What one login's tablets visit: children and open cases the login may read and write.
#[derive(Clone, Default)]
struct Targets {
    children: Vec<u64>,
    cases: Vec<u64>,
}

fn targets(svc: &Service, actor: &Actor) -> Result<Targets, Error> {
    let mut t = Targets::default();
    for (_, kana) in FAMILY.iter().take(10) {
        t.children.extend(svc.search(actor, kana, 10)?.iter().map(|c| c.id.0));
    }
    let unit = actor.units()[0];
    for item in svc.board(actor, unit, None)? {
        let case = item.deadline.case;
        if !t.cases.contains(&case.0) && svc.case(actor, case)?.may(Action::AddNote) {
            t.cases.push(case.0);
        }
        if t.cases.len() == 50 {
            break;
        }
    }
    if t.children.is_empty() || t.cases.is_empty() {
        return Err(format!("{} finds no children or no open cases in the store", actor.login()).into());
    }
    Ok(t)
}

/// One keep-alive HTTP/1.1 connection, as a tablet's browser keeps.
struct Conn {
    addr: std::net::SocketAddr,
    send: SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Result<Self, Error> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (send, conn) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        Ok(Self { addr, send })
    }

    /// Sends a request and reads the whole answer: (status, headers' `set-cookie`, body).
    async fn call(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Option<String>, Bytes), Error> {
        if self.send.ready().await.is_err() {
            *self = Self::open(self.addr).await?;
        }
        let r = self.send.send_request(req).await?;
        let status = r.status();
        let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = r.into_body().collect().await?.to_bytes();
        Ok((status, cookie, body))
    }
}

fn get(addr: std::net::SocketAddr, path: &str, cookie: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", addr.to_string())
        .header("cookie", cookie)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

fn post_form(addr: std::net::SocketAddr, path: &str, cookie: &str, form: String) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", addr.to_string())
        .header("origin", format!("http://{addr}"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))
        .unwrap_or_default()
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

/// A tablet signed in through the login page: its connection, cookie and form key.
struct Tablet {
    conn: Conn,
    cookie: String,
    form_key: String,
    targets: Targets,
}

async fn sign_in(addr: std::net::SocketAddr, login: &str, targets: Targets) -> Result<Tablet, Error> {
    let mut conn = Conn::open(addr).await?;
    let form = format!("login={login}&password={DEMO_PASSWORD}");
    let (status, set_cookie, _) = conn.call(post_form(addr, "/login", "", form)).await?;
    if status != StatusCode::SEE_OTHER {
        return Err(format!("sign-in as {login}: {status}").into());
    }
    let cookie =
        set_cookie.and_then(|c| c.split(';').next().map(str::to_owned)).ok_or("no session cookie")?;
    let (_, _, home) = conn.call(get(addr, "/home", &cookie)).await?;
    let page = String::from_utf8_lossy(&home);
    let form_key = page
        .split("name=\"form_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no form key on the home page")?
        .to_owned();
    Ok(Tablet { conn, cookie, form_key, targets })
}

/// One tablet's run: (page, latency, ok) for every request until `until`.
async fn run_tablet(
    mut t: Tablet,
    seed: u64,
    run: u64,
    pause: u64,
    until: Instant,
) -> Vec<(Page, Duration, bool)> {
    let mut rng = Rng::new(seed);
    let addr = t.conn.addr;
    let mut out = Vec::new();
    let mut n = 0;
    // Tablets start spread over the first second, not in one burst. (These pauses are the
    // simulated people, not waits for a state.)
    tokio::time::sleep(Duration::from_millis(rng.below(1000))).await;
    while Instant::now() < until {
        let roll = rng.below(100);
        let (page, req, expect) = match roll {
            0..30 => (Page::Board, get(addr, "/home", &t.cookie), StatusCode::OK),
            30..55 => {
                let (_, kana) = rng.pick(FAMILY);
                (Page::Search, get(addr, &format!("/search?q={}", pct(kana)), &t.cookie), StatusCode::OK)
            }
            55..75 => {
                let id = rng.pick(&t.targets.children);
                (Page::Child, get(addr, &format!("/children/{id}"), &t.cookie), StatusCode::OK)
            }
            75..90 => {
                let id = rng.pick(&t.targets.cases);
                (Page::Case, get(addr, &format!("/cases/{id}"), &t.cookie), StatusCode::OK)
            }
            _ => {
                n += 1;
                let id = rng.pick(&t.targets.cases);
                let form = format!(
                    "form_key={}&idempotency_key=bench-{run:x}-{seed}-{n}&at=2026-11-23T09%3A30&kind=3&body={}",
                    t.form_key,
                    pct("ベンチマークの経過記録（架空）")
                );
                (
                    Page::Note,
                    post_form(addr, &format!("/cases/{id}/notes"), &t.cookie, form),
                    StatusCode::SEE_OTHER,
                )
            }
        };
        let started = Instant::now();
        let ok = matches!(t.conn.call(req).await, Ok((status, _, _)) if status == expect);
        out.push((page, started.elapsed(), ok));
        if pause > 0 {
            tokio::time::sleep(Duration::from_millis(pause / 2 + rng.below(pause))).await;
        }
    }
    out
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Opens one event stream and reports, for each `note` event, when it arrived.
async fn stream(
    addr: std::net::SocketAddr,
    cookie: String,
    ready: mpsc::UnboundedSender<()>,
    seen: mpsc::UnboundedSender<Instant>,
) -> Result<(), Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (mut send, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let req = Request::get("/api/v1/events")
        .header("host", addr.to_string())
        .header("cookie", cookie)
        .header("accept", "text/event-stream")
        .body(Empty::new())?;
    let r = send.send_request(req).await?;
    if r.status() != StatusCode::OK {
        return Err(format!("event stream: {}", r.status()).into());
    }
    let _ = ready.send(());
    let mut body = r.into_body();
    let mut text = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
            // One event ends with a blank line.
            while let Some(end) = text.find("\n\n") {
                if text[..end].contains("\"kind\":\"note\"") {
                    let _ = seen.send(Instant::now());
                }
                text.drain(..end + 2);
            }
        }
    }
    Ok(())
}

#[expect(clippy::too_many_lines, reason = "set-up, both measures and the report, in order")]
async fn bench(a: Args) -> Result<(), Error> {
    let store = Store::open(&a.store)
        .map_err(|e| format!("{e}: build it first with `cargo bench -p mamoru-core --bench reference`"))?;
    let now = Timestamp::parse("2026-11-23T10:00:00+09:00")?;
    let svc = Arc::new(Service::new(store, Arc::new(FixedClock::new(now))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let health = Health { version: "bench", https: false, backup_now: None };
    tokio::spawn(mamoru_web::serve_plain(listener, svc.clone(), health, std::future::pending()));

    // What each login may visit, found through the service as that person.
    let mut by_login: BTreeMap<&str, (Actor, Targets)> = BTreeMap::new();
    for login in LOGINS {
        let (_, s) = svc.sign_in(login, &Password::attempt(DEMO_PASSWORD.to_owned()), None, None)?;
        let t = targets(&svc, &s.actor)?;
        by_login.insert(login, (s.actor, t));
    }

    eprintln!("signing in {} tablets through the login page…", a.tablets);
    let mut tablets = Vec::new();
    for i in 0..a.tablets {
        let login = LOGINS[i % LOGINS.len()];
        tablets.push(sign_in(addr, login, by_login[login].1.clone()).await?);
    }
    eprintln!("{} tablets for {} s…", a.tablets, a.seconds);
    let until = Instant::now() + Duration::from_secs(a.seconds);
    // Draft keys differ from run to run, so a rerun on the same store writes new notes.
    let run = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8);
    let runs: Vec<_> = tablets
        .into_iter()
        .zip(1u64..)
        .map(|(t, seed)| tokio::spawn(run_tablet(t, seed, run, a.pause, until)))
        .collect();
    let mut samples: BTreeMap<Page, (Vec<Duration>, usize)> = BTreeMap::new();
    for r in runs {
        for (page, took, ok) in r.await? {
            let e = samples.entry(page).or_default();
            e.0.push(took);
            e.1 += usize::from(!ok);
        }
    }
    let server = svc.traffic().summary();

    println!(
        "### {} tablets, {} s, {}–{} ms between one tablet's actions\n",
        a.tablets,
        a.seconds,
        a.pause / 2,
        a.pause * 3 / 2
    );
    println!("| page | requests | p50 | p99 | max | errors |");
    println!("|---|---|---|---|---|---|");
    let mut all = Vec::new();
    let mut errors = 0;
    for (page, (mut v, err)) in samples {
        v.sort();
        println!(
            "| {} | {} | {} | {} | {} | {err} |",
            page.label(),
            v.len(),
            ms(quantile(&v, 0.5)),
            ms(quantile(&v, 0.99)),
            ms(v[v.len() - 1])
        );
        errors += err;
        all.extend(v);
    }
    all.sort();
    println!(
        "| all | {} | {} | {} | {} | {errors} |",
        all.len(),
        ms(quantile(&all, 0.5)),
        ms(quantile(&all, 0.99)),
        ms(all[all.len() - 1])
    );
    #[expect(clippy::cast_precision_loss, reason = "a rate for a report")]
    let rate = all.len() as f64 / a.seconds as f64;
    println!("\n{rate:.0} requests per second.");
    println!(
        "\nServer's own timing (core::traffic, last minute): {} requests, p50 {:.2} ms, p99 {:.2} ms, {} server errors.\n",
        server.requests, server.p50_ms, server.p99_ms, server.server_errors
    );

    // ---- SSE fan-out --------------------------------------------------------------------
    eprintln!("opening {} event streams…", a.streams);
    let mut cookies = Vec::new();
    for i in 0..a.streams {
        let login = CENTRE[i % CENTRE.len()];
        let (token, _) = svc.sign_in(login, &Password::attempt(DEMO_PASSWORD.to_owned()), None, None)?;
        cookies.push(format!("__Host-mamoru_session={token}"));
    }
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    for (i, cookie) in cookies.into_iter().enumerate() {
        let (ready, seen) = (ready_tx.clone(), seen_tx.clone());
        tokio::spawn(async move {
            if let Err(e) = stream(addr, cookie, ready, seen).await {
                eprintln!("stream {i}: {e}");
            }
        });
    }
    for _ in 0..a.streams {
        ready_rx.recv().await.ok_or("a stream failed to open")?;
    }
    let (writer, targets) = &by_login["demo-cw1"];
    let mut last = Vec::new();
    let mut median = Vec::new();
    let mut missing = 0;
    for round in 0..a.rounds {
        let case = CaseId(targets.cases[round % targets.cases.len()]);
        let note = NewNote {
            at: now.plus(-600),
            kind: Code::new("3"),
            body: "ファンアウト計測（架空）".into(),
            photos: vec![],
        };
        let (s, w) = (svc.clone(), writer.clone());
        let started = Instant::now();
        tokio::task::spawn_blocking(move || s.add_note(&w, case, note)).await??;
        let mut arrivals = Vec::new();
        while arrivals.len() < a.streams {
            match tokio::time::timeout(Duration::from_secs(10), seen_rx.recv()).await {
                Ok(Some(at)) => arrivals.push(at.duration_since(started)),
                _ => break,
            }
        }
        missing += a.streams - arrivals.len();
        arrivals.sort();
        if let Some(l) = arrivals.last() {
            last.push(*l);
            median.push(quantile(&arrivals, 0.5));
        }
    }
    last.sort();
    median.sort();
    println!("### SSE fan-out: one note to {} open streams, {} rounds\n", a.streams, a.rounds);
    println!("| measure | p50 | p99 | max |");
    println!("|---|---|---|---|");
    println!(
        "| write → half the streams have it | {} | {} | {} |",
        ms(quantile(&median, 0.5)),
        ms(quantile(&median, 0.99)),
        ms(median[median.len() - 1])
    );
    println!(
        "| write → the last stream has it | {} | {} | {} |",
        ms(quantile(&last, 0.5)),
        ms(quantile(&last, 0.99)),
        ms(last[last.len() - 1])
    );
    println!("\nEvents not delivered within 10 s: {missing}.");
    Ok(())
}

fn main() -> Result<(), Error> {
    let a = args()?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(bench(a))
}

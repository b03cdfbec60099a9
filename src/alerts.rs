//! Delivering the self-probe's alerts (core's `alert`: which notices are due and what they say):
//! mail through the city's relay (`smtp`: plain on the closed network, or STARTTLS or TLS with
//! a login; the text in UTF-8 and base64), and a command hook. The prober wakes the alerts
//! thread after each probe; each delivery or failure is kept through `Service::alert_delivered`,
//! so a notice is sent once and a failed one is tried again at the next probe (while the store
//! cannot write, `Unkept` tells what stops the service from memory).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use mamoru_core::Service;
use mamoru_core::alert::{Alert, Notice};
use mamoru_core::ids::AlertId;
use mamoru_core::time::{JST_OFFSET, Timestamp};
use mamoru_core::uptime::Problem;

use crate::config::Alerts;
use crate::smtp::{Relay, base64};

/// The hook runs at most this long.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the notices go.
pub struct Notifier {
    config: Alerts,
    relay: Option<Relay>,
    server: String,
}

impl Notifier {
    /// `None` when neither mail nor a command is configured; an error when mail is half set or
    /// its TLS or login cannot work. Relative paths are inside the data directory `data`.
    pub fn from_config(config: &Alerts, data: &Path) -> anyhow::Result<Option<Self>> {
        if config.smtp.is_some() && (config.from.is_none() || config.to.is_empty()) {
            anyhow::bail!("[alerts] smtp needs from and to (at least one address)");
        }
        if config.smtp_user.is_some() != config.smtp_password_file.is_some() {
            anyhow::bail!("[alerts] smtp_user and smtp_password_file go together");
        }
        if config.smtp.is_none() && config.command.is_none() {
            return Ok(None);
        }
        let relay = match &config.smtp {
            Some(address) => Some(Relay::new(
                address,
                config.smtp_security,
                config.smtp_ca.as_deref().map(|ca| data.join(ca)).as_deref(),
                config.smtp_user.clone().zip(config.smtp_password_file.as_deref().map(|f| data.join(f))),
            )?),
            None => None,
        };
        let server = config.server_name.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map_or_else(|_| "mamoru".into(), |h| h.trim().to_owned())
        });
        Ok(Some(Self { config: config.clone(), relay, server }))
    }

    /// Sends one notice by every configured way: delivered when any of them succeeded (a second
    /// try would repeat the one that did); each failure is logged.
    fn send(
        &self,
        problem: &str,
        notice: Notice,
        subject: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<(), String> {
        let mut failures = Vec::new();
        let mut any = false;
        if let Some(relay) = &self.relay {
            let from = self.config.from.as_deref().unwrap_or_default();
            let text = message(&self.config, (problem, notice), (subject, body), now);
            match relay.send(from, &self.config.to, &text) {
                Ok(()) => any = true,
                Err(e) => failures.push(format!("mail: {e}")),
            }
        }
        if let Some(command) = &self.config.command {
            match run_command(command, (problem, notice), subject, body) {
                Ok(()) => any = true,
                Err(e) => failures.push(format!("command: {e}")),
            }
        }
        for f in &failures {
            tracing::warn!(failure = %f, problem, notice = notice.as_str(), "an alert could not be delivered");
        }
        if any { Ok(()) } else { Err(failures.join("; ")) }
    }
}

/// What the prober tells the alerts thread after each probe: the problems it found, and whether
/// the store kept the alerts.
pub enum Wake {
    /// Kept: deliver what is due from the store.
    Kept(Vec<Problem>),
    /// The store could not keep them (it cannot write), found at this time.
    Unkept(Vec<Problem>, Timestamp),
}

/// Starts the thread that sends the notices, woken through the returned sender after each
/// probe; it ends when the sender is dropped. `None` without a notifier.
pub fn start(
    service: &std::sync::Arc<Service>,
    notifier: Option<Notifier>,
) -> anyhow::Result<Option<std::sync::mpsc::SyncSender<Wake>>> {
    let Some(n) = notifier else { return Ok(None) };
    let (wake, woken) = std::sync::mpsc::sync_channel::<Wake>(4);
    let svc = service.clone();
    std::thread::Builder::new().name("alerts".into()).spawn(move || {
        let mut unkept = Unkept::default();
        while let Ok(wake) = woken.recv() {
            match wake {
                Wake::Unkept(mut problems, at) => {
                    // What the store raised and told before it stopped writing is not told again.
                    let open = svc.open_alerts().unwrap_or_default();
                    problems.retain(|p| !open.iter().any(|a| a.problem == *p && a.raised_sent.is_some()));
                    unkept.raise(&n, &problems, at, svc.now());
                }
                Wake::Kept(problems) => {
                    unkept.hand_over(&svc, &n, &problems);
                    deliver_pending(&svc, &n);
                }
            }
        }
    })?;
    Ok(Some(wake))
}

/// Told at the end of a notice sent while the store could not write.
const UNKEPT: &str = "（ストアに書き込めない間の通知のため、この通知は警報の記録に残っていません。）";

/// The notices of an outage the store cannot keep (it cannot write, so neither the alert nor
/// its delivery can be recorded): each problem that stops the service told once, from memory.
/// Once the store keeps alerts again, each is handed over: where the store now holds an alert
/// of the problem (still there, or raised before the store stopped writing) its raising counts
/// as told and the store tells its end; otherwise its end is told from here, tried at each
/// probe until told, ten times at most. A restart forgets them.
#[derive(Default)]
struct Unkept(Vec<Told>);

struct Told {
    problem: Problem,
    at: Timestamp,
    tries: u32,
}

impl Unkept {
    fn raise(&mut self, n: &Notifier, problems: &[Problem], at: Timestamp, now: Timestamp) {
        for &problem in problems.iter().filter(|p| p.stops_service()) {
            if self.0.iter().any(|t| t.problem == problem) {
                continue;
            }
            // Not told (every way failed): tried again at the next probe.
            if tell(n, &Alert::raise(problem, at), Notice::Raised, now).is_ok() {
                self.0.push(Told { problem, at, tries: 0 });
            }
        }
    }

    fn hand_over(&mut self, service: &Service, n: &Notifier, problems: &[Problem]) {
        if self.0.is_empty() {
            return;
        }
        let Ok(pending) = service.pending_alerts() else { return };
        let now = service.now();
        for mut told in std::mem::take(&mut self.0) {
            let raised = pending
                .iter()
                .find(|(a, notice)| a.body.problem == told.problem && *notice == Notice::Raised);
            if let Some((a, _)) = raised {
                if let Err(e) = service.alert_delivered(AlertId(a.id), Notice::Raised, Ok(())) {
                    tracing::error!(error = %e, "an alert's delivery could not be kept");
                    self.0.push(told);
                }
                continue;
            }
            if problems.contains(&told.problem) {
                // Open in the store and told from there before: nothing more to tell.
                continue;
            }
            let over = Alert { cleared_at: Some(now), ..Alert::raise(told.problem, told.at) };
            if tell(n, &over, Notice::Cleared, now).is_err() {
                told.tries += 1;
                if told.tries < 10 {
                    self.0.push(told);
                }
            }
        }
    }
}

fn tell(n: &Notifier, alert: &Alert, notice: Notice, now: Timestamp) -> Result<(), String> {
    let (subject, body) = alert.message(notice, &n.server);
    let outcome = n.send(alert.problem.as_str(), notice, &subject, &format!("{body}\n\n{UNKEPT}"), now);
    if outcome.is_ok() {
        tracing::info!(
            problem = alert.problem.as_str(),
            notice = notice.as_str(),
            "alert delivered (not kept: the store cannot write)"
        );
    }
    outcome
}

/// Delivers every notice that is due and keeps each outcome.
pub fn deliver_pending(service: &Service, notifier: &Notifier) {
    let pending = match service.pending_alerts() {
        Ok(p) => p,
        Err(e) => return tracing::error!(error = %e, "cannot read the alerts to deliver"),
    };
    for (alert, notice) in pending {
        let (subject, body) = alert.body.message(notice, &notifier.server);
        let problem = alert.body.problem.as_str();
        let outcome = notifier.send(problem, notice, &subject, &body, service.now());
        if outcome.is_ok() {
            tracing::info!(problem, notice = notice.as_str(), "alert delivered");
        }
        if let Err(e) = service.alert_delivered(AlertId(alert.id), notice, outcome) {
            tracing::error!(error = %e, "an alert's delivery could not be kept");
        }
    }
}

/// A header's text as RFC 2047 encoded words of at most 75 characters (whole characters of at
/// most 45 bytes each), folded onto continuation lines.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// `Mon, 07 Dec 2026 19:03:00 +0900`.
fn rfc2822(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let d = t.jst_date();
    let secs = (t.0 + JST_OFFSET).rem_euclid(86_400);
    let weekday = DAYS[usize::try_from((d.days() + 4).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(d.month().saturating_sub(1)).unwrap_or(0).min(11)];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} +0900",
        d.day(),
        d.year(),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The message: headers (the subject as an RFC 2047 word, `X-Mamoru-Alert` for filters) and
/// the body in base64 lines, dot-stuffing needless (base64 has no dots).
fn message(
    config: &Alerts,
    (problem, notice): (&str, Notice),
    (subject, body): (&str, &str),
    now: Timestamp,
) -> String {
    let from = config.from.as_deref().unwrap_or_default();
    let encoded = base64(body.replace('\n', "\r\n").as_bytes());
    let lines: Vec<&str> =
        encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <mamoru-{problem}-{}-{}@{}>\r\nX-Mamoru-Alert: {} {problem}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        config.to.join(", "),
        encoded_words(subject),
        rfc2822(now),
        notice.as_str(),
        now.0,
        from.rsplit('@').next().unwrap_or("localhost"),
        notice.as_str(),
        lines.join("\r\n"),
    )
}

/// Runs the hook through `sh -c`, the notice in its environment and the text on its input,
/// for at most 30 s.
fn run_command(
    command: &str,
    (problem, notice): (&str, Notice),
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .env("MAMORU_ALERT", notice.as_str())
        .env("MAMORU_ALERT_PROBLEM", problem)
        .env("MAMORU_ALERT_SUBJECT", subject)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{command}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its input is not a failure.
        let _ = stdin.write_all(body.as_bytes());
    }
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(format!("{command}: {status}")),
            None if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{command}: still running after 30 s, stopped"));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_the_date_are_as_mail_wants_them() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64("障害".as_bytes()), "6Zqc5a6z");
        // The longest subject: split into words of at most 75 characters, folded.
        let subject = encoded_words("[Mamoru 復旧] サーバー停止（監視記録なし）");
        assert!(subject.split("\r\n ").count() >= 2, "{subject}");
        assert!(subject.split("\r\n ").all(|w| w.len() <= 75 && w.starts_with("=?UTF-8?B?")), "{subject}");
        assert_eq!(encoded_words("障害"), "=?UTF-8?B?6Zqc5a6z?=");
        let t = Timestamp::parse("2026-12-07T19:03:05+09:00").unwrap();
        assert_eq!(rfc2822(t), "Mon, 07 Dec 2026 19:03:05 +0900");
    }
}

//! Sign-in throttling: failed attempts are counted per login (as typed, so an unknown login is
//! throttled exactly like a known one and the lock tells nothing) and per client address. After
//! the allowed failures, each further failure locks that key for longer: one minute, then two,
//! four, eight, and at most fifteen. A success clears its login's count; an hour without failure
//! clears any count. Kept in memory: a restart forgives, as a lock would after its time anyway.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::time::Timestamp;

/// Failures a login may have before it is locked (a person mistyping on a tablet gets five).
pub const LOGIN_FAILURES: u32 = 5;
/// Failures one address may have (shared tablets behind one LTE gateway, several people).
pub const ADDRESS_FAILURES: u32 = 20;
const FIRST_LOCK_SECS: i64 = 60;
const MAX_LOCK_SECS: i64 = 15 * 60;
/// A count older than this is forgotten.
const FORGET_SECS: i64 = 60 * 60;
/// Above this many keys, forgotten ones are swept out (many logins tried from many addresses).
const SWEEP_AT: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Count {
    failures: u32,
    last: Timestamp,
    locked_until: Timestamp,
}

#[derive(Debug, Default)]
pub struct Throttle(Mutex<HashMap<String, Count>>);

/// The keys of one attempt: the login as typed (case-folded) and the client address, if known.
#[must_use]
pub fn keys(login: &str, address: Option<std::net::IpAddr>) -> Vec<(String, u32)> {
    let mut keys = vec![(format!("login:{}", login.trim().to_lowercase()), LOGIN_FAILURES)];
    keys.extend(address_keys(address));
    keys
}

/// The keys of a refused console connection: the login as typed, counted apart from the web's
/// (keys cannot be guessed, so a stranger's refused keys must not lock a caseworker out of the
/// web), and the client address, counted with the web's.
#[must_use]
pub fn console_keys(login: &str, address: Option<std::net::IpAddr>) -> Vec<(String, u32)> {
    let mut keys = vec![(console_login_key(login), LOGIN_FAILURES)];
    keys.extend(address_keys(address));
    keys
}

fn console_login_key(login: &str) -> String {
    format!("console:{}", login.trim().to_lowercase())
}

/// The key of an attempt that names no login (a tablet's registration code).
#[must_use]
pub fn address_keys(address: Option<std::net::IpAddr>) -> Vec<(String, u32)> {
    address.map(|a| (format!("addr:{a}"), ADDRESS_FAILURES)).into_iter().collect()
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Count>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds until the first of `keys` may try again; 0 when none is locked.
    #[must_use]
    pub fn wait(&self, keys: &[(String, u32)], now: Timestamp) -> i64 {
        let counts = self.lock();
        keys.iter()
            .filter_map(|(k, _)| counts.get(k))
            .map(|c| c.locked_until.0 - now.0)
            .max()
            .unwrap_or(0)
            .max(0)
    }

    /// Counts a failure; returns the keys this failure locked, with how long.
    pub fn failed(&self, keys: &[(String, u32)], now: Timestamp) -> Vec<(String, i64)> {
        let mut counts = self.lock();
        if counts.len() > SWEEP_AT {
            counts.retain(|_, c| now.0 - c.last.0 < FORGET_SECS);
        }
        let mut locked = Vec::new();
        for (key, allowed) in keys {
            let c = counts.entry(key.clone()).or_insert(Count { failures: 0, last: now, locked_until: now });
            if now.0 - c.last.0 >= FORGET_SECS {
                c.failures = 0;
            }
            c.failures += 1;
            c.last = now;
            if c.failures >= *allowed {
                let doublings = (c.failures - allowed).min(4);
                let secs = (FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS);
                c.locked_until = now.plus(secs);
                locked.push((key.clone(), secs));
            }
        }
        locked
    }

    /// A successful sign-in clears its login's count (not the address's: one good password must
    /// not let an address go on guessing others).
    pub fn succeeded(&self, login: &str) {
        self.lock().remove(&format!("login:{}", login.trim().to_lowercase()));
    }

    /// A console sign-in clears its login's console count.
    pub fn console_succeeded(&self, login: &str) {
        self.lock().remove(&console_login_key(login));
    }

    /// Clears a login's counts, the web's and the console's (an administrator reset its
    /// password or second factor).
    pub fn forget(&self, login: &str) {
        let key = format!("login:{}", login.trim().to_lowercase());
        let mut counts = self.lock();
        counts.remove(&key);
        counts.remove(&console_login_key(login));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_locked_after_five_failures_for_longer_each_time_and_a_success_clears_it() {
        let t = Throttle::default();
        let mut now = Timestamp(1_000_000);
        let k = keys("Demo-CW1 ", None);
        for _ in 0..4 {
            assert!(t.failed(&k, now).is_empty());
            assert_eq!(t.wait(&k, now), 0);
        }
        assert_eq!(t.failed(&k, now), vec![("login:demo-cw1".to_owned(), 60)]);
        assert_eq!(t.wait(&keys("demo-cw1", None), now.plus(10)), 50, "the same login, however typed");
        now = now.plus(61);
        assert_eq!(t.wait(&k, now), 0);
        assert_eq!(t.failed(&k, now)[0].1, 120, "the next failure locks for twice as long");
        for _ in 0..10 {
            now = now.plus(1000);
            t.failed(&k, now);
        }
        assert_eq!(t.wait(&k, now), 900, "never more than fifteen minutes");
        t.succeeded("DEMO-CW1");
        assert_eq!(t.wait(&k, now), 0);
    }

    #[test]
    fn an_address_trying_many_logins_is_locked_and_old_failures_are_forgotten() {
        let t = Throttle::default();
        let now = Timestamp(1_000_000);
        let addr: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        for i in 0..19 {
            t.failed(&keys(&format!("user{i}"), Some(addr)), now);
        }
        assert_eq!(t.wait(&keys("someone-else", Some(addr)), now), 0);
        t.failed(&keys("user19", Some(addr)), now);
        assert_eq!(t.wait(&keys("someone-else", Some(addr)), now), 60);
        assert_eq!(t.wait(&keys("someone-else", None), now), 0, "the login itself is not locked");
        // An hour later the count starts again.
        let later = now.plus(FORGET_SECS);
        assert!(t.failed(&keys("user0", Some(addr)), later).is_empty());
    }
}

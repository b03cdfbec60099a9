//! Request timings for self-monitoring: the front-ends record how long each request took, on
//! which page, and whether it failed on the server's side. The console's dashboard and the
//! metrics read a summary of the last minute; the monthly report reads per-page histograms the
//! service keeps in the store each hour (`TrafficPeriod`). A page is its route with the ids
//! taken out (`/cases/{id}`): no record, no user, nothing personal.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ids::TrafficPeriodId;
use crate::record::Record;
use crate::time::Timestamp;

/// The window the summary covers.
pub const WINDOW: Duration = Duration::from_mins(1);
/// At most this many samples are kept (a busy minute beyond that keeps its newest part).
const MAX_SAMPLES: usize = 200_000;

#[derive(Debug, Default)]
pub struct Traffic {
    samples: Mutex<VecDeque<(Instant, u32, bool)>>,
    /// Per page since the service last kept them.
    pages: Mutex<BTreeMap<String, Times>>,
}

/// At most this many pages are told apart in a period; the rest count as `OTHER_PAGES`.
const MAX_PAGES: usize = 200;
/// Where requests beyond `MAX_PAGES` pages are counted.
pub const OTHER_PAGES: &str = "(other)";
/// How often the service keeps the per-page times in the store (a crash loses at most this).
pub const KEEP_EVERY: i64 = 3600;

/// The specification's online response time: within 3 seconds.
pub const WITHIN: Duration = Duration::from_secs(3);

/// Upper bounds of the latency buckets in microseconds: 1, 1.5, 2, 3, 5, 7 in each decade from
/// 0.1 ms to 70 s (so 3 s is a bound); a last bucket holds anything slower.
const STEPS: [u64; 6] = [10, 15, 20, 30, 50, 70];
const BUCKETS: usize = 36;

fn bound(i: usize) -> u64 {
    10u64.pow(1 + u32::try_from(i / STEPS.len()).unwrap_or(0)) * STEPS[i % STEPS.len()]
}

fn bucket(micros: u64) -> u8 {
    let i = (0..BUCKETS).find(|&i| micros <= bound(i)).unwrap_or(BUCKETS);
    u8::try_from(i).unwrap_or(u8::MAX)
}

/// One page's requests over a period: how many, how many failed on the server's side, and how
/// long they took, as a histogram (bucket index → count; only buckets that have requests).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Times {
    pub requests: u64,
    pub server_errors: u64,
    pub buckets: BTreeMap<u8, u64>,
}

impl Times {
    pub fn add(&mut self, elapsed: Duration, server_error: bool) {
        self.requests += 1;
        self.server_errors += u64::from(server_error);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        *self.buckets.entry(bucket(micros)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Times) {
        self.requests += other.requests;
        self.server_errors += other.server_errors;
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
    }

    /// The time within which a share `q` of the requests were answered: the upper bound of the
    /// bucket it falls in (at most 50 % above the true figure), `None` without requests or when
    /// it falls beyond the last bound (over 70 s).
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.buckets.values().sum();
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total.max(1));
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank && total > 0 {
                let i = usize::from(*b);
                return (i < BUCKETS).then(|| Duration::from_micros(bound(i)));
            }
        }
        None
    }

    /// How many requests were answered within `WITHIN` (3 s: a bucket bound, so exact).
    #[must_use]
    pub fn within_limit(&self) -> u64 {
        let limit = bucket(u64::try_from(WITHIN.as_micros()).unwrap_or(u64::MAX));
        self.buckets.range(..=limit).map(|(_, n)| n).sum()
    }
}

/// The per-page times of one period, as the service keeps them (kind `traffic_period`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficPeriod {
    pub from: Timestamp,
    pub to: Timestamp,
    pub pages: BTreeMap<String, Times>,
}

impl Record for TrafficPeriod {
    type Id = TrafficPeriodId;
    const SCHEMA: u16 = 1;
}

/// The last minute's requests.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrafficSummary {
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub server_errors: u64,
}

impl Traffic {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, u32, bool)>> {
        self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one request to `page` (its route with the ids taken out).
    pub fn record(&self, page: &str, elapsed: Duration, server_error: bool) {
        let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
        let now = Instant::now();
        {
            let mut s = self.lock();
            while s.front().is_some_and(|(at, ..)| now.duration_since(*at) > WINDOW) || s.len() >= MAX_SAMPLES
            {
                s.pop_front();
            }
            s.push_back((now, micros, server_error));
        }
        let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let page = if pages.len() < MAX_PAGES || pages.contains_key(page) { page } else { OTHER_PAGES };
        match pages.get_mut(page) {
            Some(t) => t.add(elapsed, server_error),
            None => pages.entry(page.to_owned()).or_default().add(elapsed, server_error),
        }
    }

    /// The per-page times since the last call, leaving none.
    pub fn take_pages(&self) -> BTreeMap<String, Times> {
        std::mem::take(&mut *self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Puts back times that could not be kept (the store refused them), to be kept next time.
    pub fn put_back(&self, pages: &BTreeMap<String, Times>) {
        let mut mine = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (page, t) in pages {
            mine.entry(page.clone()).or_default().merge(t);
        }
    }

    /// Count, median, 99th percentile and server errors over the last minute.
    #[must_use]
    pub fn summary(&self) -> TrafficSummary {
        let now = Instant::now();
        let mut times: Vec<u32> = Vec::new();
        let mut errors = 0;
        for (at, micros, error) in self.lock().iter() {
            if now.duration_since(*at) <= WINDOW {
                times.push(*micros);
                errors += u64::from(*error);
            }
        }
        if times.is_empty() {
            return TrafficSummary::default();
        }
        times.sort_unstable();
        let pick = |q: f64| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
            f64::from(times[i]) / 1000.0
        };
        TrafficSummary {
            requests: times.len() as u64,
            p50_ms: pick(0.5),
            p99_ms: pick(0.99),
            server_errors: errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gives_count_percentiles_and_errors() {
        let t = Traffic::default();
        assert_eq!(t.summary(), TrafficSummary::default());
        for ms in 1..=100 {
            t.record("/home", Duration::from_millis(ms), ms == 100);
        }
        let s = t.summary();
        assert_eq!(s.requests, 100);
        assert!((s.p50_ms - 50.0).abs() < f64::EPSILON, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < f64::EPSILON, "{s:?}");
        assert_eq!(s.server_errors, 1);
    }

    #[test]
    fn a_page_histogram_gives_bucket_bounds_and_the_share_within_three_seconds() {
        assert_eq!((bound(0), bound(27), bound(35)), (100, 3_000_000, 70_000_000));
        assert_eq!(
            (bucket(0), bucket(100), bucket(101), bucket(3_000_000), bucket(3_000_001)),
            (0, 0, 1, 27, 28)
        );
        assert_eq!(bucket(u64::MAX), 36);
        let mut t = Times::default();
        assert_eq!(t.quantile(0.5), None);
        // 98 fast requests (4 ms: the 5 ms bucket), one of 2.9 s and one of 3.1 s, one failed.
        for _ in 0..98 {
            t.add(Duration::from_millis(4), false);
        }
        t.add(Duration::from_millis(2900), false);
        t.add(Duration::from_millis(3100), true);
        assert_eq!((t.requests, t.server_errors), (100, 1));
        assert_eq!(t.quantile(0.5), Some(Duration::from_millis(5)));
        assert_eq!(t.quantile(0.99), Some(Duration::from_secs(3)));
        assert_eq!(t.quantile(1.0), Some(Duration::from_secs(5)));
        assert_eq!(t.within_limit(), 99);
        let mut sum = t.clone();
        sum.merge(&t);
        assert_eq!((sum.requests, sum.within_limit(), sum.quantile(0.5)), (200, 198, t.quantile(0.5)));
        t.add(Duration::from_secs(100), false);
        assert_eq!(t.quantile(1.0), None, "beyond the last bound");
    }

    #[test]
    fn pages_are_kept_apart_up_to_a_limit_and_taken_once() {
        let t = Traffic::default();
        for i in 0..MAX_PAGES + 5 {
            t.record(&format!("/p{i}"), Duration::from_millis(1), false);
        }
        t.record("/p0", Duration::from_millis(1), false);
        let pages = t.take_pages();
        assert_eq!(pages.len(), MAX_PAGES + 1);
        assert_eq!(pages[OTHER_PAGES].requests, 5);
        assert_eq!(pages["/p0"].requests, 2);
        assert!(t.take_pages().is_empty());
        t.put_back(&pages);
        assert_eq!(t.take_pages(), pages);
    }
}

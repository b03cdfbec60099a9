//! Request timings for self-monitoring: the front-ends record how long each request took and
//! whether it failed on the server's side; the console's dashboard and the metrics read a
//! summary of the last minute. No paths, no users: nothing personal.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the summary covers.
pub const WINDOW: Duration = Duration::from_mins(1);
/// At most this many samples are kept (a busy minute beyond that keeps its newest part).
const MAX_SAMPLES: usize = 200_000;

#[derive(Debug, Default)]
pub struct Traffic {
    samples: Mutex<VecDeque<(Instant, u32, bool)>>,
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

    /// Records one request.
    pub fn record(&self, elapsed: Duration, server_error: bool) {
        let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
        let now = Instant::now();
        let mut s = self.lock();
        while s.front().is_some_and(|(at, ..)| now.duration_since(*at) > WINDOW) || s.len() >= MAX_SAMPLES {
            s.pop_front();
        }
        s.push_back((now, micros, server_error));
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
            t.record(Duration::from_millis(ms), ms == 100);
        }
        let s = t.summary();
        assert_eq!(s.requests, 100);
        assert!((s.p50_ms - 50.0).abs() < f64::EPSILON, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < f64::EPSILON, "{s:?}");
        assert_eq!(s.server_errors, 1);
    }
}

//! The uptime ledger as the service keeps it: the prober's probes as records (backed up with
//! the rest), and a period's 稼働率 for administrators (the dashboard, the monthly report).

use serde::Serialize;

use super::{Actor, Service};
use crate::error::Result;
use crate::ids::{RecordId, UptimeProbeId};
use crate::maintenance::Maintenance;
use crate::staff::Action;
use crate::store::{ReadTx, Reader};
use crate::time::Timestamp;
use crate::traffic::{self, TrafficPeriod};
use crate::uptime::{self, Availability, Probe};

/// A period of the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct UptimeView {
    pub from: Timestamp,
    pub to: Timestamp,
    pub availability: Availability,
    /// The probes that found a problem (an outage or something an administrator must see to),
    /// oldest first: the incidents of the period.
    pub problems: Vec<Probe>,
}

impl Service {
    /// Keeps a probe in the ledger. The server's prober only; not audited (no personal data, every
    /// 180 s), but in the change log like every record, so backups carry the ledger.
    pub fn record_probe(&self, probe: Probe) -> Result<()> {
        let mut tx = self.store.begin_write(self.now(), 0, Some("prober".into()))?;
        tx.insert(probe.clone())?;
        tx.commit()?;
        *self.last_probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(probe);
        Ok(())
    }

    /// Keeps the per-page request times gathered since the last time as a `TrafficPeriod`, once
    /// the clock hour has changed since then, or at once when `now_anyway` (the server
    /// stopping). The prober calls it after each probe, so a period runs from one hour into the
    /// next by at most a probe's interval (the report counts a period in the month it began).
    /// Not audited: pages and times only.
    pub fn keep_traffic(&self, now_anyway: bool) -> Result<()> {
        let now = self.now();
        let mut since = self.traffic_since.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let from = *since.get_or_insert(now);
        if !now_anyway && now.0.div_euclid(traffic::KEEP_EVERY) == from.0.div_euclid(traffic::KEEP_EVERY) {
            return Ok(());
        }
        let period = TrafficPeriod { from, to: now, pages: self.traffic.take_pages() };
        if period.pages.is_empty() {
            *since = Some(now);
            return Ok(());
        }
        let kept = self.store.begin_write(now, 0, Some("prober".into())).and_then(|mut tx| {
            tx.insert(period.clone())?;
            tx.commit()
        });
        match kept {
            Ok(()) => {
                *since = Some(now);
                Ok(())
            }
            Err(e) => {
                self.traffic.put_back(&period.pages);
                Err(e)
            }
        }
    }

    /// The latest probe in the ledger (the prober's clock check after a restart, the metrics).
    pub fn last_probe(&self) -> Result<Option<Probe>> {
        let mut last = self.last_probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none() {
            let r = self.store.read()?;
            if let Some(id) = r.ids(UptimeProbeId::KIND)?.last().copied() {
                *last = r.get::<Probe>(UptimeProbeId(id))?.map(|v| v.body);
            }
        }
        Ok(last.clone())
    }

    /// This month's 稼働率 so far (Japan time), for the console's 概要: read from the ledger
    /// once per probe and kept until the next (`None` before the first probe). Not audited: a
    /// figure of the server, like the last probe.
    pub(super) fn month_so_far(&self) -> Result<Option<Availability>> {
        let Some(probe) = self.last_probe()? else { return Ok(None) };
        let mut cached = self.month_uptime.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, a)) = cached.as_ref()
            && *at == probe.at
        {
            return Ok(Some(*a));
        }
        let now = self.now();
        let from = crate::service_report::Month::of(now.jst_date()).start();
        let a = ledger(&self.store.read()?, from, now, now)?.availability;
        *cached = Some((probe.at, a));
        Ok(Some(a))
    }

    /// The ledger over `[from, to)` (`to` no later than now; from the first probe ever, when the
    /// server began later): 稼働率 by the specification's formula and the probes that found
    /// problems. For administrators; audited.
    pub fn uptime(&self, actor: &Actor, from: Timestamp, to: Timestamp) -> Result<UptimeView> {
        let now = self.now();
        self.read(actor, Action::OperateServer, UptimeProbeId::KIND, None, |r| {
            let l = ledger(r, from, to, now)?;
            let problems = l.probes.into_iter().filter(|p| !p.problems().is_empty()).collect();
            let detail = format!("uptime {} to {}", l.from.to_jst_string(), l.to.to_jst_string());
            Ok((UptimeView { from: l.from, to: l.to, availability: l.availability, problems }, Some(detail)))
        })
    }
}

/// A period of the ledger as one read transaction sees it: clipped to the first probe ever and
/// to now, its probes, the planned stops that overlap it, and its 稼働率 (`Service::uptime`,
/// the monthly report).
pub(super) struct Ledger {
    pub from: Timestamp,
    pub to: Timestamp,
    pub probes: Vec<Probe>,
    pub planned: Vec<Maintenance>,
    pub windows: Vec<uptime::Window>,
    pub availability: Availability,
}

/// The probes made in `[from, to)`, in the order they were made. Probes are kept in that order
/// (ids 1, 2, …) and their times rise with their ids, so the first is found by halving on ids and
/// the period read from there — not every probe of years (five years: 880,000). A clock that
/// stepped back (a hardware clock kept in Japan time, put right by NTP: nine hours) puts some out
/// of order, and the halving may land on a later crossing of `from`: so the read goes on, either
/// way, until [`MARGIN`] probes in a row fall outside the period, and each probe's own time decides.
fn probes_between(r: &ReadTx, from: Timestamp, to: Timestamp) -> Result<Vec<Probe>> {
    /// A day of probes at the specification's interval: covers a step back of up to a day.
    const MARGIN: u64 = 480;
    let Some(last) = r.last_id(UptimeProbeId::KIND)? else { return Ok(Vec::new()) };
    let probe = |id: u64| -> Result<Option<Probe>> { Ok(r.get::<Probe>(UptimeProbeId(id))?.map(|v| v.body)) };
    let (mut lo, mut hi) = (1, last + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            Some(p) if p.at < from => lo = mid + 1,
            _ => hi = mid,
        }
    }
    // The probes of the period among `ids`, read until MARGIN in a row fall outside it.
    let read = |ids: &mut dyn Iterator<Item = u64>| -> Result<Vec<Probe>> {
        let (mut found, mut outside) = (Vec::new(), 0);
        for id in ids {
            if outside >= MARGIN {
                break;
            }
            match probe(id)? {
                Some(p) if (from..to).contains(&p.at) => {
                    found.push(p);
                    outside = 0;
                }
                _ => outside += 1,
            }
        }
        Ok(found)
    };
    let mut probes = read(&mut (1..lo).rev())?;
    probes.reverse();
    probes.extend(read(&mut (lo..=last))?);
    Ok(probes)
}

pub(super) fn ledger(r: &ReadTx, from: Timestamp, to: Timestamp, now: Timestamp) -> Result<Ledger> {
    let first = r.get::<Probe>(UptimeProbeId(1))?.map_or(now, |v| v.body.at);
    let from = from.max(first).min(to);
    let to = to.min(now).max(from);
    let probes = probes_between(r, from, to)?;
    let planned: Vec<Maintenance> = r
        .all::<Maintenance>()?
        .into_iter()
        .map(|v| v.body)
        .filter(|m| m.planned().is_some_and(|w| w.from < to && w.to > from))
        .collect();
    let windows: Vec<uptime::Window> = planned.iter().filter_map(Maintenance::planned).collect();
    let samples: Vec<(Timestamp, bool)> = probes.iter().map(|p| (p.at, p.serving())).collect();
    let availability = uptime::availability(&samples, &windows, from, to);
    Ok(Ledger { from, to, probes, planned, windows, availability })
}

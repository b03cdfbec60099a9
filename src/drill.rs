//! 復元訓練: the newest authentic generation and the archive after it restored into a scratch
//! directory beside the store (`DATA/.drill`, removed afterwards), checked (integrity and audit
//! chain, as every verification does) and timed; the result kept in the store for the monthly
//! report. Run by the scheduler (monthly by default), `mamoru backup drill` and the console.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use mamoru_core::Service;
use mamoru_core::drill::RestoreDrill;
use mamoru_core::time::Timestamp;

/// Runs a drill; a drill that fails says why in its record (it is not an error here).
pub fn run(data: &Path, service: &Service, by: &str) -> RestoreDrill {
    let started = Instant::now();
    let mut d = RestoreDrill {
        started_at: service.now(),
        millis: 0,
        generation: None,
        generation_bytes: 0,
        changes_replayed: 0,
        up_to: None,
        failure: None,
        by: by.to_owned(),
    };
    let scratch = data.join(".drill");
    // What a drill killed half-way left.
    let _ = std::fs::remove_dir_all(&scratch);
    let outcome = (|| {
        let dest = crate::backup::destination(data)?;
        let keys = crate::backup::keyring(data)?;
        let generation = crate::commands::newest_authentic(&dest, &keys, None)?;
        d.generation = Some(generation);
        crate::backup::verify(&dest, generation, &keys, &scratch)
    })();
    d.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(v) => {
            d.generation_bytes = v.manifest.file_bytes;
            d.changes_replayed = v.archive.applied;
            d.up_to = Some(v.archive.last_at.unwrap_or(Timestamp(v.manifest.created_at)));
        }
        Err(e) => d.failure = Some(format!("{e:#}")),
    }
    d
}

/// Runs a drill and keeps its result; returns it.
pub fn run_and_record(data: &Path, service: &Service, by: &str) -> Result<RestoreDrill> {
    let d = run(data, service, by);
    Ok(service.record_drill(d)?.body)
}

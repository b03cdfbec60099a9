//! Backup generations: round trip, damage (100 flipped bytes, 100 truncations), the wrong key,
//! a full disk, retention.
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly, like the tests they serve")]

use std::collections::BTreeMap;

use mamoru_backup::{Destination, Error, NewGeneration, generate_identity};

fn content(n: usize) -> Vec<u8> {
    // Compressible but not trivial: lines with a counter.
    (0..n).flat_map(|i| format!("record {i}: 架空の記録 {}\n", i * 7919 % 1000).into_bytes()).collect()
}

fn meta(_: &mut dyn std::io::Write) -> NewGeneration {
    NewGeneration {
        created_at: 1_790_000_000,
        source_id: "store-1".into(),
        covers_seq: 42,
        counts: BTreeMap::from([("child".to_owned(), 3)]),
    }
}

fn write(dest: &Destination, r: &[mamoru_backup::Recipient], data: &[u8]) -> mamoru_backup::Manifest {
    dest.create(r, |w| w.write_all(data).map(|()| meta(w)).map_err(|e| e.to_string())).unwrap()
}

fn read_all(dest: &Destination, generation: u64, id: &mamoru_backup::Identity) -> Result<Vec<u8>, Error> {
    dest.read(generation, id, |r| {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v).map_err(|e| e.to_string())
    })
    .map(|(_, v)| v)
}

#[test]
fn a_generation_round_trips_and_is_smaller_than_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = generate_identity();
    let data = content(20_000);
    let m = write(&dest, &[key.recipient()], &data);
    assert_eq!(m.generation, 1);
    assert_eq!(m.content_bytes, data.len() as u64);
    assert_eq!(m.covers_seq, 42);
    assert!(m.file_bytes < m.content_bytes / 3, "compressed: {} of {}", m.file_bytes, m.content_bytes);
    assert_eq!(read_all(&dest, 1, &key).unwrap(), data);
    // The encrypted file does not contain the content in clear.
    let raw = std::fs::read(dest.data_path(1)).unwrap();
    assert!(!raw.windows(6).any(|w| w == b"record"));
    assert_eq!(dest.list().unwrap().len(), 1);
    let m2 = write(&dest, &[key.recipient()], b"second");
    assert_eq!(m2.generation, 2);
    assert_eq!(dest.latest().unwrap().generation, 2);
}

#[test]
fn the_wrong_key_is_a_distinct_error_and_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = generate_identity();
    write(&dest, &[key.recipient()], &content(100));
    let mut consumed = false;
    let r = dest.read(1, &generate_identity(), |_| {
        consumed = true;
        Ok::<_, String>(())
    });
    assert!(matches!(r, Err(Error::WrongKey)), "{r:?}");
    assert!(!consumed);
    // Several recipients: each can open it.
    let (a, b) = (generate_identity(), generate_identity());
    write(&dest, &[a.recipient(), b.recipient()], b"both");
    assert_eq!(read_all(&dest, 2, &a).unwrap(), b"both");
    assert_eq!(read_all(&dest, 2, &b).unwrap(), b"both");
}

#[test]
fn every_flipped_byte_and_every_truncation_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = generate_identity();
    let data = content(3000);
    write(&dest, &[key.recipient()], &data);
    let path = dest.data_path(1);
    let good = std::fs::read(&path).unwrap();
    let mut rng = 0x1234_5678_u64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        usize::try_from(rng % n as u64).unwrap()
    };
    for i in 0..100 {
        let mut bad = good.clone();
        let at = next(bad.len());
        bad[at] ^= 1 << (i % 8);
        std::fs::write(&path, &bad).unwrap();
        assert!(matches!(read_all(&dest, 1, &key), Err(Error::Damaged { .. })), "flip {i} at {at} accepted");
        // Even a forged manifest checksum does not help: age authenticates every chunk.
        let mut m = dest.manifest(1).unwrap();
        let sum = {
            let mut reader = mamoru_backup::ChecksummedReader::new(&bad[..]);
            std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
            reader.finish().0
        };
        let real = m.file_sha256.clone();
        m.file_sha256 = sum;
        std::fs::write(dir.path().join("gen-000001.json"), serde_json::to_vec(&m).unwrap()).unwrap();
        let r = read_all(&dest, 1, &key);
        assert!(
            r.is_err() && r.as_ref().ok() != Some(&data),
            "flip {i} at {at} with a forged manifest accepted"
        );
        m.file_sha256 = real;
        std::fs::write(dir.path().join("gen-000001.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    }
    for i in 0..100 {
        let cut = if i == 0 { good.len() - 1 } else { next(good.len()) };
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(
            matches!(read_all(&dest, 1, &key), Err(Error::Damaged { .. })),
            "truncation to {cut} accepted"
        );
    }
    std::fs::write(&path, &good).unwrap();
    assert_eq!(read_all(&dest, 1, &key).unwrap(), data);
}

#[test]
fn a_failed_producer_leaves_no_generation_behind() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = generate_identity();
    write(&dest, &[key.recipient()], b"first");
    let r = dest.create(&[key.recipient()], |w| {
        w.write_all(b"partial").unwrap();
        Err::<NewGeneration, _>("the store went away")
    });
    assert!(matches!(r, Err(Error::Source(_))));
    assert_eq!(dest.list().unwrap().len(), 1);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

/// Needs root (as CI has) to mount a 2 MiB tmpfs that fills up mid-snapshot.
#[test]
fn a_full_disk_keeps_the_older_generations_intact() {
    let base = tempfile::tempdir().unwrap();
    let mnt = base.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt.to_str().unwrap()])
        .status()
        .expect("mount must be available: this test mounts a small tmpfs (run as root)");
    assert!(status.success(), "mounting a tmpfs failed: this test needs root");
    let result = std::panic::catch_unwind(|| {
        let dest = Destination::open(&mnt).unwrap();
        let key = generate_identity();
        write(&dest, &[key.recipient()], &content(2000));
        // Incompressible content larger than what is left.
        let mut noise = vec![0u8; 4 << 20];
        let mut x = 88_172_645_463_325_252_u64;
        for b in &mut noise {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x.to_le_bytes()[0];
        }
        let r = dest
            .create(&[key.recipient()], |w| w.write_all(&noise).map(|()| meta(w)).map_err(|e| e.to_string()));
        assert!(r.is_err(), "a full disk must fail the backup");
        let list = dest.list().unwrap();
        assert_eq!(list.len(), 1, "no half generation appears");
        assert_eq!(read_all(&dest, 1, &key).unwrap(), content(2000), "the older generation is intact");
        let leftovers: Vec<_> = std::fs::read_dir(&mnt).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "only the first generation's two files remain: {leftovers:?}");
    });
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn pruning_keeps_at_least_three_and_waits_for_a_verified_newest() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = generate_identity();
    for i in 0..6 {
        write(&dest, &[key.recipient()], format!("gen {i}").as_bytes());
    }
    assert!(dest.prune(1).unwrap().is_empty(), "the newest is not verified yet");
    dest.mark_verified(6, 1_790_000_100).unwrap();
    assert_eq!(dest.prune(1).unwrap(), vec![1, 2, 3], "never fewer than three");
    assert_eq!(dest.list().unwrap().iter().map(|m| m.generation).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert_eq!(dest.manifest(6).unwrap().verified_at, Some(1_790_000_100));
    assert!(matches!(dest.manifest(1), Err(Error::NoGeneration(1))));
}

#[test]
fn archive_segments_round_trip_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let archive = mamoru_backup::Archive::open(dir.path()).unwrap();
    let key = generate_identity();
    for (first, last) in [(1, 10), (11, 12), (13, 40)] {
        let meta =
            mamoru_backup::NewSegment { first, last, last_at: 0, created_at: 0, source_id: "s".into() };
        archive
            .append(&[key.recipient()], meta, |w| w.write_all(format!("{first}-{last}").as_bytes()))
            .unwrap();
    }
    assert_eq!(archive.last_seq().unwrap(), 40);
    let segments = archive.segments().unwrap();
    assert_eq!(segments.iter().map(|s| s.first).collect::<Vec<_>>(), [1, 11, 13]);
    let text = archive
        .read(&segments[1], &key, |r| {
            let mut s = String::new();
            r.read_to_string(&mut s).map(|_| s)
        })
        .unwrap();
    assert_eq!(text, "11-12");
    assert!(archive.read(&segments[1], &generate_identity(), |_| Ok::<_, String>(())).is_err());
    assert_eq!(archive.prune_through(12).unwrap(), 2);
    assert_eq!(archive.segments().unwrap().len(), 1);
}

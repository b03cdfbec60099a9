//! Backup generations: round trip, damage (100 flipped bytes, 100 truncations), the wrong key,
//! a full disk, retention; forgeries (a planted generation, an added recipient, an edited time,
//! another store, a renamed manifest, a planted or edited segment) and the keyring file.
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly, like the tests they serve")]

use std::collections::BTreeMap;

use mamoru_backup::{AuthKey, Destination, Error, Keyring, NewGeneration, generate_identity};

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
        anchor: Some("9:ab".into()),
    }
}

/// A new keyring for store `store-1`: a fresh identity and authentication key.
fn keyring() -> Keyring {
    Keyring {
        identity: generate_identity(),
        auth: AuthKey::generate().unwrap(),
        store_id: "store-1".into(),
        recipients: Vec::new(),
    }
}

fn write(dest: &Destination, keys: &Keyring, data: &[u8]) -> mamoru_backup::Manifest {
    write_to(dest, &[keys.identity.recipient()], keys, data)
}

fn write_to(
    dest: &Destination,
    r: &[mamoru_backup::Recipient],
    keys: &Keyring,
    data: &[u8],
) -> mamoru_backup::Manifest {
    dest.create(r, keys, |w| w.write_all(data).map(|()| meta(w)).map_err(|e| e.to_string())).unwrap()
}

fn read_all(dest: &Destination, generation: u64, id: &Keyring) -> Result<Vec<u8>, Error> {
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
    let key = keyring();
    let data = content(20_000);
    let m = write(&dest, &key, &data);
    assert_eq!(m.generation, 1);
    assert_eq!(m.content_bytes, data.len() as u64);
    assert_eq!(m.covers_seq, 42);
    assert!(m.file_bytes < m.content_bytes / 3, "compressed: {} of {}", m.file_bytes, m.content_bytes);
    assert_eq!(read_all(&dest, 1, &key).unwrap(), data);
    // The encrypted file does not contain the content in clear.
    let raw = std::fs::read(dest.data_path(1)).unwrap();
    assert!(!raw.windows(6).any(|w| w == b"record"));
    assert_eq!(dest.list().unwrap().len(), 1);
    let m2 = write(&dest, &key, b"second");
    assert_eq!(m2.generation, 2);
    assert_eq!(dest.latest().unwrap().generation, 2);
}

#[test]
fn the_wrong_key_is_a_distinct_error_and_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = keyring();
    write(&dest, &key, &content(100));
    let mut consumed = false;
    // The right authentication key, another identity: it cannot decrypt.
    let stranger = Keyring { identity: generate_identity(), ..key.clone() };
    let r = dest.read(1, &stranger, |_| {
        consumed = true;
        Ok::<_, String>(())
    });
    assert!(matches!(r, Err(Error::WrongKey)), "{r:?}");
    assert!(r.as_ref().is_err_and(Error::is_key_problem));
    assert!(!consumed);
    // Several recipients: each can open it.
    let (a, b) = (keyring(), generate_identity());
    write_to(&dest, &[a.identity.recipient(), b.recipient()], &a, b"both");
    assert_eq!(read_all(&dest, 2, &a).unwrap(), b"both");
    let b = Keyring { identity: b, ..a.clone() };
    assert_eq!(read_all(&dest, 2, &b).unwrap(), b"both");
}

#[test]
fn every_flipped_byte_and_every_truncation_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let key = keyring();
    let data = content(3000);
    write(&dest, &key, &data);
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
        // Even a manifest given the damaged file's checksum does not help: its tag no longer
        // matches (and age authenticates every chunk).
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
    let key = keyring();
    write(&dest, &key, b"first");
    let r = dest.create(&[key.identity.recipient()], &key, |w| {
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
        let key = keyring();
        write(&dest, &key, &content(2000));
        // Incompressible content larger than what is left.
        let mut noise = vec![0u8; 4 << 20];
        let mut x = 88_172_645_463_325_252_u64;
        for b in &mut noise {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x.to_le_bytes()[0];
        }
        let r = dest.create(&[key.identity.recipient()], &key, |w| {
            w.write_all(&noise).map(|()| meta(w)).map_err(|e| e.to_string())
        });
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
    let key = keyring();
    for i in 0..6 {
        write(&dest, &key, format!("gen {i}").as_bytes());
    }
    assert!(dest.prune(1, &key).unwrap().is_empty(), "the newest is not verified yet");
    dest.mark_verified(6, 1_790_000_100, &key).unwrap();
    assert_eq!(dest.prune(1, &key).unwrap(), vec![1, 2, 3], "never fewer than three");
    dest.authentic(6, &key).unwrap();
    assert_eq!(dest.list().unwrap().iter().map(|m| m.generation).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert_eq!(dest.manifest(6).unwrap().verified_at, Some(1_790_000_100));
    assert!(matches!(dest.manifest(1), Err(Error::NoGeneration(1))));
}

#[test]
fn archive_segments_round_trip_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let archive = mamoru_backup::Archive::open(dir.path()).unwrap();
    let key = keyring();
    for (first, last) in [(1, 10), (11, 12), (13, 40)] {
        append(&archive, &key, first, last);
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
    let stranger = Keyring { identity: generate_identity(), ..key.clone() };
    assert!(archive.read(&segments[1], &stranger, |_| Ok::<_, String>(())).is_err());
    assert_eq!(archive.prune_through(12).unwrap(), 2);
    assert_eq!(archive.segments().unwrap().len(), 1);
}

fn append(archive: &mamoru_backup::Archive, key: &Keyring, first: u64, last: u64) -> mamoru_backup::Segment {
    let meta = mamoru_backup::NewSegment {
        first,
        last,
        last_at: 0,
        created_at: 0,
        source_id: key.store_id.clone(),
        anchor: Some(format!("{last}:ab")),
    };
    archive
        .append(&[key.identity.recipient()], &key.auth, meta, |w| {
            w.write_all(format!("{first}-{last}").as_bytes())
        })
        .unwrap()
}

fn forged_file(r: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    match r {
        Err(Error::Forged { file, reason }) => {
            (file.file_name().unwrap().to_string_lossy().into_owned(), reason)
        }
        other => unreachable!("expected a forgery to be refused, got {other:?}"),
    }
}

/// A named edit of a manifest's JSON.
type Edit = (&'static str, Box<dyn Fn(&mut serde_json::Value)>);

fn edit_manifest(dir: &std::path::Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(name);
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Plants a generation made with `attacker`'s key (encrypted to `to`, the public recipients) in
/// `dest` under number `generation`, marked verified.
fn plant(dest: &Destination, attacker: &Keyring, to: &Keyring, generation: u64) {
    let elsewhere = tempfile::tempdir().unwrap();
    let theirs = Destination::open(elsewhere.path()).unwrap();
    let mut m = write_to(&theirs, &[to.identity.recipient()], attacker, b"an attacker's store");
    m.generation = generation;
    m.verified_at = Some(1_790_000_200);
    let name = format!("gen-{generation:06}");
    std::fs::copy(theirs.data_path(1), dest.dir().join(format!("{name}.age"))).unwrap();
    std::fs::write(dest.dir().join(format!("{name}.json")), serde_json::to_vec(&m).unwrap()).unwrap();
}

#[test]
fn a_generation_planted_with_the_public_recipients_is_refused_naming_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let server = keyring();
    write(&dest, &server, b"the real store");
    // Whoever can write the NAS knows the recipients (they are public) and the store id (it is
    // in every manifest), but not the authentication key.
    let attacker = Keyring { auth: AuthKey::generate().unwrap(), ..server.clone() };
    plant(&dest, &attacker, &server, 2);
    let (file, reason) = forged_file(read_all(&dest, 2, &server));
    assert_eq!(file, "gen-000002.json");
    assert!(reason.contains("tag does not match"), "{reason}");
    assert!(matches!(dest.mark_verified(2, 1, &server), Err(Error::Forged { .. })));
    assert_eq!(read_all(&dest, 1, &server).unwrap(), b"the real store");
    // Numbering and pruning count only what the server wrote, and never write over a planted
    // file. Four more real generations (3..6), the newest verified, and a planted "verified" 7
    // and 1000: the three newest real ones stay with the planted ones (left for an operator).
    for i in 0..4 {
        assert_eq!(write(&dest, &server, format!("real {i}").as_bytes()).generation, 3 + i);
    }
    dest.mark_verified(6, 1_790_000_100, &server).unwrap();
    plant(&dest, &attacker, &server, 7);
    plant(&dest, &attacker, &server, 1000);
    assert_eq!(dest.prune(3, &server).unwrap(), vec![1, 3]);
    let listed = dest.list().unwrap().iter().map(|m| m.generation).collect::<Vec<_>>();
    assert_eq!(listed, [2, 4, 5, 6, 7, 1000]);
    // The next real one is numbered after 6, past the planted 7, not after 1000.
    assert_eq!(write(&dest, &server, b"after").generation, 8);
    dest.authentic(8, &server).unwrap();
    assert!(matches!(dest.authentic(7, &server), Err(Error::Forged { .. })), "the planted 7 is still there");
}

#[test]
fn an_added_recipient_a_moved_time_or_a_false_verification_breaks_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let server = keyring();
    write(&dest, &server, b"data");
    let original = std::fs::read(dir.path().join("gen-000001.json")).unwrap();
    let edits: Vec<Edit> = vec![
        (
            "recipient added",
            Box::new(|m| {
                let extra = generate_identity().recipient().to_string();
                m["recipients"].as_array_mut().unwrap().push(extra.into());
            }),
        ),
        ("time moved back 30 days", Box::new(|m| m["created_at"] = (1_790_000_000 - 30 * 86_400).into())),
        ("marked verified", Box::new(|m| m["verified_at"] = 1_790_000_100.into())),
        ("counts changed", Box::new(|m| m["counts"]["child"] = 4.into())),
        ("anchor changed", Box::new(|m| m["anchor"] = "7:cd".into())),
        (
            "tag removed, format 1",
            Box::new(|m| {
                m["format"] = 1.into();
                m.as_object_mut().unwrap().remove("auth");
            }),
        ),
    ];
    for (what, edit) in edits {
        edit_manifest(dir.path(), "gen-000001.json", edit);
        let (file, _) = forged_file(read_all(&dest, 1, &server));
        assert_eq!(file, "gen-000001.json", "{what}");
        std::fs::write(dir.path().join("gen-000001.json"), &original).unwrap();
    }
    assert_eq!(read_all(&dest, 1, &server).unwrap(), b"data");
    // A manifest copied under another generation's name, and a file that is no manifest: left
    // out and reported, never listed, and the listing still works.
    std::fs::copy(dir.path().join("gen-000001.json"), dir.path().join("gen-000007.json")).unwrap();
    std::fs::write(dir.path().join("gen-000008.json"), b"not json").unwrap();
    let (listed, strays) = dest.scan().unwrap();
    assert_eq!(listed.iter().map(|m| m.generation).collect::<Vec<_>>(), [1]);
    assert!(strays[0].contains("gen-000007.json says it is generation 1"), "{strays:?}");
    assert!(strays[1].contains("gen-000008.json is not a manifest"), "{strays:?}");
    // The next generation is numbered after what the server wrote, not after a planted number.
    assert_eq!(write(&dest, &server, b"next").generation, 2);
}

/// A format-2 manifest as written (its tag computed by an independent HMAC-SHA256 over the
/// compact JSON with `auth` empty): it must keep authenticating whatever fields are added later.
#[test]
fn a_format_2_manifest_written_before_keeps_authenticating() {
    let dir = tempfile::tempdir().unwrap();
    let text = include_str!("fixtures/gen-000003.json");
    std::fs::write(dir.path().join("gen-000003.json"), text).unwrap();
    let id_file = dir.path().join("key.txt");
    generate_identity().write_new(&id_file, "fixture").unwrap();
    let mut pins = std::fs::read_to_string(&id_file).unwrap();
    pins.push_str("# mamoru-backup-auth: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
    pins.push_str("# mamoru-store: 0123456789abcdef0123456789abcdef\n");
    std::fs::write(&id_file, pins).unwrap();
    let keys = Keyring::from_file(&id_file).unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let m = dest.authentic(3, &keys).unwrap();
    assert_eq!((m.covers_seq, m.verified_at, m.anchor), (1234, Some(1_795_000_100), None));
    let other = Keyring { auth: AuthKey::generate().unwrap(), ..keys };
    assert!(matches!(dest.authentic(3, &other), Err(Error::Forged { .. })));
}

#[test]
fn a_generation_of_another_store_is_refused_even_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination::open(dir.path()).unwrap();
    let server = keyring();
    write(&dest, &server, b"data");
    let other = Keyring { store_id: "store-2".into(), ..server.clone() };
    let r = read_all(&dest, 1, &other);
    assert!(r.as_ref().is_err_and(Error::is_key_problem), "{r:?}");
    let text = r.unwrap_err().to_string();
    assert!(
        text.contains("gen-000001.json") && text.contains("store-1") && text.contains("store-2"),
        "{text}"
    );
}

#[test]
fn a_planted_or_edited_segment_is_refused_naming_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let archive = mamoru_backup::Archive::open(dir.path()).unwrap();
    let server = keyring();
    append(&archive, &server, 1, 10);
    let attacker = Keyring { auth: AuthKey::generate().unwrap(), ..server.clone() };
    append(&archive, &attacker, 11, 20);
    let segments = archive.segments().unwrap();
    let read = |s| archive.read(s, &server, |r| std::io::copy(r, &mut std::io::sink()));
    read(&segments[0]).unwrap();
    let mut consumed = false;
    let r = archive.read(&segments[1], &server, |_| {
        consumed = true;
        Ok::<_, String>(())
    });
    let (file, _) = forged_file(r);
    assert_eq!(file, "seg-000000000011-000000000020.json");
    assert!(!consumed, "nothing of a forged segment reaches the consumer");
    // An edited segment manifest: its last change moved.
    let segment_dir = dir.path().join("archive");
    edit_manifest(&segment_dir, "seg-000000000001-000000000010.json", |m| m["last_at"] = 5.into());
    let segments = archive.segments().unwrap();
    let (file, _) = forged_file(read(&segments[0]));
    assert_eq!(file, "seg-000000000001-000000000010.json");
    // A segment of another store with the same key.
    let other = Keyring { store_id: "store-2".into(), ..server.clone() };
    append(&archive, &other, 21, 30);
    let segments = archive.segments().unwrap();
    let r = read(&segments[2]);
    assert!(matches!(&r, Err(Error::AnotherStore { store, .. }) if store == "store-2"), "{r:?}");
}

#[test]
fn a_keyring_file_keeps_its_pins_stays_private_and_an_old_file_gets_them_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut keys = keyring();
    keys.recipients = vec![generate_identity().recipient(), keys.identity.recipient()];
    let path = dir.path().join("offline.txt");
    keys.write_new(&path, "test identity").unwrap();
    let back = Keyring::from_file(&path).unwrap();
    assert_eq!(back.auth, keys.auth);
    assert_eq!(back.store_id, "store-1");
    let names = |k: &Keyring| k.recipients.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(names(&back), names(&keys));
    assert_eq!(back.identity.recipient().to_string(), keys.identity.recipient().to_string());
    assert!(keys.write_new(&path, "again").is_err(), "never overwrites");
    // Every pin is a comment line, so `age -i` reads the file as it is.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#') || l.starts_with("AGE-SECRET-KEY-")));
    let shown = format!("{back:?}");
    assert!(
        shown.contains("AuthKey(<redacted>)") && !shown.contains("SECRET"),
        "Debug hides the keys: {shown}"
    );
    // A bare identity file (from before backups were authenticated).
    let bare = dir.path().join("bare.key");
    generate_identity().write_new(&bare, "old").unwrap();
    assert!(matches!(Keyring::from_file(&bare), Err(Error::NoAuthKey(_))));
    assert!(Keyring::pin_into(&bare, &keys.auth, "store-1").unwrap());
    assert!(!Keyring::pin_into(&bare, &AuthKey::generate().unwrap(), "store-9").unwrap(), "pinned once");
    assert_eq!(Keyring::from_file(&bare).unwrap().auth, keys.auth);
    for f in [&path, &bare] {
        assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
    }
}

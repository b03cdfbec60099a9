//! Snapshots: a restored store is the same store (its own snapshot is byte-identical), and a
//! snapshot taken while writers run holds one consistent state.

use mamoru_core::case::StatusChange;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::staff::StaffChange;
use std::sync::Arc;

use mamoru_core::Service;
use mamoru_core::person::FaceSheetEdit;
use mamoru_core::staff::{Password, Role};
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::FixedClock;

use crate::support::{PASSWORD, t0, world};

#[test]
fn a_restored_store_snapshots_to_the_same_bytes() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    for i in 0..30 {
        let c = w.child(&cw, "復元", &format!("{i}"), "ふくげん", "", "2016-01-01");
        w.case(&cw, c, mamoru_core::case::IntakeKind::AbuseReport, t0());
    }
    let mut a = Vec::new();
    let summary = w.svc.store().write_snapshot(&mut a).unwrap();
    assert!(summary.kinds.contains(&("child".to_owned(), 30)));

    let dir = tempfile::tempdir().unwrap();
    let (restored, rsummary) = Store::restore_snapshot(&dir.path().join("r"), &mut a.as_slice()).unwrap();
    assert_eq!(rsummary, summary);
    let mut b = Vec::new();
    restored.write_snapshot(&mut b).unwrap();
    assert!(a == b, "the restored store differs from its source");

    // The restored store works: search, board, audit chain, integrity.
    let svc = Service::new(restored, Arc::new(FixedClock::new(t0())));
    assert_eq!(svc.search(&cw, "ふくげん", 100).unwrap().len(), 30);
    assert_eq!(svc.board(&cw, w.u1, None).unwrap().len(), 30, "each report's 48-hour clock, restored");
    assert!(svc.check().unwrap().problems.is_empty());

    // Not over an existing store, and not from a cut stream (damage inside values is the backup
    // layer's to catch: its checksums and age's authentication cover every byte).
    assert!(Store::restore_snapshot(&dir.path().join("r"), &mut a.as_slice()).is_err());
    let mut cut = a.clone();
    cut.truncate(a.len() / 2);
    assert!(Store::restore_snapshot(&dir.path().join("cut"), &mut cut.as_slice()).is_err());
}

#[test]
fn a_snapshot_taken_during_writes_is_one_consistent_state() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let svc = Arc::new(w.svc);
    let writer = {
        let svc = svc.clone();
        let cw = cw.clone();
        let unit = w.u1;
        std::thread::spawn(move || {
            for i in 0..300 {
                svc.register_child(
                    &cw,
                    crate::support::bare_child(unit, "並行", &format!("{i}"), "へいこう"),
                )
                .unwrap();
            }
        })
    };
    let mut snapshots = Vec::new();
    while !writer.is_finished() {
        let mut bytes = Vec::new();
        let s = svc.store().write_snapshot(&mut bytes).unwrap();
        snapshots.push((bytes, s));
    }
    writer.join().unwrap();
    assert!(!snapshots.is_empty());
    let dir = tempfile::tempdir().unwrap();
    for (i, (bytes, summary)) in snapshots.iter().enumerate() {
        let (store, _) =
            Store::restore_snapshot(&dir.path().join(format!("s{i}")), &mut bytes.as_slice()).unwrap();
        let r = store.read().unwrap();
        let children = r.count("child").unwrap();
        let changes = r.changes_after(0, usize::MAX).unwrap();
        assert_eq!(changes.len() as u64, summary.last_change);
        assert_eq!(changes.iter().filter(|c| c.kind == "child").count() as u64, children, "snapshot {i}");
        assert_eq!(r.search_children("へいこう", usize::MAX).unwrap().len() as u64, children, "snapshot {i}");
        drop(r);
        let svc = Service::new(store, Arc::new(FixedClock::new(t0())));
        assert!(svc.check().unwrap().problems.is_empty(), "snapshot {i}");
    }
}

#[test]
fn replaying_the_redo_log_on_a_snapshot_reaches_the_same_store() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let first = w.child(&cw, "前", "", "まえ", "", "2016-01-01");
    let mut base = Vec::new();
    let summary = w.svc.store().write_snapshot(&mut base).unwrap();

    // After the snapshot: new records, an edit, a case with clocks, notes, a failed attempt.
    w.clock.advance(60);
    let second = w.child(&cw, "後", "", "あと", "", "2017-02-02");
    let mid = mamoru_core::time::Clock::now(&*w.clock);
    w.clock.advance(60);
    let case = w.case(&cw, second, mamoru_core::case::IntakeKind::AbuseReport, mid);
    let current = w.svc.store().read().unwrap().require::<mamoru_core::person::Child>(first).unwrap();
    let mut body = current.body.clone();
    body.address = "架空市ひかり野9-9".into();
    w.svc.edit_child(&cw, first, current.rev, &FaceSheetEdit::of(&body)).unwrap();
    body.address = "架空市つばさ台1-1".into();
    let stale = w.svc.edit_child(&cw, first, current.rev, &FaceSheetEdit::of(&body));
    assert!(stale.is_err(), "a refused edit is audited too");
    w.svc
        .change_case_status(
            &cw,
            mamoru_core::ids::CaseId(case.id),
            case.rev,
            &StatusChange::Close { reason: "x".into() },
        )
        .unwrap_err();

    let entries = w.svc.store().redo_after(summary.last_redo, usize::MAX).unwrap();
    assert!(entries.len() >= 5);
    let dir = tempfile::tempdir().unwrap();

    // Up to a time: only what was committed by then.
    let (partial, _) = Store::restore_snapshot(&dir.path().join("p"), &mut base.as_slice()).unwrap();
    let reached = partial.replay(&entries, Some(mid)).unwrap();
    assert!(reached.applied >= 1 && reached.last_at.unwrap() <= mid);
    let svc = Service::new(partial, Arc::new(FixedClock::new(t0())));
    assert_eq!(svc.search(&cw, "あと", 10).unwrap().len(), 1, "the second child was committed by then");
    assert!(svc.store().read().unwrap().count("case").unwrap() == 0, "the case came later");
    assert!(svc.check().unwrap().problems.is_empty());

    // A gap stops the replay and says where.
    let (gapped, _) = Store::restore_snapshot(&dir.path().join("g"), &mut base.as_slice()).unwrap();
    let mut holed = entries.clone();
    holed.remove(1);
    let err = gapped.replay(&holed, None).unwrap_err();
    assert!(err.to_string().contains("gap"), "{err}");

    // To the end: the same store as the original, byte for byte (once both logs are pruned).
    let (full, _) = Store::restore_snapshot(&dir.path().join("f"), &mut base.as_slice()).unwrap();
    let reached = full.replay(&entries, None).unwrap();
    assert_eq!(reached.last_seq, entries.last().unwrap().0);
    full.prune_redo(u64::MAX).unwrap();
    w.svc.store().prune_redo(u64::MAX).unwrap();
    let (mut original, mut replayed) = (Vec::new(), Vec::new());
    w.svc.store().write_snapshot(&mut original).unwrap();
    full.write_snapshot(&mut replayed).unwrap();
    assert!(original == replayed, "replayed store differs from the original");
    let svc = Service::new(full, Arc::new(FixedClock::new(t0())));
    assert!(matches!(svc.verify_audit().unwrap(), mamoru_core::audit::Verdict::Intact { .. }));
}

#[test]
fn a_point_in_time_restore_keeps_later_revocations() {
    let w = world();
    let cw = w.staff("leaver", Role::Caseworker, w.u1);
    w.staff("boss", Role::Supervisor, w.u1);
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake boss@laptop";
    w.svc.change_staff(&w.admin, "boss", &StaffChange::AddConsoleKey(key.to_owned())).unwrap();
    let mut base = Vec::new();
    let summary = w.svc.store().write_snapshot(&mut base).unwrap();
    w.clock.advance(60);
    w.child(&cw, "時点", "", "じてん", "", "2016-01-01");
    let cut = mamoru_core::time::Clock::now(&*w.clock);
    w.clock.advance(60);
    let (tablet, _) = w.svc.register_device(&w.admin, &DeviceName::parse("iPad 9").unwrap()).unwrap();
    let cut = mamoru_core::time::Clock::now(&*w.clock).max(cut);
    w.clock.advance(60);
    // The tablet was stolen: the account is disabled and the tablet revoked after the point we
    // will restore to.
    w.svc.change_staff(&w.admin, "leaver", &StaffChange::Disable).unwrap();
    w.svc.change_device(&w.admin, tablet, DeviceChange::Revoke).unwrap();
    // And the supervisor's password leaked with it: reset, and the laptop's key removed.
    let fresh = w.svc.reset_password(&w.admin, "boss").unwrap();
    w.svc.change_staff(&w.admin, "boss", &StaffChange::RemoveConsoleKey(key.to_owned())).unwrap();
    let entries = w.svc.store().redo_after(summary.last_redo, usize::MAX).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::restore_snapshot(&dir.path().join("r"), &mut base.as_slice()).unwrap();
    let reached = store.replay(&entries, Some(cut)).unwrap();
    let later: Vec<_> = entries.into_iter().filter(|(seq, _)| *seq > reached.last_seq).collect();
    assert!(!later.is_empty());
    let svc = Service::new(store, Arc::new(FixedClock::new(t0())));
    let staff = |svc: &Service| {
        svc.store()
            .read()
            .unwrap()
            .get::<mamoru_core::staff::Staff>(cw.staff())
            .unwrap()
            .unwrap()
            .body
            .disabled
    };
    assert!(!staff(&svc), "at the cut the account was still active");
    assert!(
        svc.sign_in("boss", &Password::attempt(PASSWORD), None, None).is_ok(),
        "at the cut, the old password"
    );
    assert_eq!(
        svc.reapply_revocations(&later).unwrap(),
        vec![
            "account leaver: disabled again".to_owned(),
            "account boss: console keys removed again".to_owned(),
            format!("device {tablet} (iPad 9): revoked again"),
            "account boss: password or second factor as reset later".to_owned(),
        ]
    );
    assert!(staff(&svc), "the restore does not bring the account back");
    assert!(
        svc.sign_in("boss", &Password::attempt(PASSWORD), None, None).is_err(),
        "nor the leaked password"
    );
    assert!(svc.sign_in("boss", &Password::attempt(&fresh), None, None).is_ok(), "the reset one works");
    assert!(!svc.console_key_listed("boss", key), "nor the removed key");
    assert!(svc.device_for_secret("anything").is_err());
    let device = svc.store().read().unwrap().get::<mamoru_core::device::Device>(tablet).unwrap().unwrap();
    assert!(!device.body.is_active(), "nor the stolen tablet");
    assert!(svc.reapply_revocations(&later).unwrap().is_empty(), "once is enough");
    assert!(svc.check().unwrap().problems.is_empty());
}

#[test]
fn a_restore_takes_archive_segments_in_order_stops_at_a_gap_and_checks_the_store() {
    use mamoru_core::restore::{Restore, Wanted};

    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    w.child(&cw, "前", "", "まえ", "", "2016-01-01");
    let mut base = Vec::new();
    let summary = w.svc.write_snapshot(&mut base).unwrap();
    w.clock.advance(60);
    w.child(&cw, "中", "", "なか", "", "2016-02-02");
    let mid = mamoru_core::time::Clock::now(&*w.clock);
    w.clock.advance(60);
    w.child(&cw, "後", "", "あと", "", "2017-02-02");
    // Two segments, as the archiver ships them.
    let one = w.svc.redo_batch(summary.last_redo, 2).unwrap().unwrap();
    let two = w.svc.redo_batch(one.last, usize::MAX).unwrap().unwrap();
    assert!(w.svc.redo_batch(two.last, usize::MAX).unwrap().is_none());
    let bytes = |b: &mamoru_core::restore::RedoBatch| {
        let mut v = Vec::new();
        b.write_to(&mut v).unwrap();
        v
    };
    let (seg1, seg2) = (bytes(&one), bytes(&two));
    let dir = tempfile::tempdir().unwrap();
    let clock = || Arc::new(FixedClock::new(t0()));

    // All of it: every change applied, the store checked, a new timeline begun.
    let mut r = Restore::from_snapshot(&dir.path().join("all"), &mut base.as_slice(), None).unwrap();
    assert_eq!((r.counts()["child"], r.covers_seq()), (1, summary.last_redo));
    assert_eq!(r.wants(1, summary.last_redo), Wanted::Skip, "already in the generation");
    assert_eq!(r.wants(one.first, one.last), Wanted::Apply);
    r.apply_segment(&mut seg1.as_slice()).unwrap();
    assert_eq!(r.wants(two.first, two.last), Wanted::Apply);
    r.apply_segment(&mut seg2.as_slice()).unwrap();
    let done = r.finish(clock(), true).unwrap();
    assert_eq!((done.archive.last_seq, done.archive.gap), (two.last, None));
    assert_eq!(done.archive.applied, two.last - summary.last_redo);
    assert_ne!(done.store_id, summary.store_id, "a restored store does not continue the old archive");
    let svc = Service::open(&dir.path().join("all"), clock()).unwrap();
    assert_eq!(svc.search(&cw, "あと", 10).unwrap().len(), 1);

    // A segment missing: the restore stops there and says so.
    let mut r = Restore::from_snapshot(&dir.path().join("gap"), &mut base.as_slice(), None).unwrap();
    assert_eq!(r.wants(two.first, two.last), Wanted::Gap);
    assert_eq!(r.wants(two.first + 1, two.last + 1), Wanted::Gap, "a gap stops it for good");
    let done = r.finish(clock(), true).unwrap();
    assert!(done.archive.gap.unwrap().contains("gap"));
    assert_eq!(done.archive.last_seq, summary.last_redo);

    // Up to a moment: what came later is only read.
    let mut r = Restore::from_snapshot(&dir.path().join("mid"), &mut base.as_slice(), Some(mid)).unwrap();
    for (b, seg) in [(&one, &seg1), (&two, &seg2)] {
        match r.wants(b.first, b.last) {
            Wanted::Apply => r.apply_segment(&mut seg.as_slice()).unwrap(),
            Wanted::Later => r.read_later_segment(&mut seg.as_slice()).unwrap(),
            other => panic!("{other:?}"),
        }
    }
    let done = r.finish(clock(), true).unwrap();
    assert!(done.archive.last_at.unwrap() <= mid && done.archive.last_seq < two.last);
    let svc = Service::open(&dir.path().join("mid"), clock()).unwrap();
    assert_eq!(svc.search(&cw, "なか", 10).unwrap().len(), 1);
    assert!(svc.search(&cw, "あと", 10).unwrap().is_empty(), "committed after the moment");

    // A segment cut short is an error, not a quiet stop.
    let mut r = Restore::from_snapshot(&dir.path().join("cut"), &mut base.as_slice(), None).unwrap();
    assert_eq!(r.wants(one.first, one.last), Wanted::Apply);
    assert!(r.apply_segment(&mut &seg1[..seg1.len() - 1]).is_err());
}

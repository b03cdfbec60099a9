//! Revisions, conflicts, append-only notes, the change log across restarts.

use std::sync::Arc;

use mamoru_core::case::{IntakeKind, NewNote};
use mamoru_core::code_table::Code;
use mamoru_core::ids::NoteId;
use mamoru_core::person::{Child, FaceSheetEdit};
use mamoru_core::staff::Role;
use mamoru_core::store::{Reader, Store};
use mamoru_core::time::FixedClock;
use mamoru_core::{Error, Service};

use crate::support::{t0, world};

#[test]
fn every_revision_stays_readable_and_a_stale_edit_is_refused() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let id = w.child(&cw, "山田", "花子", "やまだ", "はなこ", "2015-04-01");
    let v1 = w.svc.store().read().unwrap().require::<Child>(id).unwrap();
    assert_eq!(v1.rev, 1);

    // Two people open the same record at revision 1 and change the address differently.
    let mut mine = v1.body.clone();
    mine.address = "架空市さくら台2-3-4".into();
    let mut theirs = v1.body.clone();
    theirs.address = "架空市みどり町5-6".into();
    theirs.affiliation = "架空市立みどり小学校".into();

    w.clock.advance(60);
    let v2 = w.svc.edit_child(&cw, id, 1, &FaceSheetEdit::of(&mine)).unwrap().child;
    assert_eq!(v2.rev, 2);
    let err = w.svc.edit_child(&cw, id, 1, &FaceSheetEdit::of(&theirs)).unwrap_err();
    match err {
        Error::Conflict { expected, found, record } => {
            assert_eq!((expected, found), (1, 2));
            assert_eq!(record, format!("child {id}"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Nothing of the refused edit landed; both versions are readable, with who and when.
    let history = w.svc.child_history(&cw, id).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].rev, 1);
    assert_eq!(history[0].body.address, "架空市みどり町1-2-3");
    assert_eq!(history[1].body.address, "架空市さくら台2-3-4");
    assert_eq!(history[1].body.affiliation, "");
    assert_eq!(history[1].by, cw.staff().0);
    assert_eq!(history[1].at, t0().plus(60));

    // Had they changed only the school, the two edits would merge: both kept.
    theirs.address.clone_from(&v1.body.address);
    let edited = w.svc.edit_child(&cw, id, 1, &FaceSheetEdit::of(&theirs)).unwrap();
    assert!(edited.merged, "kept beside the edit saved meanwhile");
    let v3 = edited.child;
    assert_eq!(v3.rev, 3);
    // The same edit sent again (its answer lost): nothing written, and not called a merge.
    let again = w.svc.edit_child(&cw, id, 1, &FaceSheetEdit::of(&theirs)).unwrap();
    assert_eq!((again.child.rev, again.merged), (3, false));
    assert_eq!(
        (v3.body.address.as_str(), v3.body.affiliation.as_str()),
        ("架空市さくら台2-3-4", "架空市立みどり小学校")
    );
}

#[test]
fn notes_are_append_only_and_corrections_keep_the_original() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let other = w.staff("cw2", Role::Caseworker, w.u1);
    let child = w.child(&cw, "山田", "花子", "やまだ", "はなこ", "2015-04-01");
    let case = w.case(&cw, child, IntakeKind::Consultation, t0());
    let note = w
        .svc
        .add_note(
            &cw,
            mamoru_core::ids::CaseId(case.id),
            NewNote {
                at: t0(), kind: Code::new("1"), body: "家庭訪問。児は元気".into(), photos: vec![]
            },
        )
        .unwrap();
    assert_eq!(note.body.author, cw.staff());
    assert_eq!(note.body.child, child);
    let nid = NoteId(note.id);
    // No correction without a reason, none by another caseworker.
    assert!(matches!(w.svc.correct_note(&cw, nid, 1, "訂正", " "), Err(Error::Invalid { .. })));
    assert!(matches!(w.svc.correct_note(&other, nid, 1, "訂正", "誤記"), Err(Error::Forbidden { .. })));
    let fixed = w.svc.correct_note(&cw, nid, 1, "家庭訪問。児は元気。母も在宅", "追記").unwrap();
    assert_eq!(fixed.rev, 2);
    let history = w.svc.note_history(&cw, nid).unwrap();
    assert_eq!(
        history.iter().map(|n| n.body.body.as_str()).collect::<Vec<_>>(),
        ["家庭訪問。児は元気", "家庭訪問。児は元気。母も在宅"]
    );
    assert_eq!(history[1].body.correction.as_deref(), Some("追記"));
    // A stale correction is a conflict.
    assert!(matches!(w.svc.correct_note(&cw, nid, 1, "x", "y"), Err(Error::Conflict { .. })));
}

#[test]
fn the_change_log_keeps_commit_order_across_restarts() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let a = w.child(&cw, "一", "", "いち", "", "2015-01-01");
    let dir = w.dir;
    drop(w.svc);
    // Reopen, write more.
    let clock = Arc::new(FixedClock::new(t0().plus(3600)));
    let svc = Service::new(Store::open(dir.path()).unwrap(), clock);
    let b = svc.register_child(&cw, crate::support::bare_child(w.u1, "二", "", "に")).unwrap();
    drop(svc);
    let store = Store::open(dir.path()).unwrap();
    let r = store.read().unwrap();
    let changes = r.changes_after(0, 10_000).unwrap();
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=u64::try_from(changes.len()).unwrap()).collect::<Vec<_>>());
    let children: Vec<u64> = changes.iter().filter(|c| c.kind == "child").map(|c| c.id).collect();
    assert_eq!(children, [a.0, b.0]);
    assert!(changes.windows(2).all(|p| p[0].at <= p[1].at));
    // Secrets are marked so that nothing downstream shows them.
    assert!(changes.iter().filter(|c| c.kind == "credential").all(|c| c.sensitive));
    assert!(changes.iter().filter(|c| c.kind == "reporter").all(|c| c.sensitive));
}

#[test]
fn a_second_process_cannot_open_the_store() {
    let w = world();
    match Store::open(w.dir.path()) {
        Err(Error::AlreadyOpen { .. }) => {}
        other => panic!("expected AlreadyOpen, got {other:?}"),
    }
}

#[test]
fn opening_a_missing_or_damaged_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(Store::open(dir.path()), Err(Error::NotFound { .. })));
    std::fs::write(dir.path().join("mamoru.redb"), b"this is not a database").unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err:?}");
}

#[test]
fn an_import_that_fails_or_panics_writes_nothing_and_blocks_no_one() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let before = w.svc.store().read().unwrap().count("child").unwrap();
    // A refused write inside the import fails all of it.
    let r = w.svc.import(&w.admin, |svc| {
        let _ = svc.register_child(&cw, crate::support::bare_child(w.u1, "取込", "", "とりこみ"));
        // The administrator may not register children: refused, and the import with it.
        let _ = svc.register_child(&w.admin, crate::support::bare_child(w.u1, "不可", "", "ふか"));
        Ok(())
    });
    assert!(r.is_err());
    assert_eq!(w.svc.store().read().unwrap().count("child").unwrap(), before);
    // A panic inside an import aborts it; the next writer is not left waiting.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.svc.import(&w.admin, |_| -> mamoru_core::Result<()> { panic!("importer bug") })
    }));
    assert!(panicked.is_err());
    w.child(&cw, "次", "", "つぎ", "", "2016-01-01");
    assert_eq!(w.svc.store().read().unwrap().count("child").unwrap(), before + 1);
}

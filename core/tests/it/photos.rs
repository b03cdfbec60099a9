//! Photos taken through the app: only images, stamped by the server, named by the safety check
//! that carries them, readable by whoever may read the case (audited), checked by `mamoru check`
//! and carried by snapshots.

use mamoru_core::Error;
use mamoru_core::case::{IntakeKind, NewSafetyCheck, SafetyMethod};
use mamoru_core::staff::Role;
use mamoru_core::store::Store;

use crate::support::{t0, world};

/// A tiny JPEG as far as the magic number goes (the server does not decode images).
fn jpeg(seed: u8) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend(std::iter::repeat_n(seed, 64));
    b
}

fn check_with(shas: &[&str]) -> NewSafetyCheck {
    NewSafetyCheck {
        at: Some(t0()),
        method: Some(SafetyMethod::Sighted),
        seen_directly: true,
        place: "自宅".into(),
        child_state: "右腕にあざ".into(),
        photos: shas.iter().map(|s| (*s).to_owned()).collect(),
        ..NewSafetyCheck::default()
    }
}

#[test]
fn a_photo_is_an_image_stamped_by_the_server_and_carried_by_its_safety_check() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let other = w.staff("other", Role::Caseworker, w.u2);
    let child = w.child(&cw, "写真", "あおい", "しゃしん", "あおい", "2018-05-05");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0()).id;
    let case = mamoru_core::ids::CaseId(case);

    // Only images, judged by their first bytes.
    let gif = b"GIF89a....".to_vec();
    assert!(matches!(w.svc.add_photo(&cw, case, &gif), Err(Error::Invalid { .. })));
    let mut huge = jpeg(1);
    huge.resize(mamoru_core::case::PHOTO_MAX_BYTES + 1, 0);
    assert!(matches!(w.svc.add_photo(&cw, case, &huge), Err(Error::Invalid { .. })));
    assert!(matches!(w.svc.add_photo(&other, case, &jpeg(1)), Err(Error::Forbidden { .. })));

    w.clock.advance(60);
    let photo = w.svc.add_photo(&cw, case, &jpeg(1)).unwrap();
    assert_eq!((photo.body.mime.as_str(), photo.body.size), ("image/jpeg", 68));
    assert_eq!((photo.body.by, photo.body.child, photo.body.taken_at), (cw.staff(), child, t0().plus(60)));
    let again = w.svc.add_photo(&cw, case, &jpeg(1)).unwrap();
    assert_eq!(again.id, photo.id, "a retry gives back the same photo");

    // A check names photos sent for its case; what the client says of them is replaced.
    let other_child = w.child(&cw, "別件", "", "べっけん", "", "2017-01-01");
    let other_case = mamoru_core::ids::CaseId(w.case(&cw, other_child, IntakeKind::AbuseReport, t0()).id);
    let elsewhere = w.svc.add_photo(&cw, other_case, &jpeg(2)).unwrap();
    let r = w.svc.record_safety_check(&cw, case, check_with(&[&elsewhere.body.sha256]));
    assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    let sha = photo.body.sha256.as_str();
    let saved = w.svc.record_safety_check(&cw, case, check_with(&[sha, sha])).unwrap();
    assert_eq!(saved.body.attachments.len(), 1, "named twice, kept once");
    let a = &saved.body.attachments[0];
    assert_eq!(
        (a.mime.as_str(), a.size, a.taken_at, a.caption.as_str()),
        ("image/jpeg", 68, Some(t0().plus(60)), "")
    );

    // Reading it is a read of the case: allowed in scope, audited, refused outside it.
    let before = w.svc.audit_len().unwrap();
    let (got, bytes) = w.svc.photo(&cw, case, sha).unwrap();
    assert_eq!((got.id, bytes), (photo.id, jpeg(1)));
    assert_eq!(w.svc.audit_len().unwrap(), before + 1);
    assert!(matches!(w.svc.photo(&other, case, sha), Err(Error::Forbidden { .. })));
    assert!(matches!(w.svc.photo(&cw, other_case, sha), Err(Error::NotFound { .. })));

    // Integrity and backups: the file is checked and travels with a snapshot.
    assert!(w.svc.check().unwrap().problems.is_empty());
    let mut snap = Vec::new();
    w.svc.store().write_snapshot(&mut snap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (restored, _) = Store::restore_snapshot(&dir.path().join("r"), &mut snap.as_slice()).unwrap();
    let svc = mamoru_core::Service::new(restored, w.clock.clone());
    assert_eq!(svc.photo(&cw, case, sha).unwrap().1, jpeg(1));
}

#[test]
fn body_map_marks_must_lie_on_the_outline_with_a_plausible_size() {
    use mamoru_core::case::{BodySide, Injury};
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "図", "", "ず", "", "2018-05-05");
    let case = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let mark = |x: f32, size: Option<f32>| Injury {
        side: BodySide::Back,
        x,
        y: 0.5,
        size_cm: size,
        description: "あざ".into(),
        photo: None,
    };
    let with = |marks: Vec<Injury>| NewSafetyCheck { injuries: marks, ..check_with(&[]) };
    for bad in [mark(1.5, None), mark(f32::NAN, None), mark(0.5, Some(-1.0)), mark(0.5, Some(500.0))] {
        let r = w.svc.record_safety_check(&cw, case, with(vec![bad]));
        assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    }
    let saved =
        w.svc.record_safety_check(&cw, case, with(vec![mark(0.3, Some(2.5)), mark(0.7, None)])).unwrap();
    assert_eq!(saved.body.injuries.len(), 2);
}

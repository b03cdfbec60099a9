//! Live events (#3): what a subscriber is told of, and notes that a tablet may send twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mamoru_core::case::{IntakeKind, NewNote};
use mamoru_core::code_table::Code;
use mamoru_core::staff::Role;

use crate::support::{t0, world};

fn note(body: &str) -> NewNote {
    NewNote { at: t0(), kind: Code::new("3"), body: body.into(), photos: vec![] }
}

#[test]
fn events_carry_ids_only_and_only_what_the_subscriber_may_read() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let other = w.staff("other", Role::Caseworker, w.u2);
    let start = w.svc.last_change().unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let counter = woken.clone();
    w.svc.on_change(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });

    let child = w.child(&cw, "山田", "花子", "やまだ", "はなこ", "2018-04-01");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0());
    let n = w.svc.add_note(&cw, case.id.into(), note("家庭訪問")).unwrap();
    assert!(woken.load(Ordering::SeqCst) >= 3, "every committed write wakes the subscribers");

    let seen = w.svc.events_after(&sv, start, 1000).unwrap();
    let kinds: Vec<&str> = seen.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"child") && kinds.contains(&"case") && kinds.contains(&"note"), "{kinds:?}");
    assert!(!kinds.contains(&"reporter"), "the protected reporter never becomes an event");
    let ev = seen.events.iter().find(|e| e.kind == "note").unwrap();
    assert_eq!((ev.id, ev.case.map(|c| c.0), ev.child), (n.id, Some(case.id), Some(child)));
    let text = serde_json::to_string(&seen.events).unwrap();
    assert!(!text.contains("山田") && !text.contains("家庭訪問"), "no names or text: {text}");

    // Another unit's caseworker hears nothing of it, but the scan moves on all the same.
    let theirs = w.svc.events_after(&other, start, 1000).unwrap();
    assert!(theirs.events.is_empty(), "{:?}", theirs.events);
    assert_eq!(theirs.scanned_to, seen.scanned_to);
    // Resuming after the last id gives nothing twice.
    assert!(w.svc.events_after(&sv, seen.scanned_to, 1000).unwrap().events.is_empty());
    // An administrator does not read cases, so gets no events.
    assert!(w.svc.events_after(&w.admin, start, 10).is_err());
}

#[test]
fn a_note_sent_twice_with_one_key_is_stored_once() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let cw2 = w.staff("cw2", Role::Caseworker, w.u1);
    let child = w.child(&cw, "山田", "花子", "やまだ", "はなこ", "2018-04-01");
    let case = w.case(&cw, child, IntakeKind::Consultation, t0());
    let first = w.svc.add_note_once(&cw, case.id.into(), note("一度だけ"), Some("draft-1")).unwrap();
    let again = w.svc.add_note_once(&cw, case.id.into(), note("一度だけ"), Some("draft-1")).unwrap();
    assert_eq!(first.id, again.id, "the retry returns the stored note");
    // The same key from another person is another draft.
    let theirs = w.svc.add_note_once(&cw2, case.id.into(), note("一度だけ"), Some("draft-1")).unwrap();
    assert_ne!(theirs.id, first.id);
    let view = w.svc.case(&cw, case.id.into()).unwrap();
    assert_eq!(view.notes.iter().filter(|n| n.body.body == "一度だけ").count(), 2);
    // A refused note claims nothing: fixed and resent with the same key, it is stored.
    assert!(w.svc.add_note_once(&cw, case.id.into(), note("  "), Some("draft-2")).is_err());
    let fixed = w.svc.add_note_once(&cw, case.id.into(), note("直した"), Some("draft-2")).unwrap();
    assert_eq!(fixed.body.body, "直した");
    assert!(w.svc.add_note_once(&cw, case.id.into(), note("x"), Some("bad key!")).is_err());
    // A used key with other content is refused, not answered with the earlier note.
    assert!(w.svc.add_note_once(&cw, case.id.into(), note("別の内容"), Some("draft-1")).is_err());
}

#[test]
fn a_case_message_is_kept_once_shown_on_the_case_and_announced_to_its_readers_only() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let other = w.staff("other", Role::Caseworker, w.u2);
    let child = w.child(&cw, "山田", "花子", "やまだ", "はなこ", "2018-04-01");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0());
    let start = w.svc.last_change().unwrap();

    let m =
        w.svc.post_message_once(&cw, case.id.into(), " 自宅前に着きました。応答なし。 ", Some("m1")).unwrap();
    assert_eq!(m.body.body, "自宅前に着きました。応答なし。");
    // Sent again from a tablet that lost the answer: the same message.
    let again =
        w.svc.post_message_once(&cw, case.id.into(), "自宅前に着きました。応答なし。", Some("m1")).unwrap();
    assert_eq!(again.id, m.id);
    w.svc.post_message_once(&sv, case.id.into(), "了解。学校にも確認します。", None).unwrap();
    let view = w.svc.case(&sv, case.id.into()).unwrap();
    let bodies: Vec<&str> = view.messages.iter().map(|m| m.body.body.as_str()).collect();
    assert_eq!(bodies, ["了解。学校にも確認します。", "自宅前に着きました。応答なし。"], "newest first");

    let seen = w.svc.events_after(&sv, start, 100).unwrap();
    assert_eq!(seen.events.iter().filter(|e| e.kind == "message").count(), 2);
    assert!(w.svc.events_after(&other, start, 100).unwrap().events.is_empty());
    // Another unit may not post to it; an empty message is refused.
    assert_eq!(w.svc.post_message_once(&other, case.id.into(), "x", None).unwrap_err().code(), "forbidden");
    assert_eq!(w.svc.post_message_once(&cw, case.id.into(), "  ", None).unwrap_err().code(), "invalid");
}

//! Dates and times are typed in 和暦, like a birth date: every date and date-time input is text,
//! offered with today's 和暦, read by core; one it cannot read is named and marked, and nothing
//! is saved.

use super::*;

#[tokio::test]
async fn a_note_and_a_check_are_timed_in_wareki_and_a_time_that_cannot_be_read_is_named() {
    let (_dir, svc, case) = world();
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let (cookie, key) = sign_in(&svc).await;
    let page = warp::test::request()
        .path(&format!("/cases/{case}"))
        .header("cookie", &cookie)
        .reply(&api(&svc))
        .await;
    let page = body(&page);
    assert!(!page.contains("type=\"datetime-local\"") && !page.contains("type=\"date\""), "{page}");
    assert!(page.contains("name=\"at\" value=\"令和8年11月24日 10:00\""), "now, in 和暦: {page}");

    let path = format!("/cases/{case}/notes");
    let note = |idem: &str, at: &str| {
        format!("form_key={key}&idempotency_key={idem}&at={}&kind=3&body=%E8%A8%AA%E5%95%8F", enc(at))
    };
    // A date without its time: refused, the field named and marked, what was typed kept.
    let r = post(&svc, &cookie, &path, note("n1", "R8.11.24"), None).await;
    assert_eq!(r.status(), 422);
    let page = body(&r);
    assert!(
        page.contains("「日時」を確認してください（令和8年4月1日 10:30、R8.4.1 10:30 のように"),
        "{page}"
    );
    assert!(page.contains("data-invalid=\"at\"") && page.contains("value=\"R8.11.24\""), "{page}");
    assert_eq!(notes(&svc, case), 0, "nothing was saved");

    let r = post(&svc, &cookie, &path, note("n2", "令和8年11月24日 9:30"), None).await;
    assert_eq!(r.status(), 303, "{}", body(&r));
    let check = format!(
        "form_key={key}&idempotency_key=c1&at={}&method=sighted&seen_directly=1&place=%E8%87%AA%E5%AE%85&child_state=%E5%85%83%E6%B0%97",
        enc("R8.11.24 9時45分")
    );
    let r = post(&svc, &cookie, &format!("/cases/{case}/safety-checks"), check, None).await;
    assert_eq!(r.status(), 303, "{}", body(&r));

    let view = svc.case(&cw.actor, CaseId(case)).unwrap();
    let at = |iso: &str| Timestamp::parse(iso).unwrap();
    assert_eq!(view.notes[0].body.at, at("2026-11-24T09:30+09:00"));
    assert_eq!(view.safety_checks[0].body.at, at("2026-11-24T09:45+09:00"));
}

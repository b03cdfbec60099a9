//! The family form driven through the pages: a change made from a stale page is not saved over
//! another person's, and the form then shows what is stored with what was typed beside it.

use super::*;

fn family_form(key: &str, rev: &str, person_rev: &str, phone: &str) -> String {
    format!(
        "form_key={key}&idempotency_key=&household_rev={rev}&rev={person_rev}&relation=02&guardian=1&cohabiting=1\
         &family=%E6%9E%B6%E7%A9%BA&given=%E7%BE%8E%E5%92%B2&family_kana=%E3%81%8B%E3%81%8F%E3%81%86\
         &given_kana=%E3%81%BF%E3%81%95%E3%81%8D&sex=female&phones={phone}"
    )
}

#[tokio::test]
async fn a_family_change_from_a_stale_page_saves_nothing_over_another_and_shows_both() {
    let (_dir, svc, case) = world();
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let child = svc.case(&cw.actor, CaseId(case)).unwrap().case.body.child;
    let (cookie, key) = sign_in(&svc).await;
    let add = post(
        &svc,
        &cookie,
        &format!("/children/{}/family", child.0),
        family_form(&key, "0", "0", "090-1"),
        None,
    )
    .await;
    assert_eq!(add.status(), 303, "{}", body(&add));
    let household = svc.child(&cw.actor, child).unwrap().household.unwrap();
    let who = household.body.members.iter().find(|m| m.who != MemberRef::Child(child)).unwrap().who;
    let member = svc.family_member(&cw.actor, child, who).unwrap();
    let (rev, person_rev) = (member.household_rev.to_string(), member.person.unwrap().rev.to_string());
    let path = format!("/children/{}/family/{}", child.0, mamoru_core::service::member_key(who));

    // Two pages drawn at one revision: the first change is saved, the second clashes with it.
    let first = post(&svc, &cookie, &path, family_form(&key, &rev, &person_rev, "090-2"), None).await;
    assert_eq!(first.status(), 303, "{}", body(&first));
    let second = post(&svc, &cookie, &path, family_form(&key, &rev, &person_rev, "090-3"), None).await;
    assert_eq!(second.status(), 409);
    let page = body(&second);
    assert!(page.contains("先に変更しました"), "{page}");
    let stored = page.split("<textarea name=\"phones\"").nth(1).unwrap().split("</textarea>").next().unwrap();
    assert!(stored.ends_with("090-2"), "the form holds what is stored: {stored}");
    let unsaved = page.split("class=\"card unsaved\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(unsaved.contains("090-3"), "what was typed is beside it: {unsaved}");
    let now = svc.family_member(&cw.actor, child, who).unwrap().person.unwrap().body.phones;
    assert_eq!(now, ["090-2"]);
}

#[tokio::test]
async fn an_intake_names_the_guardian_with_a_new_child_and_a_wrong_one_is_named_as_the_guardians() {
    let (_dir, svc, _) = world();
    let (cookie, key) = sign_in(&svc).await;
    let unit = svc.units().unwrap()[0].id;
    let form = |guardian_kana: &str| {
        format!(
            "form_key={key}&family=%E6%9E%B6%E7%A9%BA&given=%E8%8A%B1&family_kana=%E3%81%8B%E3%81%8F%E3%81%86\
             &given_kana=%E3%81%AF%E3%81%AA&kind=abuse_report&received_at=2026-11-24T09%3A30&route=14\
             &consultation_type=11&content=x&unit={unit}&confirm_new=1&guardian_relation=02\
             &guardian_family=%E6%9E%B6%E7%A9%BA&guardian_given=%E6%9C%88&guardian_family_kana={guardian_kana}\
             &guardian_phone=090-5555-0000"
        )
    };
    let refused = post(&svc, &cookie, "/intake", form("kakuu"), None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body(&refused);
    assert!(page.contains("保護者のふりがな（氏）"), "the guardian's field, not the child's: {page}");
    assert!(page.contains("name=\"guardian_phone\" value=\"090-5555-0000\""), "kept: {page}");
    let saved = post(&svc, &cookie, "/intake", form("%E3%81%8B%E3%81%8F%E3%81%86"), None).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", body(&saved));
    let (_, cw) = svc.sign_in("cw", &Password::attempt(PW), None, None).unwrap();
    let found = svc.search(&cw.actor, "09055550000", 10).unwrap();
    assert_eq!(found.len(), 1, "the guardian's phone finds the child");
    let view = svc.child(&cw.actor, found[0].id).unwrap();
    let mother = view.members.iter().find(|m| m.relation_label == "実母").expect("the mother recorded");
    assert!(mother.guardian && mother.cohabiting && mother.sex == Sex::Female, "{mother:?}");

    // A second report about the child on file (chosen at the duplicate check) naming the same
    // mother and the father: the father joins, the mother is not added twice.
    let child = found[0].id;
    let again = form("%E3%81%8B%E3%81%8F%E3%81%86").replace("&confirm_new=1", &format!("&child={}", child.0));
    let r = post(&svc, &cookie, "/intake", again.clone(), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let father = again
        .replace("guardian_relation=02", "guardian_relation=01")
        .replace("guardian_given=%E6%9C%88", "guardian_given=%E5%A4%AA")
        .replace("content=x", "content=y");
    let r = post(&svc, &cookie, "/intake", father, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", body(&r));
    let view = svc.child(&cw.actor, child).unwrap();
    let labels: Vec<&str> = view.members.iter().map(|m| m.relation_label.as_str()).collect();
    assert_eq!(labels, ["本人", "実母", "実父"], "{labels:?}");
}

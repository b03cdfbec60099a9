//! Japanese search through the service: 異体字, kana, width, spaces, partial furigana, birth date
//! in either calendar, phone digits; and the duplicate check before registering a child.

use mamoru_core::person::Child;
use mamoru_core::staff::Role;
use mamoru_core::store::Reader;
use mamoru_core::time::Date;

use crate::support::world;

#[test]
fn finds_children_however_their_names_are_typed() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let a = w.child(&cw, "髙﨑", "陽葵", "タカサキ", "ヒマリ", "2016-04-01");
    let b = w.child(&cw, "渡邊", "蒼", "わたなべ", "あおい", "2019-05-01");
    let c = w.child(&cw, "齋藤", "ｻｸﾗ", "さいとう", "さくら", "2019-04-30");
    let ids = |q: &str| w.svc.search(&cw, q, 50).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();
    let cases = [
        ("高崎", vec![a]),
        ("髙﨑", vec![a]),
        ("たかさき", vec![a]),
        ("ﾀｶｻｷ", vec![a]),
        ("たかさき ひまり", vec![a]),
        ("ひまり", vec![a]),
        ("さき", vec![a]),
        ("渡辺", vec![b]),
        ("渡邉", vec![b]),
        ("ワタナベ　アオイ", vec![b]),
        ("斎藤", vec![c]),
        ("齋藤さくら", vec![c]),
        // 斉 and 斎 are two characters to the registries: only the furigana finds both.
        ("斉藤", vec![]),
        ("サクラ", vec![c]),
        ("H31.4.30", vec![c]),
        ("平成31年4月30日", vec![c]),
        ("2019-04-30", vec![c]),
        ("R1.5.1", vec![b]),
        ("000-1234-5678", vec![a, b, c]),
        ("０００１２３４", vec![a, b, c]),
        ("やまだ", vec![]),
    ];
    for (q, want) in cases {
        assert_eq!(ids(q), want, "query {q:?}");
    }
    assert!(w.svc.search(&cw, "  ", 50).is_err());
}

#[test]
fn search_follows_edits_of_the_name() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let id = w.child(&cw, "島田", "律", "しまだ", "りつ", "2016-04-01");
    let v = w.svc.store().read().unwrap().require::<Child>(id).unwrap();
    let mut body = v.body.clone();
    body.name = mamoru_core::person::PersonName::new("嶋田", "律", "しまだ", "りつ").unwrap();
    body.birth_date = Some(Date::parse_iso("2016-04-02").unwrap());
    w.svc.edit_child(&cw, id, v.rev, &mamoru_core::person::FaceSheetEdit::of(&body)).unwrap();
    assert_eq!(w.svc.search(&cw, "島田", 10).unwrap().len(), 1);
    assert!(w.svc.search(&cw, "2016-04-01", 10).unwrap().is_empty());
    assert_eq!(w.svc.search(&cw, "R.28.4.2".replace("R.", "H").as_str(), 10).unwrap().len(), 1);
}

#[test]
fn a_child_grown_past_25_keeps_an_editable_face_sheet_but_a_new_birth_date_is_checked() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let id = w.child(&cw, "島田", "律", "しまだ", "りつ", "2001-04-01");
    // Three years on, the child is 27: moving house is still recorded.
    w.clock.set(w.svc.now().plus(3 * 365 * 86_400));
    let v = w.svc.store().read().unwrap().require::<Child>(id).unwrap();
    let mut body = v.body.clone();
    body.address = "架空市あおば町2-3-4".into();
    let v = w.svc.edit_child(&cw, id, v.rev, &mamoru_core::person::FaceSheetEdit::of(&body)).unwrap().child;
    assert_eq!(v.body.address, "架空市あおば町2-3-4");
    let mut body = v.body.clone();
    body.birth_date = Some(Date::parse_iso("2000-04-01").unwrap());
    let err = w.svc.edit_child(&cw, id, v.rev, &mamoru_core::person::FaceSheetEdit::of(&body)).unwrap_err();
    assert!(err.to_string().contains("birth_date"), "{err}");
}

#[test]
fn registering_warns_of_likely_duplicates() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let id = w.child(&cw, "山崎", "結菜", "やまざき", "ゆいな", "2018-08-08");
    let birth = Date::parse_iso("2018-08-08").unwrap();
    let hits = w.svc.duplicate_candidates(&cw, birth, "ヤマサキ ユイナ").unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [id], "one kana off is a candidate");
    assert!(w.svc.duplicate_candidates(&cw, birth, "たなか はると").unwrap().is_empty());
    let other_day = Date::parse_iso("2015-02-14").unwrap();
    assert!(w.svc.duplicate_candidates(&cw, other_day, "やまざき ゆいな").unwrap().is_empty());
    // A birth date typed with a digit wrong, two digits swapped, or month and day swapped.
    let late = w.child(&cw, "伊藤", "律", "いとう", "りつ", "2017-07-12");
    for typed in ["2018-08-09", "2018-03-08"] {
        let hits =
            w.svc.duplicate_candidates(&cw, Date::parse_iso(typed).unwrap(), "やまざき ゆいな").unwrap();
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [id], "{typed}");
    }
    for typed in ["2017-07-21", "2017-12-07", "2017-01-12"] {
        let hits = w.svc.duplicate_candidates(&cw, Date::parse_iso(typed).unwrap(), "いとう りく").unwrap();
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [late], "{typed}, one kana apart");
    }
    // On a mistyped day only one kana may differ (two on the day typed); those born on the day
    // typed come first.
    let typed = Date::parse_iso("2017-07-21").unwrap();
    assert!(w.svc.duplicate_candidates(&cw, typed, "いとう りくと").unwrap().is_empty());
    let twin = w.child(&cw, "伊藤", "陸", "いとう", "りく", "2017-07-21");
    let hits = w.svc.duplicate_candidates(&cw, typed, "いとう りく").unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [twin, late]);
}

/// As a store indexed by an older program under another 異体字 table: the child's search keys
/// and grams gone, the version another. Opening it writes nothing; `reindex_search` (which
/// `mamoru serve` runs first) re-makes what differs, once.
#[test]
fn a_store_indexed_under_another_table_is_reindexed_once_before_serving() {
    use redb::{ReadableTable, TableDefinition};
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let a = w.child(&cw, "髙﨑", "陽葵", "たかさき", "ひまり", "2016-04-01");
    let dir = w.dir;
    drop(w.svc);
    {
        let db = redb::Database::open(dir.path().join(mamoru_core::store::FILE_NAME)).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut grams = tx.open_table(TableDefinition::<(&str, u64), ()>::new("search_grams")).unwrap();
            let mut counts = tx.open_table(TableDefinition::<&str, u64>::new("search_gram_counts")).unwrap();
            let mine: Vec<String> = grams
                .iter()
                .unwrap()
                .filter_map(|e| {
                    let (key, ()) = e.map(|(k, _)| (k, ())).unwrap();
                    let (g, child) = key.value();
                    (child == a.0).then(|| g.to_owned())
                })
                .collect();
            for g in &mine {
                grams.remove((g.as_str(), a.0)).unwrap();
                let n = counts.get(g.as_str()).unwrap().unwrap().value();
                if n <= 1 {
                    counts.remove(g.as_str()).unwrap();
                } else {
                    counts.insert(g.as_str(), n - 1).unwrap();
                }
            }
            tx.open_table(TableDefinition::<u64, &str>::new("search_keys")).unwrap().remove(a.0).unwrap();
            let mut meta = tx.open_table(TableDefinition::<&str, &[u8]>::new("meta")).unwrap();
            meta.insert("search_keys_version", b"1:an older table".as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let clock = std::sync::Arc::new(mamoru_core::time::FixedClock::new(crate::support::t0()));
    let svc = mamoru_core::Service::open(dir.path(), clock).unwrap();
    assert!(svc.search(&cw, "高崎", 10).unwrap().is_empty(), "opening writes nothing");
    let done = svc.reindex_search().unwrap();
    assert_eq!((done.changed, done.failed.len()), (1, 0), "only the child whose keys differ is written");
    let found: Vec<_> = svc.search(&cw, "高崎", 10).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(found, [a]);
    assert_eq!(svc.search(&cw, "ひまり", 10).unwrap().len(), 1);
    // Once: the version is marked, and the next start writes nothing.
    let r = svc.store().read().unwrap();
    assert_eq!(
        r.meta("search_keys_version").unwrap().unwrap(),
        mamoru_core::search::keys_version().as_bytes()
    );
    let redo = r.meta("tx_seq").unwrap();
    drop(r);
    assert_eq!(svc.reindex_search().unwrap(), mamoru_core::service::Reindexed::default());
    assert_eq!(svc.store().read().unwrap().meta("tx_seq").unwrap(), redo, "no transaction");
}

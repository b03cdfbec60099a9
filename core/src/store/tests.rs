//! The store's own tests: record schema upgrades and the table layout.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ThingId(u64);
impl RecordId for ThingId {
    const KIND: &'static str = "thing";
}
impl From<ThingId> for u64 {
    fn from(id: ThingId) -> u64 {
        id.0
    }
}
impl From<u64> for ThingId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

/// The shape a record had at schema 1.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ThingV1 {
    name: String,
}
impl Record for ThingV1 {
    type Id = ThingId;
    const SCHEMA: u16 = 1;
}

/// Schema 2 split the name in two and must read schema-1 records.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct ThingV2 {
    family: String,
    given: String,
}
impl Record for ThingV2 {
    type Id = ThingId;
    const SCHEMA: u16 = 2;
    fn upgrade(schema: u16, mut body: serde_json::Value) -> Result<serde_json::Value, String> {
        if schema == 1 {
            let name = body["name"].as_str().ok_or("schema 1 thing without a name")?.to_owned();
            let (family, given) = name.split_once(' ').unwrap_or((&name, ""));
            body = serde_json::json!({ "family": family, "given": given });
        }
        Ok(body)
    }
}

/// A part of `ThingV2`.
#[derive(Deserialize)]
struct Given {
    given: String,
}

#[test]
fn old_records_are_upgraded_on_read_and_newer_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path(), Timestamp(0)).unwrap();
    let mut tx = store.begin_write(Timestamp(0), 0, None).unwrap();
    let v1 = tx.insert(ThingV1 { name: "山田 花子".into() }).unwrap();
    tx.commit().unwrap();

    let r = store.read().unwrap();
    let read = r.require::<ThingV2>(ThingId(v1.id)).unwrap();
    assert_eq!(read.body, ThingV2 { family: "山田".into(), given: "花子".into() });
    assert_eq!(read.rev, 1);
    // A part of it is read through the upgrade too; of a current record, without the rest.
    let part = r.get_part::<ThingV2, Given>(ThingId(v1.id)).unwrap().unwrap();
    assert_eq!(part.given, "花子");
    drop(r);

    // An update writes the new schema; an older program then refuses to guess.
    let mut tx = store.begin_write(Timestamp(1), 0, None).unwrap();
    tx.update(ThingId(v1.id), 1, read.body).unwrap();
    tx.commit().unwrap();
    let r = store.read().unwrap();
    let err = r.require::<ThingV1>(ThingId(v1.id)).unwrap_err();
    assert!(err.to_string().contains("newer than this program"), "{err}");
    assert_eq!(r.get_part::<ThingV2, Given>(ThingId(v1.id)).unwrap().unwrap().given, "花子");
    assert!(r.get_part::<ThingV2, Given>(ThingId(v1.id + 1)).unwrap().is_none());
    // History keeps the schema-1 bytes, still readable as schema 2.
    assert_eq!(r.history::<ThingV2>(ThingId(v1.id)).unwrap().len(), 2);
}

mod search {
    use super::*;
    use proptest::prelude::*;

    /// Keys over a small alphabet, so that the grams are shared and most candidates fail.
    fn key() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(vec!['さ', 'と', 'う', 'a', 'b']), 1..7)
            .prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// The index finds exactly the children one of whose keys holds the query, in id
        /// order: the grams' children intersected, then the keys checked.
        #[test]
        fn the_index_finds_exactly_the_children_whose_keys_hold_the_query(
            children in proptest::collection::vec(proptest::collection::vec(key(), 1..4), 1..40),
            queries in proptest::collection::vec(key(), 1..8),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::create(dir.path(), Timestamp(0)).unwrap();
            let mut tx = store.begin_write(Timestamp(0), 0, None).unwrap();
            for (id, keys) in (1u64..).zip(&children) {
                tx.index_child(id, keys, None, None).unwrap();
            }
            tx.commit().unwrap();
            let r = store.read().unwrap();
            for q in &queries {
                let expected: Vec<u64> = (1u64..)
                    .zip(&children)
                    .filter(|(_, keys)| keys.iter().any(|k| k.contains(q.as_str())))
                    .map(|(id, _)| id)
                    .collect();
                prop_assert_eq!(r.search_children(q, usize::MAX).unwrap(), expected, "{}", q);
            }
        }
    }
}

//! The one pass that makes the written document as strict as the handlers: what every
//! operation shares, said once.

use serde_json::{Value, json};

/// What every handler shares, said once here rather than at each operation, so the document
/// cannot promise more than the server takes:
/// - every integer the API reads or writes is unsigned 64-bit: bounded to `0..=u64::MAX` (in a
///   body or a query, a negative or larger number is refused with 400; as a path id, with 404);
/// - any operation answers 400 to a request it cannot parse (a body, a query, a malformed
///   header such as `Authorization`);
/// - an operation that needs a session answers 401 without one, and 403 to a role it is not for
///   or to a session that must first enrol its second factor (`second_factor_required`).
pub(super) fn strict(doc: &mut Value) {
    bound_integers(doc);
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let open = op["security"].as_array().is_some_and(Vec::is_empty);
            let Some(responses) = op["responses"].as_object_mut() else { continue };
            responses.entry("400").or_insert_with(super::error_ref);
            if !open {
                responses.entry("401").or_insert_with(super::error_ref);
                responses.entry("403").or_insert_with(super::error_ref);
            }
        }
    }
}

fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("type").and_then(Value::as_str) == Some("integer") {
                m.entry("minimum").or_insert(json!(0));
                m.entry("maximum").or_insert(json!(u64::MAX));
            }
            m.values_mut().for_each(bound_integers);
        }
        Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

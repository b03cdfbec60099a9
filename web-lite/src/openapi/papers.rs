//! The paper side of the API, in the document: the forms (帳票) of a case, the petitions to the
//! family court, and the statistics. Each a literal of its own (one literal that size exceeds
//! json!'s recursion limit).

use serde_json::{Value, json};

use super::error_ref;

/// 帳票: the forms a case has, and each as PDF.
pub(super) fn form_paths() -> Value {
    json!({
            "/api/v1/cases/{id}/forms": {
                "get": { "summary": "The forms (帳票) the case has now: {forms: [{form, title, version, family_facing, url}]} (a read of the case, audited)",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "responses": { "200": { "description": "forms",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["forms"],
                            "properties": { "forms": { "type": "array", "items": { "type": "object" } } } } } } },
                        "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/cases/{id}/forms/{form}": {
                "get": { "summary": "A form as PDF/A (intake-sheet, protection-start-notice, protection-end-notice, notes, meeting-minutes: `meeting`, support-notice (措置決定通知書): `support`; else the latest; warrant-request (一時保護状請求書 with its 疎明資料, for a protection without the guardian's consent), child-record (児童記録票 with the household), safety-check (安全確認記録 of the check `check`, else the newest, with the body map and its photos), assessment (the assessment `assessment`, else the newest, stamped once approved), extension-petition and placement-petition (家庭裁判所への申立書, 33条5項 and 28条1項, each attached document marked 非開示希望 or not): `petition`, else the newest of its kind), filled from the case; audited as print_form with its template version and SHA-256. `version` prints an older template version; `from`/`to` limit the notes (西暦 or 和暦)",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                        { "name": "form", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "version", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "meeting", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "support", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "petition", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "check", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "assessment", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
                        { "name": "from", "in": "query", "required": false, "schema": { "type": "string" } },
                        { "name": "to", "in": "query", "required": false, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "the PDF", "content": { "application/pdf": {} } },
                        "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
            }
    })
}

/// The forms' templates, for administrators: every version, and the next version of a form.
pub(super) fn template_paths() -> Value {
    let forms: Vec<&str> = mamoru_core::forms::FormKind::ALL.iter().map(|f| f.slug()).collect();
    let fields: Vec<&str> = mamoru_core::forms::Field::ALL.iter().map(|f| f.as_str()).collect();
    let draft = json!({ "type": "object", "additionalProperties": false,
        "required": ["form", "valid_from", "reason", "title", "rows"],
        "properties": {
            "form": { "type": "string", "enum": forms },
            "valid_from": { "type": "string", "format": "date", "description": "the first day of what it records that the version is used for: today or later" },
            "reason": { "type": "string", "description": "the law, notice or decision it follows (1-400 characters)" },
            "title": { "type": "string" },
            "lead": { "type": "string" },
            "rows": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["label", "field"],
                "properties": { "label": { "type": "string" }, "field": { "type": "string", "enum": fields } } } },
            "appeal": { "type": "string", "nullable": true, "description": "教示: kept on a notice that has one" },
            "approvals": { "type": "array", "items": { "type": "string" } },
            "landscape": { "type": "boolean" } } });
    json!({
        "/api/v1/forms/templates": {
            "get": { "summary": "Every version of every form (administrators): {templates: [{template: {form, version, valid_from, title, family_facing, addressee, landscape, approvals, lead, rows: [{label, field}], appeal}, added: null (shipped) | {by, at, reason}, in_use_today}]}",
                "responses": { "200": { "description": "the templates", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["templates"], "properties": { "templates": { "type": "array", "items": { "type": "object" } } } } } } } } },
            "post": { "summary": "The next version of a form (administrators), as `mamoru form show` writes it: used for what is recorded from `valid_from` (today or later); rows each a field the form is filled with; never the reporter on a paper that leaves the centre; the 教示 kept on a notice; every character printable (the engine fills it once). Who reads the paper (the family, a court) stays as the form's first version. Refused with 422 naming the field; the same draft again answers with the version it added. Audited",
                "requestBody": { "required": true, "content": { "application/json": { "schema": draft } } },
                "responses": { "201": { "description": "the version added: {form, version, valid_from, …}" },
                    "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        }
    })
}

/// 統計: the national report's tables, the cases behind a number, the XLSX.
pub(super) fn statistics_paths() -> Value {
    let period = json!([
        { "name": "unit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
        { "name": "from", "in": "query", "required": false, "schema": { "type": "string" } },
        { "name": "to", "in": "query", "required": false, "schema": { "type": "string" } }
    ]);
    let mut cell = period.clone();
    if let Value::Array(p) = &mut cell {
        for name in ["table", "row", "col"] {
            p.push(json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } }));
        }
    }
    json!({
        "/api/v1/statistics": {
            "get": { "summary": "統計 (supervisors, the head, clerks, administrators): the 児童相談所 tables of the national report for `unit` (the reader's; default their first 児童相談所) and the period `from`..`to` (both days included, 西暦 or 和暦; neither: the last whole fiscal year). {unit, unit_name, from, to, tables: [{key, title, rule, rows: [{key, label, depth}], columns, values: [[n]]}], warnings: [{kind, label, cases, detail}]}; no case is named. Audited as read_statistics",
                "parameters": period,
                "responses": { "200": { "description": "the tables", "content": { "application/json": { "schema": { "type": "object", "required": ["tables", "warnings"] } } } },
                    "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/statistics/cell": {
            "get": { "summary": "The cases behind one number: `table`, then the row's and the column's `key`; the cases the reader may read by case number and child's name (the first 500; `more` counts the rest), the others counted as `hidden`. Audited, naming the children shown",
                "parameters": cell,
                "responses": { "200": { "description": "{table, row, column, rule, rule_text, value, cases: [{case, case_no, child_name, received_on}], hidden, more}" },
                    "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/statistics/xlsx": {
            "get": { "summary": "The tables as XLSX to file: a tab a table, the counting rules, the warnings with case numbers. Audited with the file's SHA-256",
                "parameters": period,
                "responses": { "200": { "description": "the workbook", "content": { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {} } },
                    "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        }
    })
}

/// 家庭裁判所への申立て: a case's petitions, a new one, a revision until filed.
pub(super) fn petition_paths() -> Value {
    let case_id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } });
    let petition = json!({ "type": "object", "required": ["kind", "grounds"],
        "properties": { "kind": { "type": "string", "enum": ["protection_extension", "placement"] },
            "placement": { "type": "string", "description": "code table support_kind: 31-35, 41, 42 (a 28条 petition only)" },
            "grounds": { "type": "string" },
            "withhold": { "type": "array", "items": { "type": "string" }, "description": "keys of the documents marked 非開示希望 (as GET lists them)" },
            "filed_on": { "type": "string", "format": "date" },
            "idempotency_key": { "type": "string" } } });
    json!({
        "/api/v1/cases/{id}/petitions": {
            "get": { "summary": "The case's petitions to the family court (oldest first: {id, rev, body: {kind, protection, placement, grounds, documents: [{key, title, made_on, withhold}], prepared_by, prepared_at, filed_on}}) and `documents`, what a new one would attach now (a read of the case, audited)",
                "parameters": [case_id],
                "responses": { "200": { "description": "{petitions, documents}", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["petitions", "documents"] } } } },
                    "401": error_ref(), "403": error_ref(), "404": error_ref() } },
            "post": { "summary": "A petition prepared on an open case: protection_extension (児童福祉法33条5項: a protection without the guardian's consent in force; by those who record protections) or placement (28条1項, `placement` required; by those who record 措置). Its documents are the case's now, each marked 非開示希望 when its key is in `withhold`. A missing kind or grounds is refused with 422 naming them. The same idempotency_key again answers with the same petition",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": petition } } },
                "responses": { "201": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/petitions/{petition}": {
            "put": { "summary": "A petition's next revision, `body` as POST takes it (its kind unchanged): grounds, marks, the day filed; its documents the case's now. A petition filed is not changed (422)",
                "parameters": [case_id, { "name": "petition", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Revised" } } } },
                "responses": { "200": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        }
    })
}

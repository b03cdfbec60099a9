//! The `OpenAPI` document served at `/api/v1/openapi.json`. Kept beside the routes; a test checks
//! that every route the server answers is in it.

use std::sync::OnceLock;

use serde_json::{Value, json};

mod operations;
mod papers;
mod strict;
use operations::maintenance_paths;
use papers::{form_paths, petition_paths, statistics_paths, template_paths};
use strict::strict;

fn error_ref() -> Value {
    json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document as served: as written below, then made as strict as the handlers (`strict`).
#[must_use]
pub fn document() -> Value {
    let mut doc = written();
    strict(&mut doc);
    doc
}

/// The document, made once for the life of the process.
pub(crate) fn served() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(document)
}

/// The methods the document names for a request's path, as the `Allow` header of a 405 says
/// them (`GET, PUT`); `None` for a path it does not describe (the pages).
pub(crate) fn allowed(path: &str) -> Option<String> {
    let asked: Vec<&str> = path.split('/').collect();
    let (_, item) = served()["paths"].as_object()?.iter().find(|(template, _)| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == asked.len()
            && parts.iter().zip(&asked).all(|(t, a)| t == a || (t.starts_with('{') && !a.is_empty()))
    })?;
    let methods: Vec<&str> = ["GET", "POST", "PUT", "DELETE", "PATCH"]
        .into_iter()
        .filter(|m| item.get(m.to_ascii_lowercase()).is_some())
        .collect();
    Some(methods.join(", "))
}

/// The document as written, path by path.
#[expect(clippy::too_many_lines, reason = "one JSON literal, a path per block")]
fn written() -> Value {
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": { "title": "Mamoru API", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": crate::SESSION_COOKIE,
                    "description": "the pages' session; a POST signed in by this cookie alone must send Content-Type: application/json (else 415 json_required)" },
                "device": { "type": "apiKey", "in": "cookie", "name": crate::DEVICE_COOKIE }
            },
            "schemas": {
                "Hearing": {
                    "type": "object", "required": ["at"],
                    "description": "意見聴取等措置: the child's views, or why they could not be heard; the sender is recorded as the hearer",
                    "properties": { "at": { "type": "string" }, "method": { "type": "string" }, "views": { "type": "string" },
                        "not_possible_reason": { "type": "string" } } },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"],
                        "properties": { "code": { "type": "string" }, "message": { "type": "string" },
                            "message_ja": { "type": "string", "description": "the same in Japanese, for a tablet to show (a refused photo)" } } } }
                },
                "Revised": {
                    "type": "object", "required": ["rev", "body"],
                    "description": "a new revision of a record: the revision it was edited from, and the record's body as GET /api/v1/cases/{id} shows it, changed. Times may be seconds since 1970, ISO text (Japan time without an offset) or 和暦 as the tablet takes it (令和8年11月24日 10:30)",
                    "properties": { "rev": { "type": "integer" }, "body": { "type": "object" } }
                },
                "PersonIn": {
                    "type": "object", "required": ["family_name", "family_name_kana"],
                    "description": "an adult of a child's family (birth date ISO or 和暦)",
                    "properties": {
                        "family_name": { "type": "string" }, "given_name": { "type": "string" },
                        "family_name_kana": { "type": "string" }, "given_name_kana": { "type": "string" },
                        "birth_date": { "type": "string" }, "sex": { "type": "string", "enum": ["male", "female", "unknown"] },
                        "address": { "type": "string" }, "phones": { "type": "array", "items": { "type": "string" } },
                        "employment": { "type": "string" }, "health": { "type": "string" } } },
                "ChildIn": {
                    "type": "object", "required": ["family_name", "family_name_kana"],
                    "description": "a child to register (birth date ISO or 和暦)",
                    "properties": {
                        "family_name": { "type": "string" }, "given_name": { "type": "string" },
                        "family_name_kana": { "type": "string" }, "given_name_kana": { "type": "string" },
                        "birth_date": { "type": "string" }, "sex": { "type": "string" },
                        "unit": { "type": "integer" }, "address": { "type": "string" },
                        "phones": { "type": "array", "items": { "type": "string" } },
                        "affiliation": { "type": "string" }, "unborn": { "type": "boolean" },
                        "family": { "type": "array", "description": "the child's family, registered with the child in one write (a household made): each a new adult (person) or a child on file (child) with relation, guardian, custody and cohabiting as in POST /api/v1/children/{id}/family; a refused member stores nothing, naming the field (guardian_… for an adult's details)",
                            "items": { "$ref": "#/components/schemas/MemberIn" } } } },
                "MemberIn": {
                    "type": "object", "required": ["relation"],
                    "description": "a member joining a child's family: a new adult (person) or a child on file (child); relation (code table relation, not 10 本人), guardian (保護者), custody (親権者), cohabiting (同居, default true) as the member stands to the child",
                    "properties": { "person": { "$ref": "#/components/schemas/PersonIn" }, "child": { "type": "integer" },
                        "relation": { "type": "string" }, "guardian": { "type": "boolean" }, "custody": { "type": "boolean" },
                        "cohabiting": { "type": "boolean" } } },
                "Household": {
                    "type": "object", "required": ["id", "rev", "body"],
                    "description": "a household shared by siblings: members[] each with who ({kind: person|child, id}), relation (code table relation) guardian, custody and cohabiting as they stand to the household's children, and ties[] ({child, relation, guardian, custody}) where a member stands otherwise to one child. GET /api/v1/children/{id} shows members as they stand to that child",
                    "properties": { "id": { "type": "integer" }, "rev": { "type": "integer" }, "body": { "type": "object" } } },
                "ChildSummary": {
                    "type": "object",
                    "required": ["id", "name", "kana", "birth_date"],
                    "properties": {
                        "id": { "type": "integer" }, "name": { "type": "string" }, "kana": { "type": "string" },
                        "birth_date": { "type": "string", "format": "date", "nullable": true },
                        "birth_date_wareki": { "type": "string", "nullable": true },
                        "sex": { "type": "string", "enum": ["male", "female", "unknown"] },
                        "open_cases": { "type": "array", "description": "the child's open cases the reader may see, in the duplicate check's candidates (absent in search results): a report about a child with an open case belongs on that case",
                            "items": { "type": "object", "properties": { "id": { "type": "integer" }, "case_no": { "type": "string" } } } }
                    }
                }
            }
        },
        "security": [ { "bearer": [] }, { "cookie": [] } ],
        "paths": {
            "/healthz": { "get": { "security": [], "summary": "Health, no personal data",
                "responses": { "200": { "description": "serving: `status` is `ok`, or `degraded` when an administrator is needed (disk low, backup stale or failed, archive failing)" }, "503": { "description": "not serving: the store cannot write (an I/O failure, reopened by itself once the disk has space) or the disk is full" } } } },
            "/api/v1/session": {
                "post": { "security": [], "summary": "Sign in",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["login", "password"],
                        "properties": { "login": { "type": "string" }, "password": { "type": "string" }, "otp": { "type": "string" } } } } } },
                    "responses": { "200": { "description": "signed in; the token is also set as a cookie. With `enrolling` true the person has no second factor where one is required: the session may only enrol it (/api/v1/session/totp); every other call answers 403 second_factor_required",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["token", "enrolling"],
                            "properties": { "token": { "type": "string" }, "enrolling": { "type": "boolean" } } } } } },
                        "400": error_ref(), "401": error_ref(),
                        "415": { "description": "json_required: the body must be sent as application/json",
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                        "403": { "description": "device_required: the server requires a registered tablet and none was presented",
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                        "429": { "description": "too many failed sign-ins for this login or address; try again after Retry-After seconds",
                            "headers": { "Retry-After": { "schema": { "type": "integer" } } },
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } },
                "get": { "summary": "Who is signed in (staff id, login, display_name, role, units) and until when (counts as activity for the idle timeout)",
                    "responses": { "200": { "description": "the session",
                        "content": { "application/json": { "schema": { "type": "object",
                            "properties": { "login": { "type": "string" }, "display_name": { "type": "string" },
                                "role": { "type": "string" }, "units": { "type": "array", "items": { "type": "integer" } },
                                "expires_at": { "type": "integer", "description": "seconds since 1970 (UTC)" },
                                "enrolling": { "type": "boolean", "description": "the session may only enrol its second factor" } } } } } },
                        "401": error_ref() } },
                "delete": { "summary": "Sign out", "responses": { "204": { "description": "signed out" }, "401": error_ref() } }
            },
            "/api/v1/events": {
                "get": { "summary": "Server-sent events: every committed change the caller may read (kind and ids only). Resume with Last-Event-ID (or ?after=SEQ)",
                    "parameters": [ { "name": "after", "in": "query", "required": false, "schema": { "type": "integer" },
                        "description": "change-log sequence to start after (default: now)" },
                        { "name": "Last-Event-ID", "in": "header", "required": false, "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "text/event-stream; each event is named `change`, its id the change-log sequence, its data `{kind, id, case, child}`; a comment line keeps a quiet stream open",
                        "content": { "text/event-stream": { "schema": { "type": "object", "required": ["event", "id", "data"],
                            "properties": { "event": { "type": "string", "enum": ["change"] },
                                "id": { "type": "string", "pattern": "^[0-9]+$" },
                                "data": { "type": "string", "description": "JSON: {kind, id, case, child}" } } } } } },
                        "401": error_ref(), "403": error_ref() } }
            },
            "/api/v1/children": {
                "post": { "summary": "Register a child (birth date ISO or 和暦), with its family if given. Sent again with the same idempotency_key (after a lost answer), it answers with the child registered the first time, nothing stored twice; the same key with another name or birth date is refused",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "allOf": [ { "$ref": "#/components/schemas/ChildIn" },
                            { "type": "object", "properties": { "idempotency_key": { "type": "string" } } } ] } } } },
                    "responses": { "201": { "description": "created, with likely duplicates to review",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["id"],
                            "properties": { "id": { "type": "integer" },
                                "possible_duplicates": { "type": "array", "items": { "$ref": "#/components/schemas/ChildSummary" } } } } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "422": error_ref() } }
            },
            "/api/v1/children/{id}": {
                "get": { "summary": "A child's record with household, members (each as they stand to this child: relation, relation_label, guardian, custody, cohabiting, sex, birth_date), cases and the latest 50 notes (audited)",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "the child" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/children/{id}/family": {
                "post": { "summary": "Add a member to the child's household (made when it has none): a new adult (person) or a child on file as a sibling (child, not in another household); relation (code table relation, not 10 本人), guardian (保護者), custody (親権者) and cohabiting (同居, default true) as the member stands to this child. Retried with the same idempotency_key, one adult is added. Audited as an edit of the child",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["relation"],
                        "properties": { "person": { "$ref": "#/components/schemas/PersonIn" }, "child": { "type": "integer" },
                            "relation": { "type": "string" }, "guardian": { "type": "boolean" }, "custody": { "type": "boolean" },
                            "cohabiting": { "type": "boolean" }, "idempotency_key": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "the household", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Household" } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
            },
            "/api/v1/children/{id}/family/{member}": {
                "get": { "summary": "One member (person-N or child-N) as its edit needs it: the person's record with its revision, how the member stands to this child, and the household's revision (audited)",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                        { "name": "member", "in": "path", "required": true, "schema": { "type": "string" } } ],
                    "responses": { "200": { "description": "{who, name, person, standing, cohabiting, household_rev}" }, "401": error_ref(), "403": error_ref(), "404": error_ref(),
                        "422": { "description": "member is not person-N or child-N", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } },
                "put": { "summary": "Change one member from this child's side: how they stand to this child (the household's other children keep theirs) and, for an adult, the person's details at person_rev. Edits saved meanwhile are merged member by member and field by field; the same field changed by both is 409",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                        { "name": "member", "in": "path", "required": true, "schema": { "type": "string" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["household_rev", "relation"],
                        "properties": { "household_rev": { "type": "integer" }, "person_rev": { "type": "integer" },
                            "person": { "$ref": "#/components/schemas/PersonIn" }, "relation": { "type": "string" },
                            "guardian": { "type": "boolean" }, "custody": { "type": "boolean" }, "cohabiting": { "type": "boolean" } } } } } },
                    "responses": { "200": { "description": "the household", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Household" } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } },
                "delete": { "summary": "Take a member out of the household (the person's record and a sibling's own record and cases stay)",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                        { "name": "member", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "household_rev", "in": "query", "required": true, "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "the household", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Household" } } } },
                        "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
            },
            "/api/v1/search": {
                "get": { "summary": "Search by name, furigana, birth date (ISO or 和暦) or phone (audited)",
                    "parameters": [ { "name": "q", "in": "query", "required": true, "schema": { "type": "string" } } ],
                    "responses": { "200": { "description": "results",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["results"],
                            "properties": { "results": { "type": "array", "items": { "$ref": "#/components/schemas/ChildSummary" } } } } } } },
                        "401": error_ref(), "422": error_ref() } }
            },
            "/api/v1/board": {
                "get": { "summary": "Due and overdue legal clocks of a unit (or one worker), what harms a child first (overdue clocks of urgency 1 or 2 first; then urgency 1: the 48-hour check, the warrant's request and challenge; 2: a protection's limits; 3: the rest), then by due; each item names the case (case_no), the child (child_name, null when the child is restricted from the reader) and the workers (worker_names)",
                    "parameters": [
                        { "name": "unit", "in": "query", "schema": { "type": "integer" } },
                        { "name": "worker", "in": "query", "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "items" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/caseload": {
                "get": { "summary": "担当ケース: the reader's open cases (or, with `worker`, that worker's: supervisors and the head of a unit the worker is in), the most urgent first: {worker, worker_name, items: [{case, case_no, child, child_name, main (the worker is its 主担当), worker_names, received_at, next (its most urgent clock, as on the board), last_contact: {at, what} (the newest safety check or note of a visit, interview or call)}], hidden (open cases the reader may not see), may_assign}",
                    "parameters": [ { "name": "worker", "in": "query", "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "the caseload" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/caseloads": {
                "get": { "summary": "担当状況 of one of the reader's units (supervisors and the head; default: their first unit): {unit, unit_name, units, workers: [{staff, name, role, main, sub, overdue, due_soon, quiet (no contact in 30 days)}], unassigned (open cases nobody works, as caseload items)}",
                    "parameters": [ { "name": "unit", "in": "query", "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "the loads" }, "401": error_ref(), "403": error_ref() } }
            },
            "/api/v1/session/totp": {
                "post": { "summary": "Start enrolling the signed-in person's second factor (an enrolling session too): the otpauth URL of a new secret, shown once",
                    "responses": { "200": { "description": "{otpauth_url}" }, "401": error_ref() } }
            },
            "/api/v1/session/totp/confirm": {
                "post": { "summary": "Finish enrolment with a first code from the app; an enrolling session becomes a full one",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } } } } } },
                    "responses": { "204": { "description": "enrolled" }, "401": error_ref(), "422": error_ref() } }
            },
            "/api/v1/cases/{id}/reporter": {
                "get": { "summary": "通告者・相談者 of a case: {case_no, reporter: {anonymous, name, relation, phone, note} or null}. Only for 児童福祉司, supervisors and the head of the case's own unit; each read audited as view_reporter. Never put on anything addressed to the family",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "responses": { "200": { "description": "the reporter" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/cases/{id}/photos": {
                "post": { "summary": "Send one photo taken for the case (the raw image as the body: JPEG, PNG or WebP, judged by its first bytes; at most 10 MB). The server stamps it (time, sender, child); the same bytes again give back the same photo. A safety check names it by sha256.",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": {
                        "image/jpeg": { "schema": { "type": "string", "format": "binary" } },
                        "image/png": { "schema": { "type": "string", "format": "binary" } },
                        "image/webp": { "schema": { "type": "string", "format": "binary" } } } },
                    "responses": { "201": { "description": "{id, sha256, mime, size, taken_at, url}" },
                        "401": error_ref(), "403": error_ref(), "404": error_ref(), "413": error_ref(), "415": error_ref(), "422": error_ref() } }
            },
            "/api/v1/cases/{id}/photos/{sha256}": {
                "get": { "summary": "A case's photo (a read of the case, audited)",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
                        { "name": "sha256", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "the image", "content": { "image/*": {} } },
                        "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/devices": {
                "post": { "summary": "Register a tablet (administrators); its secret is returned once",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "registered: {id, secret}" }, "401": error_ref(), "403": error_ref(), "422": error_ref() } },
                "get": { "summary": "List tablets (administrators): {devices: [{id, name, active, pending, rev}]}",
                    "responses": { "200": { "description": "devices" }, "401": error_ref(), "403": error_ref() } }
            },
            "/api/v1/devices/codes": {
                "post": { "summary": "Add a tablet by a one-time registration code (administrators); the tablet enters it at /register within 24 hours",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "{id, code, expires_at}" }, "401": error_ref(), "403": error_ref(), "422": error_ref() } }
            },
            "/api/v1/devices/{id}": {
                "delete": { "summary": "Revoke a tablet: its sessions end on their next request",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "responses": { "204": { "description": "revoked" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } }
            },
            "/api/v1/backups": {
                "post": { "summary": "Make a backup generation now (administrators; the server keeps serving)",
                    "responses": { "201": { "description": "made and verified",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["generation"],
                            "properties": { "generation": { "type": "string" } } } } } },
                        "401": error_ref(), "403": error_ref(), "422": error_ref(), "503": error_ref() } }
            },
            "/api/v1/openapi.json": { "get": { "security": [], "summary": "This document", "responses": { "200": { "description": "OpenAPI 3" } } } }
        }
    });
    // The casework paths are a literal of their own: one literal that size exceeds json!'s
    // recursion limit.
    for part in [
        case_paths(),
        casework_paths(),
        approval_paths(),
        form_paths(),
        template_paths(),
        petition_paths(),
        statistics_paths(),
        maintenance_paths(),
    ] {
        if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), part) {
            paths.extend(more);
        }
    }
    doc
}

/// `/api/v1/cases` and what is recorded in a case.
fn case_paths() -> Value {
    json!({
            "/api/v1/cases": {
                "post": { "summary": "新規受付: open a case from an intake or abuse report, about a child on file (`child`) or a new one (`new_child`, as POST /api/v1/children). A new child is first checked against those on file (birth date and furigana, or furigana alone): if any may be the same, nothing is stored and 409 possible_duplicates lists them; send `child` with one of them, or `confirm_new: true`. The case and a new child are stored together or not at all; the same idempotency_key again answers with the case it opened",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["kind", "received_at", "route", "consultation_type"],
                        "properties": {
                            "child": { "type": "integer" }, "new_child": { "$ref": "#/components/schemas/ChildIn" }, "confirm_new": { "type": "boolean" },
                            "unit": { "type": "integer" },
                            "kind": { "type": "string", "enum": ["consultation", "abuse_report"] },
                            "received_at": { "type": "string", "description": "ISO 8601 (without an offset, Japan time) or 和暦 as the tablet takes it: 令和8年11月24日 10:30, R8.11.24 10:30" },
                            "route": { "type": "string", "description": "code table route" },
                            "consultation_type": { "type": "string", "description": "code table consultation_type" },
                            "chief_complaint": { "type": "string" }, "content": { "type": "string" },
                            "abuse": { "type": "object", "properties": {
                                "types": { "type": "array", "items": { "type": "string" } }, "main_type": { "type": "string" },
                                "main_perpetrator": { "type": "string" }, "severity": { "type": "string" } } },
                            "reporter": { "type": "object", "required": ["anonymous"], "properties": {
                                "anonymous": { "type": "boolean" }, "name": { "type": "string" }, "relation": { "type": "string" },
                                "phone": { "type": "string" }, "note": { "type": "string" } } },
                            "assigned": { "type": "array", "items": { "type": "integer" } },
                            "idempotency_key": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "{id, case_no}" },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(),
                        "409": { "description": "possible_duplicates: {error, candidates: [ChildSummary]} (similar furigana and the same birth date, or one kana apart and a birth date mistyped by a digit, two swapped digits, month and day swapped or the year one off; without a birth date, by the furigana; each with its open cases); nothing stored",
                            "content": { "application/json": { "schema": { "type": "object", "properties": {
                                "error": { "type": "object" },
                                "candidates": { "type": "array", "items": { "$ref": "#/components/schemas/ChildSummary" } } } } } } },
                        "422": error_ref() } }
            },
            "/api/v1/cases/{id}": {
                "get": { "summary": "A case as its page shows it: the case, its child (`child`: id, name, kana, birth date, sex), its clocks, safety checks, protections, support, assessments, meetings, the newest 50 notes and messages, photos, and `may` (the actions the reader may take here) (audited)",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "responses": { "200": { "description": "the case" }, "401": error_ref(), "403": error_ref(), "404": error_ref() } },
                "put": { "summary": "調査・判定: edit the case's working fields (assigned, abuse, worker_opinion, diagnoses, judgement, next_review) from revision `rev`; `body` is the case's body as GET shows it, changed. Changing `assigned` (the 主担当 first) is for supervisors and the head, kept in `assignments` like PUT …/assignment. The intake, number, status, restriction, closure, 終結伺い (closure_request) and the history of workers change only by their own calls. If someone saved since `rev`, the two edits are merged field by field (`merged`: true); a diagnosis with new text is signed by the sender. An edit that changes nothing writes nothing",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Revised" } } } },
                    "responses": { "200": { "description": "{id, rev, merged, case}" },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(),
                        "409": { "description": "conflict: a field was changed differently by both; nothing written. {error, clashes: [field], current: the case now, merged: the two edits merged with the sender's text in the clashing fields} — send `merged` (or a choice) with `current.rev`",
                            "content": { "application/json": { "schema": { "type": "object", "required": ["error", "clashes", "current", "merged"], "properties": {
                                "error": { "type": "object" }, "clashes": { "type": "array", "items": { "type": "string" } },
                                "current": { "type": "object" }, "merged": { "type": "object" } } } } } },
                        "422": error_ref() } }
            },
            "/api/v1/cases/{id}/notes": {
                "post": { "summary": "Add a 経過記録; the same idempotency_key again answers with the same note",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["at", "kind"],
                        "properties": { "at": { "type": "string" }, "kind": { "type": "string", "description": "code table note_kind" },
                            "body": { "type": "string" }, "photos": { "type": "array", "items": { "type": "string" }, "description": "sha256 of photos sent to the case" },
                            "idempotency_key": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "{id}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
            },
            "/api/v1/cases/{id}/messages": {
                "post": { "summary": "Post to the case's thread between field and office (at most 2,000 characters); the same idempotency_key again answers with the same message. Messages come back in GET /api/v1/cases/{id} (newest 50) and are announced on /api/v1/events",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["body"],
                        "properties": { "body": { "type": "string" }, "idempotency_key": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "{id}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
            },
            "/api/v1/cases/{id}/safety-checks": {
                "post": { "summary": "Record a 安全確認; the same idempotency_key again answers with the same check. Only a check with seen_directly closes the 48-hour clock, and it must say who saw the child (the sender, or for by_agency the `agency`) and how the child was (`child_state`); a check without direct sighting is recorded and leaves the clock running. Missing fields are all named in one 422 (`missing: method, child_state`); `sighted` without seen_directly is refused",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["at", "method", "child_state"],
                        "properties": { "at": { "type": "string" },
                            "method": { "type": "string", "enum": ["sighted", "interview", "by_agency"] },
                            "seen_directly": { "type": "boolean" }, "agency": { "type": "string", "description": "the agency that saw the child (by_agency)" },
                            "place": { "type": "string" }, "child_state": { "type": "string" },
                            "injuries": { "type": "array", "items": { "type": "object", "required": ["side", "x", "y", "description"], "properties": {
                                "side": { "type": "string", "enum": ["front", "back"] }, "x": { "type": "number" }, "y": { "type": "number" },
                                "size_cm": { "type": "number" }, "description": { "type": "string" } } } },
                            "photos": { "type": "array", "items": { "type": "string" } },
                            "idempotency_key": { "type": "string" } } } } } },
                    "responses": { "201": { "description": "{id}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
            }
    })
}

/// The casework recorded on a case after its intake.
fn casework_paths() -> Value {
    let case_id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } });
    let revised = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Revised" } } } });
    json!({
        "/api/v1/cases/{id}/assignment": {
            "put": { "summary": "担当の変更 (supervisors and the head of the case's unit): the case's workers from revision `rev`, the 主担当 (`main`, null: nobody) and any 副担当 (`subs`, in order), with an optional reason (at most 200 characters). Each must be active in the case's unit in a role that works cases (児童福祉司・相談員, スーパーバイザー, 所長); 副担当 without a 主担当 are refused (`main`). A change of workers saved by someone else since `rev` is a conflict; an edit of the rest of the case is not. Every change is kept on the case (`assignments`: at, by, assigned, reason); the same workers again change nothing",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["rev"],
                    "properties": { "rev": { "type": "integer" }, "main": { "type": "integer", "nullable": true },
                        "subs": { "type": "array", "items": { "type": "integer" } }, "reason": { "type": "string" } } } } } },
                "responses": { "200": { "description": "{id, rev, assigned (the 主担当 first), assignments}" }, "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/close": {
            "post": { "summary": "終結 (supervisors and the head): refused while the child is in temporary protection; settles a waiting 終結伺い",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["rev", "reason"],
                    "properties": { "rev": { "type": "integer" }, "reason": { "type": "string" } } } } } },
                "responses": { "200": { "description": "{id, rev, status}" }, "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/reopen": {
            "post": { "summary": "再開 of a closed case (supervisors)",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["rev"],
                    "properties": { "rev": { "type": "integer" } } } } } },
                "responses": { "200": { "description": "{id, rev, status}" }, "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/assessment-sheets": {
            "get": { "summary": "The assessment sheets on file, with their questions and how the result is computed",
                "responses": { "200": { "description": "{sheets: [{id, rev, body: {key, title, version, questions, ...}}]}" }, "401": error_ref() } }
        },
        "/api/v1/cases/{id}/assessments": {
            "post": { "summary": "Fill an assessment sheet (a yes/no answer to every question); the result is computed, never sent. The same idempotency_key again answers with the same assessment",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["sheet", "answers"],
                    "properties": { "sheet": { "type": "string", "description": "a sheet's key, e.g. protection_decision" },
                        "answers": { "type": "object", "additionalProperties": { "type": "boolean" }, "description": "question id → yes (true) / no (false)" },
                        "idempotency_key": { "type": "string" } } } } } },
                "responses": { "201": { "description": "{id, result, result_label}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/protections": {
            "post": { "summary": "一時保護の開始: refused on a closed case or while one is in force. The place kind, the place and the reason are required, and the child's hearing (意見聴取等措置) is sent with the start or `hearing_after_urgency` says it follows; its clock then runs for the days the code table hearing_after_urgent_start gives on the start day. Without the guardian's consent the 7-day warrant clock runs. The same idempotency_key again answers with the same protection",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["started_at", "place_kind", "place", "reason"],
                    "properties": { "started_at": { "type": "string" }, "place_kind": { "type": "string", "enum": ["shelter", "entrusted"] },
                        "place": { "type": "string" }, "reason": { "type": "string" }, "guardian_consent": { "type": "boolean" },
                        "hearing": { "$ref": "#/components/schemas/Hearing" },
                        "hearing_after_urgency": { "type": "boolean" }, "idempotency_key": { "type": "string" } } } } } },
                "responses": { "201": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/protections/{protection}/steps": {
            "post": { "summary": "One later step of a protection, applied by core in the law's order from revision `rev`: only an open step is recorded (the case view lists them as `open_steps`); the same step sent again answers the stored revision. Steps: hearing {at, method, views | not_possible_reason}; warrant_request {at}; warrant_decision {at, outcome issued|refused}; challenge {at} (after a refusal); extension {at, last_day, guardian_consent, petitioned_on?} (at most two months past the current period); court_petition {petitioned_on}; court_approval {approved_on}; notice {kind start|extension|end, at}; end {at, reason} (a reason is required)",
                "parameters": [case_id, { "name": "protection", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "oneOf": steps() } } } },
                "responses": { "200": { "description": "{id, rev, protection}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/protections/{protection}": {
            "put": { "summary": "The protection sent back whole as its next revision (as GET shows it, with later steps added): core works out the steps it adds and records them under the same rules as POST …/steps, so an end without a reason, a changed start or a removed step is refused (422). hearing {at, method, views | not_possible_reason}, warrant {requested_at, decided_at, outcome issued|refused, challenge_filed_at}, extensions [{decided_at, until, guardian_consent, court {petitioned_on, approved_on}}], notices [{kind start|extension|end, issued_at}], ended {at, reason}. An ended protection is not resumed. Its case and child are core's, whatever the body says",
                "parameters": [case_id, { "name": "protection", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": revised,
                "responses": { "200": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/supports": {
            "post": { "summary": "援助・措置の決定. A placement without the child's hearing runs the hearing clock. A missing kind or decided_on is refused with 422 naming them. The same idempotency_key again answers with the same decision",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["kind", "decided_on"],
                    "properties": { "kind": { "type": "string", "description": "code table support_kind" },
                        "decided_on": { "type": "string", "format": "date" }, "start": { "type": "string", "format": "date" },
                        "review_on": { "type": "string", "format": "date" }, "end": { "type": "string", "format": "date" },
                        "facility": { "type": "string" }, "hearing": { "$ref": "#/components/schemas/Hearing" },
                        "notice_issued_on": { "type": "string", "format": "date" }, "note": { "type": "string" },
                        "idempotency_key": { "type": "string" } } } } } },
                "responses": { "201": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/supports/{support}": {
            "put": { "summary": "A support decision's next revision, sent back whole as GET shows it (dates, notice, the child's hearing): checked as POST …/supports is, so a missing kind or decided_on is refused with 422 naming them; an unchanged hearing keeps who heard it, a changed one is heard by the sender. Its case, who heard a hearing and its `approval` (決裁) are core's, whatever the body says; a change of its kind, decision date, start or facility, or any change after it was sent back, asks for 決裁 again",
                "parameters": [case_id, { "name": "support", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": revised,
                "responses": { "200": { "description": "{id, rev}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/meetings": {
            "post": { "summary": "会議 of the case's unit that discussed the case (and `cases`, further cases of the unit); not in the future. The same idempotency_key again answers with the same meeting",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["kind", "at"],
                    "properties": { "kind": { "type": "string", "description": "code table meeting_kind" }, "at": { "type": "string" },
                        "attendees": { "type": "array", "items": { "type": "integer" }, "description": "staff ids" },
                        "outside_attendees": { "type": "array", "items": { "type": "string" } },
                        "cases": { "type": "array", "items": { "type": "integer" } },
                        "decisions": { "type": "string" }, "idempotency_key": { "type": "string" } } } } } },
                "responses": { "201": { "description": "{id}" }, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "422": error_ref() } }
        }
    })
}

/// The body of each later step of a protection: `rev`, the step's name and what it records.
fn steps() -> Value {
    let at =
        json!({ "type": "string", "description": "when: ISO 8601 (Japan time without an offset) or 和暦" });
    let day = json!({ "type": "string", "format": "date" });
    let step = |name: &str, required: &[&str], fields: Value| {
        let mut properties =
            json!({ "rev": { "type": "integer" }, "step": { "type": "string", "enum": [name] } });
        if let (Some(p), Value::Object(more)) = (properties.as_object_mut(), fields) {
            p.extend(more);
        }
        let mut all = vec!["rev", "step"];
        all.extend_from_slice(required);
        json!({ "type": "object", "title": name, "required": all, "properties": properties })
    };
    json!([
        step(
            "hearing",
            &["at"],
            json!({ "at": at, "method": { "type": "string" }, "views": { "type": "string" },
            "not_possible_reason": { "type": "string" } })
        ),
        step("warrant_request", &["at"], json!({ "at": at })),
        step(
            "warrant_decision",
            &["at", "outcome"],
            json!({ "at": at, "outcome": { "type": "string", "enum": ["issued", "refused"] } })
        ),
        step("challenge", &["at"], json!({ "at": at })),
        step(
            "extension",
            &["at", "last_day"],
            json!({ "at": at, "last_day": day, "guardian_consent": { "type": "boolean" },
            "petitioned_on": day })
        ),
        step("court_petition", &["petitioned_on"], json!({ "petitioned_on": day })),
        step("court_approval", &["approved_on"], json!({ "approved_on": day })),
        step(
            "notice",
            &["kind", "at"],
            json!({ "kind": { "type": "string", "enum": ["start", "extension", "end"] }, "at": at })
        ),
        step("end", &["at"], json!({ "at": at, "reason": { "type": "string" } })),
    ])
}

/// 決裁: the 終結伺い and the approver's decisions.
fn approval_paths() -> Value {
    let case_id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } });
    let decide = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["rev", "verdict"],
        "properties": { "rev": { "type": "integer", "description": "the revision of the record decided, as the reader saw it (of the case, for a 終結伺い): a record changed since is a conflict" },
            "verdict": { "type": "string", "enum": ["approved", "returned"] },
            "comment": { "type": "string", "description": "at most 500 characters; required to send back" } } } } } });
    let done = json!({ "description": "{id, rev, state (pending, approved, returned), status (of the case: closed once a 終結伺い is approved)}" });
    let rule = "決裁 (supervisors and the head of the case's unit) of what someone else asked for: nobody approves their own request (422, field approval); a decision is made once (the same one sent again answers the stored revision)";
    json!({
        "/api/v1/cases/{id}/closure-request": {
            "post": { "summary": "終結伺い (caseworkers; supervisors and the head close directly): ask for the case to be closed, for `reason` (at most 500 characters), from the case's revision `rev`. Refused on a closed case, while the child is in temporary protection, and while another request waits (the same one sent again answers the stored revision). The case shows it as closure_request; its clock approval is on the board until decided",
                "parameters": [case_id],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["rev", "reason"],
                    "properties": { "rev": { "type": "integer" }, "reason": { "type": "string" } } } } } },
                "responses": { "200": done.clone(), "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/closure-request/approval": {
            "post": { "summary": format!("{rule}. Approved, the case closes for the request's reason (closure: by the approver, asked_by the worker); refused while the child is in temporary protection"),
                "parameters": [case_id],
                "requestBody": decide,
                "responses": { "200": done, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/assessments/{assessment}/approval": {
            "post": { "summary": format!("{rule}. Every assessment asks for it when recorded (approval: asked_at, asked_by, decision {{verdict, at, by, comment}})"),
                "parameters": [case_id, { "name": "assessment", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": decide,
                "responses": { "200": done, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        },
        "/api/v1/cases/{id}/supports/{support}/approval": {
            "post": { "summary": format!("{rule}. Every support decision asks for it when recorded, and again when its kind, decision date, start or facility change, or when it is changed after being sent back"),
                "parameters": [case_id, { "name": "support", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": decide,
                "responses": { "200": done, "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
        }
    })
}

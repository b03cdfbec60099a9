//! The operator's side of the API, in the document: planned stops (計画停止) and the monthly
//! service report. A literal of its own (json!'s recursion limit).

use serde_json::{Value, json};

use super::error_ref;

/// 計画停止: announced and listed by administrators; the monthly service report.
pub(super) fn maintenance_paths() -> Value {
    json!({
            "/api/v1/reports/service": {
                "get": { "summary": "The monthly サービス提供報告書 (administrators): 稼働率 by the specification's formula with the planned stops, every outage with its detection and recovery, response times per page, backups and the restore drill, sign-ins and devices, store growth. As PDF (default) or XLSX of the same tables. `month` as 2026-11 or 令和8年11月 (default: last month); a month not yet begun is 422. Audited",
                    "parameters": [
                        { "name": "month", "in": "query", "required": false, "schema": { "type": "string" } },
                        { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["pdf", "xlsx"] } } ],
                    "responses": { "200": { "description": "the report", "content": { "application/pdf": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {} } },
                        "401": error_ref(), "403": error_ref(), "422": error_ref() } }
            },
            "/api/v1/maintenance": {
                "get": { "summary": "Every announced planned stop (計画停止), oldest first (administrators): {maintenance: [{id, rev, at, by, body: {window: {from, to}, reason, announced_by, announced_at, cancelled?: {by, at}}}]}; times are seconds since 1970",
                    "responses": { "200": { "description": "the planned stops", "content": { "application/json": { "schema": {
                        "type": "object", "required": ["maintenance"], "properties": { "maintenance": { "type": "array", "items": { "type": "object" } } } } } } },
                        "401": error_ref(), "403": error_ref() } },
                "post": { "summary": "Announce a planned stop (administrators): tablets show it from a week before until it ends, and 稼働率 leaves it out. `from` later than now, `to` after `from`, at most 72 hours; times as seconds since 1970, `YYYY-MM-DDTHH:MM+09:00` or 和暦; a reason of 1-200 characters. Audited",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["from", "to", "reason"], "additionalProperties": false,
                        "properties": { "from": { "type": "string" }, "to": { "type": "string" }, "reason": { "type": "string", "maxLength": 200 } } } } } },
                    "responses": { "201": { "description": "announced: {id, rev, at, by, body}",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["id", "body"] } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "422": error_ref() } }
            },
            "/api/v1/maintenance/{id}": {
                "put": { "summary": "Change an announced planned stop from the revision read (administrators). Before it starts anything may change, checked as when announced (a window reaching outside the announced one counts its notice from now); once it has started only the reason and an earlier end, not before now; an ended or cancelled stop is 422 (`maintenance`); a revision changed meanwhile is 409. Audited",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["rev", "from", "to", "reason"], "additionalProperties": false,
                        "properties": { "rev": { "type": "integer", "minimum": 1 }, "from": { "type": "string" }, "to": { "type": "string" }, "reason": { "type": "string", "maxLength": 200 } } } } } },
                    "responses": { "200": { "description": "changed: {id, rev, at, by, body}",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["id", "body"] } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
            },
            "/api/v1/maintenance/{id}/cancel": {
                "post": { "summary": "Call off a planned stop from the revision read (administrators): before it starts it is no longer shown nor counted (`body.cancelled: {by, at}`); once started it ends now, its time so far still planned. An ended or cancelled stop is 422; a revision changed meanwhile is 409. Audited",
                    "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["rev"], "additionalProperties": false,
                        "properties": { "rev": { "type": "integer", "minimum": 1 } } } } } },
                    "responses": { "200": { "description": "called off or ended: {id, rev, at, by, body}",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["id", "body"] } } } },
                        "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(), "409": error_ref(), "422": error_ref() } }
            }
    })
}

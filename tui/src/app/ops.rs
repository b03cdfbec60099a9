//! Forms, confirmed operations and prompts carried out through core's service.

use std::sync::Arc;

use mamoru_core::code_table::CodeEntryEdit;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::ids::MaintenanceId;
use mamoru_core::maintenance::{MaintenanceChange, NewMaintenance};
use mamoru_core::service::NewStaff;
use mamoru_core::staff::{Login, Role, StaffChange};
use mamoru_core::time::Timestamp;

use super::{AUDIT_FIELDS, App, Dialog, Entry, Field, Form, Level, Op, describe, file_time, key_label};
use crate::Screen;

/// `1 児童福祉司・相談員  2 児童心理司 …` for the 役割 field.
pub(super) fn role_hint() -> String {
    let roles =
        Role::ALL.iter().enumerate().map(|(i, r)| format!("{} {}", i + 1, r.label())).collect::<Vec<_>>();
    format!("番号: {}", roles.join("  "))
}
/// The 役割 field: a number as listed, a label, or the English name.
pub(super) fn parse_role(text: &str) -> Result<Role, String> {
    let text = text.trim();
    let found = match text.parse::<usize>() {
        Ok(n) => Role::ALL.get(n.wrapping_sub(1)).copied(),
        Err(_) => Role::ALL.iter().copied().find(|r| r.label() == text || r.as_str() == text),
    };
    found.ok_or_else(|| format!("役割: 「{text}」は役割の番号ではありません"))
}
/// The fields of a code-table entry (the code first, dropped when editing one).
pub(super) fn code_fields(code: &str, label: &str, from: &str, until: &str) -> Vec<Field> {
    vec![
        Field::new("コード", code, "英数字 (8 字まで)"),
        Field::new("名称", label, "画面に出る名前 (40 字まで)"),
        Field::new("有効開始", from, "空欄は制限なし。2026-04-01 または R8.4.1"),
        Field::new("有効終了", until, "この日から使えません。空欄は制限なし"),
    ]
}
/// The audit filter form's texts as core takes them: a login (or staff id), a child id, an
/// action, and two dates (ISO or 和暦).
pub(super) fn audit_filter(texts: &[String]) -> Result<mamoru_core::service::AuditFilter, String> {
    let text = |i: usize| texts.get(i).map(String::as_str).filter(|t| !t.is_empty());
    let date = |i: usize, label: &str| {
        text(i)
            .map(|t| mamoru_core::wareki::parse(t).map_err(|_| format!("{label}: 日付が読めません ({t})")))
            .transpose()
    };
    let child = text(1)
        .map(|t| {
            t.trim_start_matches('#')
                .parse::<u64>()
                .map(mamoru_core::ids::ChildId)
                .map_err(|_| format!("児童ID: 数字で入力してください ({t})"))
        })
        .transpose()?;
    if let Some(t) = text(2)
        && !t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return Err(format!("操作: 英小文字と _ で入力してください (例 read_case) ({t})"));
    }
    Ok(mamoru_core::service::AuditFilter {
        staff: text(0).map(str::to_owned),
        child,
        action: text(2).map(str::to_owned),
        from: date(3, "開始日")?,
        until: date(4, "終了日")?,
    })
}

/// A refusal of a planned stop's change, its field named in Japanese.
fn maintenance_refusal(e: &mamoru_core::Error) -> String {
    match e {
        mamoru_core::Error::Invalid { field, reason } => {
            let label = match *field {
                "from" => "開始",
                "to" => "終了",
                "reason" => "理由",
                _ => "計画停止",
            };
            format!("{label}: {reason}")
        }
        mamoru_core::Error::Incomplete { .. } => "理由: 入力してください".into(),
        other => describe(other),
    }
}

impl App {
    /// A form's Enter. `Err` keeps the form open with the reason.
    pub(super) fn submit_form(&mut self, form: &Form, texts: &[String]) -> Result<(), String> {
        match form {
            Form::AuditFilter => self.filter_audit(texts),
            Form::AddStaff => self.add_staff(texts),
            Form::EditStaff { login, rev } => {
                let edit = StaffChange::Edit {
                    rev: *rev,
                    display_name: texts[0].clone(),
                    role: parse_role(&texts[1])?,
                    units: self.parse_units(&texts[2])?,
                };
                self.service.change_staff(&self.actor, login, &edit).map_err(|e| describe(&e))?;
                self.info(format!("{login} を変更しました (役割・所属が変わったときはサインインし直しです)"));
                self.load(Screen::Staff);
                Ok(())
            }
            Form::CodeEntry { table, rev, code } => self.save_code_entry(table, *rev, code.as_ref(), texts),
            Form::AnnounceMaintenance => self.save_maintenance(None, texts),
            Form::ChangeMaintenance { id, rev, from, to } => {
                self.save_maintenance(Some((*id, *rev, [*from, *to])), texts)
            }
        }
    }

    /// A planned stop's form: a new one, or the one `id` as read at its revision with its times
    /// (a field left as drawn keeps its time to the second: a reworded stop is not moved). The
    /// times are read here (ISO or 和暦); every rule is core's.
    fn save_maintenance(
        &mut self,
        stop: Option<(MaintenanceId, u64, [Timestamp; 2])>,
        texts: &[String],
    ) -> Result<(), String> {
        let time = |i: usize, label: &str| {
            if let Some((.., drawn)) = stop
                && texts[i] == drawn[i].to_jst_minute()
            {
                return Ok(drawn[i]);
            }
            mamoru_core::wareki::parse_datetime(&texts[i])
                .map_err(|_| format!("{label}: 日時が読めません ({}): 2026-12-20 22:00 のように", texts[i]))
        };
        let (from, to, reason) = (time(0, "開始")?, time(1, "終了")?, texts[2].clone());
        let (v, done) = match stop {
            None => (
                self.service.announce_maintenance(&self.actor, NewMaintenance { from, to, reason }),
                "告知しました (タブレットには開始の 7 日前から表示されます)",
            ),
            Some((id, rev, _)) => (
                self.service.change_maintenance(&self.actor, id, MaintenanceChange { rev, from, to, reason }),
                "変更しました",
            ),
        };
        let v = v.map_err(|e| maintenance_refusal(&e))?;
        self.info(format!("計画停止 {} を{done}", v.id));
        self.load(Screen::Maintenance);
        Ok(())
    }

    fn filter_audit(&mut self, texts: &[String]) -> Result<(), String> {
        let filter = audit_filter(texts)?;
        // Asked once here, so a refusal (an unknown login or child) is said in the form.
        self.service.search_audit(&self.actor, &filter, 1).map_err(|e| describe(&e))?;
        self.audit_query = filter;
        for (kept, text) in self.audit_texts.iter_mut().zip(texts) {
            kept.clone_from(text);
        }
        self.state.audit_filter = AUDIT_FIELDS
            .iter()
            .zip(texts)
            .filter(|(_, t)| !t.is_empty())
            .map(|((label, _), t)| format!("{label}={t}"))
            .collect::<Vec<_>>()
            .join(" ");
        self.state.cursor[Screen::Audit.index()] = 0;
        self.load(Screen::Audit);
        Ok(())
    }

    fn add_staff(&mut self, texts: &[String]) -> Result<(), String> {
        let login = Login::parse(&texts[0])
            .map_err(|_| "ログイン名: 英小文字で始まる 2〜32 字 (a-z 0-9 . _ -) にしてください".to_owned())?;
        let new = NewStaff {
            login: login.clone(),
            display_name: texts[1].clone(),
            role: parse_role(&texts[2])?,
            units: self.parse_units(&texts[3])?,
        };
        if new.display_name.is_empty() {
            return Err("氏名: 入力してください".into());
        }
        let (_, password) =
            self.service.add_staff_with_one_time_password(&self.actor, new).map_err(|e| describe(&e))?;
        self.state.dialog = Some(Dialog::Shown {
            title: format!("{login} を追加しました"),
            lines: vec![
                "最初のパスワード (一度だけ表示します):".into(),
                password,
                "本人に直接伝えてください。初回のサインインで二要素認証 (TOTP) を登録します。".into(),
            ],
        });
        self.load(Screen::Staff);
        Ok(())
    }

    /// Core adds or changes the one entry at the revision the form was drawn from.
    fn save_code_entry(
        &mut self,
        table: &str,
        rev: u64,
        code: Option<&String>,
        texts: &[String],
    ) -> Result<(), String> {
        let adding = code.is_none();
        let (code, texts) = match code {
            Some(c) => (c.clone(), texts),
            None => (texts[0].clone(), &texts[1..]),
        };
        let date = |t: &str, label: &str| {
            (!t.is_empty())
                .then(|| {
                    mamoru_core::wareki::parse(t).map_err(|_| format!("{label}: 日付が読めません ({t})"))
                })
                .transpose()
        };
        let entry = CodeEntryEdit {
            code,
            label: texts[0].clone(),
            valid_from: date(&texts[1], "有効開始")?,
            valid_until: date(&texts[2], "有効終了")?,
        };
        self.service.put_code_entry(&self.actor, table, rev, entry, adding).map_err(|e| describe(&e))?;
        self.info(format!("コード表「{table}」を保存しました"));
        self.load(Screen::CodeTables);
        Ok(())
    }

    /// Calls off the planned stop `id` read at `rev` (one that runs ends now).
    fn cancel_maintenance(&mut self, id: MaintenanceId, rev: u64) {
        let outcome = self.service.cancel_maintenance(&self.actor, id, rev).map(|v| {
            let done =
                if v.body.cancelled.is_some() { "中止しました" } else { "今終了しました" };
            format!("計画停止 {} を{done}", v.id)
        });
        match outcome {
            Ok(text) => self.info(text),
            Err(e) => self.state.message = Some((Level::Error, maintenance_refusal(&e))),
        }
        self.load(Screen::Maintenance);
    }

    pub(super) fn run(&mut self, op: Op) {
        let svc = Arc::clone(&self.service);
        let screen = self.state.screen;
        let outcome = match op {
            Op::RevokeDevice(id) => svc
                .change_device(&self.actor, id, DeviceChange::Revoke)
                .map(|_| "端末を失効させました".to_owned()),
            Op::EndSession(id) => {
                svc.end_session(&self.actor, &id).map(|()| "セッションを終了しました".to_owned())
            }
            Op::ResetTotp(login) => {
                svc.reset_totp(&self.actor, &login).map(|()| format!("{login} の TOTP をリセットしました"))
            }
            Op::SetDisabled(login, disabled) => {
                let change = if disabled { &StaffChange::Disable } else { &StaffChange::Enable };
                svc.change_staff(&self.actor, &login, change)
                    .map(|()| format!("{login} を{}にしました", if disabled { "無効" } else { "有効" }))
            }
            Op::ResetPassword(login) => self.reset_password(&login),
            Op::ReissueDevice(id) => {
                svc.change_device(&self.actor, id, DeviceChange::Reissue).map(|issued| {
                    if let Some((code, expires)) = issued {
                        self.show_code(format!("端末 #{id} の新しい登録コード"), code, expires);
                    }
                    "登録コードを発行しました".to_owned()
                })
            }
            Op::CancelMaintenance(id, rev) => return self.cancel_maintenance(id, rev),
            Op::ExportAudit => match self.export_audit() {
                Some(outcome) => outcome,
                None => return self.load(screen),
            },
            Op::CheckStore => svc.check_store(&self.actor).map(|report| {
                // The records of every kind; not the change log's or the audit log's entries.
                let records: u64 =
                    report.counts.iter().filter(|(k, _)| k != "change" && k != "audit").map(|(_, n)| n).sum();
                let mut lines = if report.problems.is_empty() {
                    vec![format!("問題は見つかりませんでした (記録 {records} 件、redb のページ検査を含む)")]
                } else {
                    vec![format!(
                        "{} 件の問題が見つかりました。バックアップからの復元を検討してください:",
                        report.problems.len()
                    )]
                };
                lines.extend(report.problems.iter().take(12).cloned());
                let summary = lines[0].clone();
                self.state.dialog = Some(Dialog::Shown { title: "整合性検査".into(), lines });
                summary
            }),
            Op::ExportStore => match self.export_store() {
                Some(outcome) => outcome,
                None => return self.load(screen),
            },
            Op::RestoreDrill => {
                let done = svc.authorize_backup(&self.actor).map_err(|e| describe(&e));
                let failed = match done.and_then(|()| self.host.restore_drill()) {
                    Ok(d) if d.succeeded() => Ok(drill_passed(&d)),
                    Ok(d) => Err(format!("復元訓練に失敗しました: {}", d.failure.unwrap_or_default())),
                    Err(e) => Err(format!("復元訓練を記録できませんでした: {e}")),
                };
                match failed {
                    Ok(text) => Ok(text),
                    Err(text) => {
                        self.state.message = Some((Level::Error, text));
                        return self.load(screen);
                    }
                }
            }
            Op::BackupNow => {
                let made = svc.authorize_backup(&self.actor).map_err(|e| describe(&e));
                match made.and_then(|()| self.host.backup_now()) {
                    Ok(summary) => Ok(format!("バックアップを作成しました: {summary}")),
                    Err(e) => {
                        self.state.message = Some((Level::Error, format!("バックアップに失敗しました: {e}")));
                        return self.load(screen);
                    }
                }
            }
        };
        match outcome {
            Ok(text) => self.info(text),
            Err(e) => self.error(&e),
        }
        self.load(screen);
    }

    /// A new password, shown once in a dialog.
    fn reset_password(&mut self, login: &str) -> Result<String, mamoru_core::Error> {
        let password = self.service.reset_password(&self.actor, login)?;
        self.state.dialog = Some(Dialog::Shown {
            title: format!("{login} の新しいパスワード"),
            lines: vec![
                password,
                String::new(),
                "本人に直接伝えてください。この画面を閉じると二度と表示されません。".into(),
            ],
        });
        Ok(format!("{login} のパスワードを再設定しました"))
    }

    /// The whole store, written into a new folder of the store exports; `None` when the folder
    /// could not be made (said in the message line).
    fn export_store(&mut self) -> Option<Result<String, mamoru_core::Error>> {
        let name = format!("export-{}", file_time(self.service.now()));
        let (mut sink, path) = match self.host.store_export(&name) {
            Ok(made) => made,
            Err(e) => {
                self.state.message = Some((Level::Error, format!("書き出し先を作れません: {e}")));
                return None;
            }
        };
        let out = match self.service.export_store(&self.actor, sink.as_mut()) {
            Ok(out) => out,
            Err(e) => return Some(Err(e)),
        };
        let children = out.rows.first().map_or(0, |(_, n)| *n);
        self.state.dialog = Some(Dialog::Shown {
            title: "データ全体を書き出しました".into(),
            lines: vec![
                format!(
                    "児童 {children} 人、記録の版 {} 件、写真 {} 枚、{} ファイル:",
                    out.records,
                    out.photos,
                    out.files.len()
                ),
                path,
                "個人情報を含みます。暗号化した媒体で運び、用が済んだら消去してください。PC へは SFTP で:"
                    .into(),
                format!(
                    "sftp -r -P 2222 '{}@サーバー名:/store-exports/{name}' .",
                    self.actor.login().as_str()
                ),
                "確認: cd {name} && sha256sum -c SHA256SUMS".replace("{name}", &name),
            ],
        });
        Some(Ok(format!("データ全体を書き出しました ({name})")))
    }

    /// The audit entries the filter finds, as a CSV file in the exports folder; `None` when the
    /// file could not be written (said in the message line).
    fn export_audit(&mut self) -> Option<Result<String, mamoru_core::Error>> {
        let mut csv = Vec::new();
        let name = format!("audit-{}.csv", file_time(self.service.now()));
        let n = match self.service.export_audit(&self.actor, &self.audit_query, &mut csv) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        match self.host.save_export(&name, &csv) {
            Ok(path) => {
                self.state.dialog = Some(Dialog::Shown {
                    title: "監査ログを出力しました".into(),
                    lines: vec![
                        format!("{n} 件を CSV (UTF-8、Excel で開けます) に書き出しました:"),
                        path,
                        "PC へはこのコンソールと同じ鍵・ポートの SFTP で取り出し、監査担当者に渡してください。例:"
                            .into(),
                        format!("scp -P 2222 '{}@サーバー名:/exports/{name}' .", self.actor.login().as_str()),
                    ],
                });
                Some(Ok(format!("監査ログ {n} 件を出力しました")))
            }
            Err(e) => {
                self.state.message = Some((Level::Error, format!("ファイルに書けません: {e}")));
                None
            }
        }
    }

    /// The month's サービス提供報告書 as PDF and XLSX, kept where the exports are fetched.
    fn service_report(&mut self, month: &str) {
        use mamoru_core::service_report::Month;
        let month = match month.trim() {
            "" => Ok(mamoru_core::service::last_month(self.service.now().jst_date())),
            m => Month::parse(m),
        };
        let files = match month.and_then(|m| self.service.service_report_files(&self.actor, m)) {
            Ok(f) => f,
            Err(e) => return self.error(&e),
        };
        let name = format!("service-report-{}", files.report.month.slug());
        let saved = self
            .host
            .save_export(&format!("{name}.pdf"), &files.pdf)
            .and_then(|pdf| Ok((pdf, self.host.save_export(&format!("{name}.xlsx"), &files.xlsx)?)));
        match saved {
            Ok((pdf, xlsx)) => {
                let r = &files.report;
                let rate = r.availability.percent().map_or_else(|| "—".to_owned(), |p| format!("{p:.2} %"));
                self.state.dialog = Some(Dialog::Shown {
                    title: format!("サービス提供報告書（{}分）を作成しました", r.month.label()),
                    lines: vec![
                        format!(
                            "稼働率 {rate}（目標 99.8 %）  障害 {} 件  計画停止 {} 回  復元訓練 {} 回",
                            r.outages.len(),
                            r.planned.len(),
                            r.drills.len()
                        ),
                        pdf,
                        xlsx,
                        "PC へはこのコンソールと同じ鍵・ポートの SFTP で取り出してください。例:".into(),
                        format!(
                            "scp -P 2222 '{}@サーバー名:/exports/{name}.*' .",
                            self.actor.login().as_str()
                        ),
                    ],
                });
                self.info(format!("サービス提供報告書（{}分）を作成しました", r.month.label()));
            }
            Err(e) => self.state.message = Some((Level::Error, format!("ファイルに書けません: {e}"))),
        }
    }

    pub(super) fn submit(&mut self, entry: Entry, text: &str) {
        let svc = Arc::clone(&self.service);
        match entry {
            Entry::RegisterDevice => {
                match DeviceName::parse(text).and_then(|n| svc.issue_device_code(&self.actor, &n)) {
                    Ok((id, code, expires)) => {
                        self.show_code(format!("端末「{text}」(#{id}) の登録コード"), code, expires);
                    }
                    Err(e) => self.error(&e),
                }
            }
            Entry::RemoveKey(login) => {
                let key = self
                    .staff_rows
                    .iter()
                    .find(|s| s.body.login.as_str() == login)
                    .and_then(|s| {
                        text.parse::<usize>().ok().and_then(|n| s.body.console_keys.get(n.wrapping_sub(1)))
                    })
                    .cloned();
                match key {
                    None => self.state.message = Some((Level::Error, format!("番号が違います: {text}"))),
                    Some(key) => match svc.change_staff(
                        &self.actor,
                        &login,
                        &StaffChange::RemoveConsoleKey(key.clone()),
                    ) {
                        Ok(()) => self.info(format!("{login} の公開鍵 {} を削除しました", key_label(&key))),
                        Err(e) => self.error(&e),
                    },
                }
            }
            Entry::ServiceReport => self.service_report(text),
            Entry::AddKey(login) => {
                match svc.change_staff(&self.actor, &login, &StaffChange::AddConsoleKey(text.to_owned())) {
                    Ok(()) => self.info(format!("{login} に公開鍵を追加しました")),
                    Err(e) => self.error(&e),
                }
            }
        }
        self.load(self.state.screen);
    }
}

/// A passed drill in one line: what was restored, how long it took, how close to now it came.
fn drill_passed(d: &mamoru_core::drill::RestoreDrill) -> String {
    let generation = d.generation.map_or_else(String::new, |g| format!("世代 {g}"));
    let up_to = d.up_to.map_or_else(|| "-".to_owned(), super::short_time);
    format!(
        "復元訓練に合格しました: {generation} ({:.1} MB) と変更 {} 件を {:.1} 秒で復元・検査 ({up_to} の状態まで)",
        super::mb(d.generation_bytes),
        d.changes_replayed,
        // Shown to a tenth of a second.
        f64::from(u32::try_from(d.millis).unwrap_or(u32::MAX)) / 1000.0
    )
}

//! What a key does on each screen and in each dialog.

use mamoru_core::audit::Verdict;
use mamoru_core::staff::Role;

use super::{AUDIT_FIELDS, App, Dialog, Entry, Field, Form, Op, code_fields, describe, key_label, role_hint};
use crate::Screen;
use crate::keys::Key;

impl App {
    pub(super) fn screen_key(&mut self, screen: Screen, c: char) {
        let at = self.state.cursor();
        let name = self.state.selected().and_then(|r| r.cells.get(1)).cloned().unwrap_or_default();
        match (screen, c) {
            (Screen::Devices, 'r' | '\n') => {
                if let Some(&id) = self.device_ids.get(at) {
                    self.confirm(
                        format!("端末「{name}」を失効させますか？ この端末のセッションはすべて終了します。"),
                        Op::RevokeDevice(id),
                    );
                }
            }
            (Screen::Devices, 'n') => self.ask("新しい端末の名前", Entry::RegisterDevice, String::new()),
            (Screen::Devices, 'g') => {
                if let Some(&id) = self.device_ids.get(at) {
                    self.confirm(
                        format!(
                            "端末「{name}」を登録し直しますか？ 新しい登録コードを発行します。今の登録は使えなくなり、この端末のセッションは終了します。"
                        ),
                        Op::ReissueDevice(id),
                    );
                }
            }
            (Screen::Sessions, 'e' | '\n') => {
                if let Some(id) = self.session_ids.get(at).cloned() {
                    let login = self.state.sessions[at].cells[1].clone();
                    self.confirm(format!("{login} のセッションを終了しますか？"), Op::EndSession(id));
                }
            }
            (Screen::Audit, '/' | 'f') => {
                let fields = AUDIT_FIELDS
                    .iter()
                    .zip(&self.audit_texts)
                    .map(|((label, hint), text)| Field::new(label, text, hint))
                    .collect();
                self.state.dialog = Some(Dialog::Form {
                    title: "監査ログの絞り込み".into(),
                    fields,
                    focus: 0,
                    form: Form::AuditFilter,
                    error: None,
                });
            }
            (Screen::Audit, 'c') => {
                self.audit_texts = Default::default();
                self.audit_query = mamoru_core::service::AuditFilter::default();
                self.state.audit_filter.clear();
                self.state.cursor[Screen::Audit.index()] = 0;
                self.load(Screen::Audit);
            }
            (Screen::Audit, 'x') => {
                let what = if self.state.audit_filter.is_empty() {
                    "監査ログ全体".to_owned()
                } else {
                    format!("絞り込み ({}) の結果", self.state.audit_filter)
                };
                self.confirm(
                    format!("{what}を CSV に出力しますか？ 出力も監査ログに記録されます。"),
                    Op::ExportAudit,
                );
            }
            (Screen::Audit, 'v') => {
                self.state.audit_verdict = Some(match self.service.verify_audit() {
                    Ok(Verdict::Intact { entries }) => format!("改ざんなし ({entries} 件を検証)"),
                    Ok(Verdict::Broken { seq, reason }) => format!("改ざんを検出: #{seq}: {reason}"),
                    Err(e) => describe(&e),
                });
            }
            (Screen::Backups, 'b') => {
                self.confirm("今すぐバックアップを作成しますか？".into(), Op::BackupNow);
            }
            (Screen::Staff, _) => self.staff_key(c, at),
            (Screen::CodeTables, _) => self.code_key(c, at),
            _ => {}
        }
    }

    /// 職員: add, edit, disable, password, TOTP, console keys.
    pub(super) fn staff_key(&mut self, c: char, at: usize) {
        let login = self.staff_rows.get(at).map(|s| s.body.login.as_str().to_owned());
        match c {
            'd' => {
                if let Some(login) = login {
                    let disable = !self.state.staff[at].dim;
                    let verb = if disable { "無効に" } else { "有効に" };
                    self.confirm(format!("{login} を{verb}しますか？"), Op::SetDisabled(login, disable));
                }
            }
            'p' => {
                if let Some(login) = login {
                    self.confirm(
                        format!("{login} のパスワードを再設定しますか？ 一度だけ表示します。"),
                        Op::ResetPassword(login),
                    );
                }
            }
            't' => {
                if let Some(login) = login {
                    self.confirm(
                        format!("{login} の二要素認証 (TOTP) をリセットしますか？"),
                        Op::ResetTotp(login),
                    );
                }
            }
            'n' => {
                if let Some(login) = login {
                    self.ask(
                        &format!("{login} の公開鍵 (ssh-ed25519 AAAA...)"),
                        Entry::AddKey(login),
                        String::new(),
                    );
                }
            }
            'a' => self.open_form(
                "職員の追加",
                vec![
                    Field::new("ログイン名", "", "英小文字で始まる 2〜32 字 (a-z 0-9 . _ -)"),
                    Field::new("氏名", "", "表示名 (40 字まで)"),
                    Field::new("役割", "", &role_hint()),
                    Field::new("所属", "", &self.unit_hint()),
                ],
                Form::AddStaff,
            ),
            'e' | '\n' => {
                if let Some(s) = self.staff_rows.get(at).cloned() {
                    let units = s
                        .body
                        .units
                        .iter()
                        .map(|u| {
                            self.units.iter().position(|(id, _)| id == u).map_or(0, |i| i + 1).to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    let role = Role::ALL.iter().position(|r| *r == s.body.role).map_or(0, |i| i + 1);
                    self.open_form(
                        &format!("{} の編集", s.body.login),
                        vec![
                            Field::new("氏名", &s.body.display_name, "表示名 (40 字まで)"),
                            Field::new("役割", &role.to_string(), &role_hint()),
                            Field::new("所属", &units, &self.unit_hint()),
                        ],
                        Form::EditStaff { login: s.body.login.as_str().to_owned(), rev: s.rev },
                    );
                }
            }
            'x' => {
                if let Some(s) = self.staff_rows.get(at) {
                    if s.body.console_keys.is_empty() {
                        self.info(format!("{} には公開鍵がありません", s.body.login));
                    } else {
                        let list = s
                            .body
                            .console_keys
                            .iter()
                            .enumerate()
                            .map(|(i, k)| format!("{} {}", i + 1, key_label(k)))
                            .collect::<Vec<_>>()
                            .join(" / ");
                        let login = s.body.login.as_str().to_owned();
                        self.ask(
                            &format!("{login} の削除する公開鍵の番号: {list}"),
                            Entry::RemoveKey(login),
                            String::new(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// コード表: add an entry to the selected row's table, or edit the selected entry.
    pub(super) fn code_key(&mut self, c: char, at: usize) {
        match c {
            'a' => {
                if let Some((table, rev, _)) = self.code_rows.get(at).cloned() {
                    self.open_form(
                        &format!("コード表「{table}」に追加"),
                        code_fields("", "", "", ""),
                        Form::CodeEntry { table, rev, code: None },
                    );
                }
            }
            'e' | '\n' => {
                if let (Some((table, rev, code)), Some(row)) =
                    (self.code_rows.get(at).cloned(), self.state.codes.get(at).cloned())
                {
                    let date = |c: &str| if c == "-" { String::new() } else { c.to_owned() };
                    let mut fields =
                        code_fields(&code, &row.cells[2], &date(&row.cells[3]), &date(&row.cells[4]));
                    fields.remove(0);
                    self.open_form(
                        &format!("コード表「{table}」のコード {code}"),
                        fields,
                        Form::CodeEntry { table, rev, code: Some(code) },
                    );
                }
            }
            _ => {}
        }
    }

    pub(super) fn dialog_key(&mut self, dialog: Dialog, key: Key) {
        match dialog {
            Dialog::Confirm { question, op } => match key {
                Key::Char('y' | 'Y') => self.run(op),
                Key::Char('n' | 'N') | Key::Esc | Key::CtrlC => self.info("取り消しました"),
                _ => self.state.dialog = Some(Dialog::Confirm { question, op }),
            },
            Dialog::Input { prompt, mut text, entry } => match key {
                Key::Enter => self.submit(entry, text.trim()),
                Key::Esc | Key::CtrlC => self.info("取り消しました"),
                Key::Backspace => {
                    text.pop();
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                Key::Char(c) => {
                    if text.chars().count() < 400 {
                        text.push(c);
                    }
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                _ => self.state.dialog = Some(Dialog::Input { prompt, text, entry }),
            },
            Dialog::Form { title, mut fields, mut focus, form, error } => {
                let last = fields.len().saturating_sub(1);
                match key {
                    Key::Enter => {
                        let texts: Vec<String> = fields.iter().map(|f| f.text.trim().to_owned()).collect();
                        if let Err(reason) = self.submit_form(&form, &texts) {
                            self.state.dialog =
                                Some(Dialog::Form { title, fields, focus, form, error: Some(reason) });
                        }
                        return;
                    }
                    Key::Esc | Key::CtrlC => {
                        self.info("取り消しました");
                        return;
                    }
                    Key::Tab | Key::Down => focus = if focus >= last { 0 } else { focus + 1 },
                    Key::BackTab | Key::Up => focus = if focus == 0 { last } else { focus - 1 },
                    Key::Backspace => {
                        if let Some(f) = fields.get_mut(focus) {
                            f.text.pop();
                        }
                    }
                    Key::Char(c) => {
                        if let Some(f) = fields.get_mut(focus)
                            && f.text.chars().count() < 200
                        {
                            f.text.push(c);
                        }
                    }
                    _ => {}
                }
                self.state.dialog = Some(Dialog::Form { title, fields, focus, form, error });
            }
            Dialog::Shown { .. } => {}
        }
    }
}

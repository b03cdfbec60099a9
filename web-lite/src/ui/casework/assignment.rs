//! 担当 on the case page: the 主担当 and the 副担当, every change of them, and for a supervisor or
//! the head the form that changes them (core checks who may work the case and keeps the change).

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::case::Assign;
use mamoru_core::ids::{CaseId, StaffId};
use mamoru_core::service::CasePageView;
use mamoru_core::{Service, case::Case};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::ticked;
use crate::ui::views::{datetime, staff_name};
use crate::ui::{Page, case_form, case_write, rev, text};

/// One change of the workers, as the case page lists it.
pub(crate) struct ChangeRow {
    pub at: String,
    pub by: String,
    /// 「主担当 A・副担当 B、C」, or 「担当なし」.
    pub to: String,
    pub reason: String,
}

/// The case's workers, their history (newest first) and the form's choices.
pub(crate) struct AssignmentView {
    pub main: Option<String>,
    /// The 副担当, joined; empty when none.
    pub subs: String,
    pub history: Vec<ChangeRow>,
    /// The unit's staff who may work the case: (id, name, chosen as 主担当).
    pub main_choices: Vec<(u64, String, bool)>,
    /// The same staff: (id, name, ticked as 副担当).
    pub sub_choices: Vec<(u64, String, bool)>,
    /// The reason being typed, kept when the server refuses the change.
    pub reason: String,
    /// Who may be chosen: the unit's staff who may work the case, by id.
    pool: Vec<(u64, String)>,
    /// Everyone's names, for one chosen who is not in `pool` (a worker who has left).
    names: HashMap<StaffId, String>,
}

fn workers_line(names: &HashMap<StaffId, String>, assigned: &[StaffId]) -> String {
    let Some((main, subs)) = assigned.split_first() else { return "担当なし".into() };
    let main = staff_name(names, *main);
    if subs.is_empty() {
        return format!("主担当 {main}");
    }
    let subs: Vec<String> = subs.iter().map(|s| staff_name(names, *s)).collect();
    format!("主担当 {main}・副担当 {}", subs.join("、"))
}

impl AssignmentView {
    pub(crate) fn of(d: &CasePageView) -> Self {
        let case: &Case = &d.case.case.body;
        let names = &d.staff_names;
        let main = case.main_worker();
        let subs = case.sub_workers();
        let mut view = Self {
            main: main.map(|s| staff_name(names, s)),
            subs: subs.iter().map(|s| staff_name(names, *s)).collect::<Vec<_>>().join("、"),
            history: case
                .assignments
                .iter()
                .rev()
                .map(|a| ChangeRow {
                    at: datetime(a.at),
                    by: staff_name(names, a.by),
                    to: workers_line(names, &a.assigned),
                    reason: a.reason.clone(),
                })
                .collect(),
            main_choices: Vec::new(),
            sub_choices: Vec::new(),
            reason: String::new(),
            pool: d.workers.iter().map(|(id, n)| (id.0, n.clone())).collect(),
            names: names.clone(),
        };
        view.choose(main.map(|s| s.0), &subs.iter().map(|s| s.0).collect::<Vec<_>>());
        view
    }

    /// The form's choices with `main` chosen and `subs` ticked. One chosen who may no longer
    /// work the case (left the unit, disabled) is offered too, marked, so that sending the form
    /// unchanged keeps them rather than silently dropping them; core refuses them if changed.
    fn choose(&mut self, main: Option<u64>, subs: &[u64]) {
        let mut pool = self.pool.clone();
        for id in main.iter().chain(subs) {
            if !pool.iter().any(|(p, _)| p == id) {
                pool.push((*id, format!("{}（担当できない職員）", staff_name(&self.names, StaffId(*id)))));
            }
        }
        let list = |on: &dyn Fn(u64) -> bool| -> Vec<(u64, String, bool)> {
            pool.iter().map(|(id, n)| (*id, n.clone(), on(*id))).collect()
        };
        self.main_choices = list(&|id| Some(id) == main);
        self.sub_choices = list(&|id| subs.contains(&id));
    }
}

/// What the form says: the 主担当 chosen (`main`, empty: nobody), the 副担当 ticked (`sub_{id}`)
/// and the reason.
fn assign_of(form: &HashMap<String, String>) -> Assign {
    Assign {
        main: text(form, "main").parse().ok().map(StaffId),
        subs: ticked(form, "sub_").iter().filter_map(|s| s.parse().ok()).map(StaffId).collect(),
        reason: text(form, "reason"),
    }
}

/// 担当の変更 from the case page: saved, back at the section; refused, the page again with
/// what was chosen and typed.
pub(super) fn assign(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    case_form(service, "assignment").then(|id: u64, form: HashMap<String, String>, page: Page| {
        let typed = assign_of(&form);
        case_write(
            page,
            id,
            form,
            "assigned#assignment",
            move |p| {
                let subs: Vec<u64> = typed.subs.iter().map(|s| s.0).collect();
                let view = &mut p.work.assignment;
                view.choose(typed.main.map(|s| s.0), &subs);
                view.reason = typed.reason;
            },
            move |svc, s, form| svc.assign_case(&s.actor, CaseId(id), rev(form)?, &assign_of(form)),
        )
    })
}

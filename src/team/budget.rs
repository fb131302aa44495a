//! Monthly budgets, enforced before anything goes to fal. A generation's cost is fal's price
//! for its settings × its runs (each run's estimate already counts its outputs); jobs waiting
//! or at fal count as reserved, completed ones as spent, failed and cancelled ones as nothing.
//! Months are calendar months in UTC, by when a job was queued.

use serde::Serialize;
use time::{Date, Month, OffsetDateTime};
use utoipa::ToSchema;

use super::{
    keys::KeySource,
    settings::{StudioSettings, Unpriced},
};
use crate::{
    catalog::Estimate,
    db::{Conn, Tx},
    error::{AppError, BudgetDetails, BudgetScope, Category, Result},
    jobs::store::{self, CostScope},
    users::UserRow,
};

/// Share of a budget past which the user is warned.
pub const WARN_AT: f64 = 0.8;

/// The current budget month: from its first moment to the next month's (both in the shape of
/// the jobs' `created_at` text, which compares as time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetMonth {
    pub since: String,
    pub resets_at: String,
    /// The day the budget starts again, for messages.
    pub reset_day: Date,
}

impl BudgetMonth {
    pub fn now() -> BudgetMonth {
        BudgetMonth::of(OffsetDateTime::now_utc().date())
    }

    pub fn of(day: Date) -> BudgetMonth {
        let (year, month) = (day.year(), day.month());
        let (next_year, next_month) = match month {
            Month::December => (year + 1, Month::January),
            m => (year, m.next()),
        };
        let stamp = |y: i32, m: Month| format!("{y:04}-{:02}-01T00:00:00.000Z", m as u8);
        BudgetMonth {
            since: stamp(year, month),
            resets_at: stamp(next_year, next_month),
            reset_day: Date::from_calendar_date(next_year, next_month, 1).unwrap_or(day),
        }
    }
}

pub fn micros(usd: f64) -> i64 {
    // Budgets and prices are small, positive and a few decimals long; the clamp keeps a
    // nonsense value from wrapping.
    (usd * 1_000_000.0).round().clamp(0.0, 9.0e15) as i64
}

pub fn usd(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// A month of one budget as a person reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetState {
    /// Null: no limit.
    pub budget_monthly_usd: Option<f64>,
    /// Estimated cost of this month's completed jobs.
    pub spent_month_usd: f64,
    /// Estimated cost of the jobs waiting or running now.
    pub reserved_usd: f64,
    /// Null without a limit.
    pub remaining_usd: Option<f64>,
    pub resets_at: String,
    /// Spent and reserved together reach 80 % of the budget.
    pub warning: bool,
}

impl BudgetState {
    fn new(budget: Option<i64>, (spent, reserved): (i64, i64), month: &BudgetMonth) -> Self {
        let used = spent + reserved;
        BudgetState {
            budget_monthly_usd: budget.map(usd),
            spent_month_usd: usd(spent),
            reserved_usd: usd(reserved),
            remaining_usd: budget.map(|b| usd((b - used).max(0))),
            resets_at: month.resets_at.clone(),
            warning: budget.is_some_and(|b| b > 0 && used as f64 >= WARN_AT * b as f64)
                || budget == Some(0),
        }
    }
}

/// A user's month, read without locking (for their settings page and the admin's list).
pub async fn user_state(conn: impl Into<Conn<'_>>, user: &UserRow) -> Result<BudgetState> {
    let month = BudgetMonth::now();
    let costs = store::month_costs(conn, CostScope::User(&user.id), &month.since).await?;
    Ok(BudgetState::new(user.budget_monthly_micros, costs, &month))
}

/// The studio key's month.
pub async fn studio_state(
    conn: impl Into<Conn<'_>>,
    settings: &StudioSettings,
) -> Result<BudgetState> {
    let month = BudgetMonth::now();
    let costs = store::month_costs(conn, CostScope::StudioKey, &month.since).await?;
    Ok(BudgetState::new(
        settings.budget_monthly_micros,
        costs,
        &month,
    ))
}

/// Decides what each of `runs` new jobs of `user` on `source` counts against its budgets, and
/// refuses (402 `budget_exceeded`) when that would take the user, or the studio key, past
/// what is left this month. Call it inside the write transaction that queues the jobs.
/// `Ok(None)`: no estimate and no budget that needs one.
pub async fn admit(
    tx: &mut Tx,
    settings: &StudioSettings,
    user: &UserRow,
    source: KeySource,
    estimate: Option<&Estimate>,
    runs: u32,
) -> Result<Option<i64>> {
    let priced = estimate.map(|e| micros(e.total_cost));
    let mut budgets: Vec<(BudgetScope, i64, CostScope<'_>)> = Vec::new();
    if let Some(b) = user.budget_monthly_micros {
        budgets.push((BudgetScope::User, b, CostScope::User(&user.id)));
    }
    if source == KeySource::Studio
        && let Some(b) = settings.budget_monthly_micros
    {
        budgets.push((BudgetScope::Studio, b, CostScope::StudioKey));
    }
    if budgets.is_empty() {
        return Ok(priced);
    }
    let month = BudgetMonth::now();
    let per_run = match (priced, settings.unpriced) {
        (Some(cost), _) => cost,
        (None, Unpriced::Reserve) => settings.unpriced_reserve_micros,
        (None, Unpriced::Refuse) => {
            let (scope, budget, cost_scope) = budgets[0];
            let remaining = remaining(tx, budget, cost_scope, &month).await?;
            return Err(AppError::new(
                Category::BudgetExceeded,
                format!(
                    "This generation's cost cannot be estimated (fal's price for this model could not be counted from its settings), and this studio refuses generations it cannot price while a budget applies. {} ${:.2} is left this month; it starts again on {}. Ask the studio's admin to allow unpriced generations.",
                    whose(scope),
                    usd(remaining),
                    reset_day(&month)
                ),
            )
            .with_details(BudgetDetails {
                estimate_usd: None,
                remaining_usd: usd(remaining),
                resets_at: month.resets_at.clone(),
                budget: scope,
            }));
        }
    };
    let total = per_run.saturating_mul(i64::from(runs));
    for (scope, budget, cost_scope) in budgets {
        store::lock_cost_scope(tx, cost_scope).await?;
        let remaining = remaining(tx, budget, cost_scope, &month).await?;
        if total > remaining {
            let runs_text = if runs > 1 {
                format!(" ({runs} runs)")
            } else {
                String::new()
            };
            return Err(AppError::new(
                Category::BudgetExceeded,
                format!(
                    "This generation is estimated at ${:.2}{runs_text}, and {} ${:.2} is left this month (jobs still waiting or running count as reserved). The budget starts again on {}. Ask for fewer runs or outputs, or ask the studio's admin to raise the budget.",
                    usd(total),
                    whose(scope).to_lowercase(),
                    usd(remaining),
                    reset_day(&month),
                ),
            )
            .with_details(BudgetDetails {
                estimate_usd: Some(usd(total)),
                remaining_usd: usd(remaining),
                resets_at: month.resets_at.clone(),
                budget: scope,
            }));
        }
    }
    Ok(Some(per_run))
}

async fn remaining(
    tx: &mut Tx,
    budget: i64,
    scope: CostScope<'_>,
    month: &BudgetMonth,
) -> Result<i64> {
    let (spent, reserved) = store::month_costs(&mut *tx, scope, &month.since).await?;
    Ok((budget - spent - reserved).max(0))
}

fn whose(scope: BudgetScope) -> &'static str {
    match scope {
        BudgetScope::User => "Of your budget,",
        BudgetScope::Studio => "Of the studio key's budget,",
    }
}

/// "1 January 2027".
fn reset_day(month: &BudgetMonth) -> String {
    let d = month.reset_day;
    format!("{} {} {}", d.day(), d.month(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: Month, day: u8) -> Date {
        Date::from_calendar_date(year, month, day).expect("a real date")
    }

    #[test]
    fn months_run_from_the_first_to_the_next_first() {
        let december = BudgetMonth::of(date(2026, Month::December, 4));
        assert_eq!(december.since, "2026-12-01T00:00:00.000Z");
        assert_eq!(december.resets_at, "2027-01-01T00:00:00.000Z");
        assert_eq!(
            BudgetMonth::of(date(2027, Month::February, 28)).resets_at,
            "2027-03-01T00:00:00.000Z"
        );
        assert_eq!(
            reset_day(&BudgetMonth::of(date(2026, Month::December, 4))),
            "1 January 2027"
        );
    }

    #[test]
    fn money_goes_to_micro_dollars_and_back() {
        assert_eq!(micros(0.035), 35_000);
        assert_eq!(micros(-1.0), 0);
        assert_eq!(usd(1_250_000), 1.25);
    }

    #[test]
    fn the_warning_starts_at_eighty_percent() {
        let month = BudgetMonth::of(date(2026, Month::December, 4));
        assert!(!BudgetState::new(Some(10_000_000), (7_000_000, 0), &month).warning);
        assert!(BudgetState::new(Some(10_000_000), (7_000_000, 1_000_000), &month).warning);
        assert!(!BudgetState::new(None, (7_000_000, 0), &month).warning);
        let state = BudgetState::new(Some(1_000_000), (900_000, 300_000), &month);
        assert_eq!(state.remaining_usd, Some(0.0));
    }
}

//! Teams: roles, the studio key, budgets and the admin's view of usage. Admin routes live under
//! `/api/admin/…` and answer a member exactly as an unknown route does (404).

pub mod budget;
pub mod keys;
pub mod reconcile;
pub mod settings;

pub use keys::KeySource;

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, OriginalUri, Path, Query, State},
    http::request::Parts,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use self::{
    budget::{BudgetState, micros, usd},
    settings::{STUDIO_KEY_OWNER, StudioSettings, Unpriced},
};
use crate::{
    AppState,
    account::{check_concurrency, check_key_shape, checked_with_fal},
    auth::CurrentUser,
    db::{self, Db},
    error::{AppError, AppJson, Result},
    jobs::store::{self, UsageGroup},
    users::{self, AccountChange, Role, UserRow},
};

/// The largest monthly budget accepted, in USD: far past any real one, small enough that
/// micro-dollar sums cannot overflow.
const MAX_BUDGET_USD: f64 = 1_000_000.0;
/// The longest media expiry fal is asked for: a year.
const MAX_EXPIRY_SECONDS: i64 = 365 * 86_400;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(change_user))
        .routes(routes!(studio_key, set_studio_key, remove_studio_key))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(usage))
        .routes(routes!(my_budget))
}

/// A signed-in admin. To anyone else an admin route answers what an unknown route does.
pub struct Admin(pub UserRow);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            return Ok(Admin(user));
        }
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.0.path().to_owned());
        Err(AppError::not_found(format!(
            "There is no API route {} {path}. Check the path and method.",
            parts.method
        )))
    }
}

/// An account as the admin sees it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminUser {
    id: String,
    email: String,
    role: Role,
    disabled: bool,
    /// The key this account's new jobs would run on.
    key_source: KeySource,
    may_use_studio_key: bool,
    /// Null: no limit.
    budget_monthly_usd: Option<f64>,
    /// Estimated cost of this month's completed jobs.
    spent_month_usd: f64,
    /// Estimated cost of the jobs waiting or running now.
    reserved_usd: f64,
}

#[derive(Serialize, ToSchema)]
struct AdminUsers {
    users: Vec<AdminUser>,
}

fn admin_view(user: &UserRow, settings: &StudioSettings, costs: (i64, i64)) -> AdminUser {
    AdminUser {
        id: user.id.clone(),
        email: user.email.clone(),
        role: user.role,
        disabled: user.disabled_at.is_some(),
        key_source: KeySource::for_user(user, settings),
        may_use_studio_key: user.may_use_studio_key,
        budget_monthly_usd: user.budget_monthly_micros.map(usd),
        spent_month_usd: usd(costs.0),
        reserved_usd: usd(costs.1),
    }
}

/// Every account, with its role, key, budget and this month's spend.
#[utoipa::path(
    get, path = "/admin/users", operation_id = "adminListUsers", tag = "admin",
    responses(
        (status = 200, body = AdminUsers),
        (status = 404, description = "Not an admin: the route does not exist for you.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn list_users(State(state): State<AppState>, _admin: Admin) -> Result<AppJson<AdminUsers>> {
    let settings = settings::load(&state.db).await?;
    let month = budget::BudgetMonth::now();
    let costs: HashMap<String, (i64, i64)> = store::month_costs_by_user(&state.db, &month.since)
        .await?
        .into_iter()
        .map(|(id, spent, reserved)| (id, (spent, reserved)))
        .collect();
    let users = users::all(&state.db)
        .await?
        .iter()
        .map(|u| admin_view(u, &settings, costs.get(&u.id).copied().unwrap_or((0, 0))))
        .collect();
    Ok(AppJson(AdminUsers { users }))
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent (with `#[serde(default)]`).
fn null_or_value<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserChange {
    role: Option<Role>,
    /// A disabled account is signed out at once, cannot sign in, and its unfinished jobs are
    /// cancelled.
    disabled: Option<bool>,
    may_use_studio_key: Option<bool>,
    /// USD per calendar month (UTC); null: no limit.
    #[serde(default, deserialize_with = "null_or_value")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1000000)]
    budget_monthly_usd: Option<Option<f64>>,
}

fn check_budget(field: &str, value: Option<f64>) -> Result<Option<i64>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=MAX_BUDGET_USD).contains(&v) => Ok(Some(micros(v))),
        Some(_) => {
            let message = format!(
                "must be a number of US dollars from 0 to {MAX_BUDGET_USD}, or null for no limit"
            );
            Err(
                AppError::invalid_request(format!("{field} {message}. Nothing was changed."))
                    .with_field_problem(field, message),
            )
        }
    }
}

/// Changes an account's role, whether it is disabled, whether it may use the studio key, or its
/// budget. Disabling signs the account out everywhere at once.
#[utoipa::path(
    patch, path = "/admin/users/{id}", operation_id = "adminChangeUser", tag = "admin",
    params(("id" = String, Path, description = "The account")),
    request_body = UserChange,
    responses(
        (status = 200, body = AdminUser),
        (status = 404, description = "No such account, or not an admin.", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The change would leave the studio without an enabled admin.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A value out of range.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn change_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<UserChange>,
) -> Result<AppJson<AdminUser>> {
    let change = AccountChange {
        role: body.role,
        disabled: body.disabled,
        may_use_studio_key: body.may_use_studio_key,
        budget_monthly_micros: match body.budget_monthly_usd {
            None => None,
            Some(value) => Some(check_budget("budgetMonthlyUsd", value)?),
        },
    };
    let user = change_account(&state.db, &id, &change)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such account."))?;
    if change.disabled == Some(true) {
        let ended = state.sessions.end_all_of(&user.id).await?;
        // Its queued and running jobs stop too: a disabled account spends nothing more.
        let cancelled = crate::jobs::cancel_all_of(&state, &user.id).await?;
        tracing::info!(user_id = %user.id, by = %admin.id, sessions = ended, cancelled, "account disabled");
    }
    let settings = settings::load(&state.db).await?;
    let costs = budget::user_state(&state.db, &user).await?;
    Ok(AppJson(admin_view(
        &user,
        &settings,
        (micros(costs.spent_month_usd), micros(costs.reserved_usd)),
    )))
}

/// Applies an admin's change to an account, keeping at least one enabled admin. `Ok(None)`: no
/// such account. Shared by the admin page and `fal-studio admin set-role`.
pub async fn change_account(db: &Db, id: &str, change: &AccountChange) -> Result<Option<UserRow>> {
    let mut tx = db::begin_write(db).await?;
    users::lock_enabled_admins(&mut tx).await?;
    let Some(user) = users::change(&mut tx, id, change).await? else {
        return Ok(None);
    };
    if users::lock_enabled_admins(&mut tx).await?.is_empty() {
        return Err(AppError::conflict(
            "This would leave the studio without an enabled admin. Make another account an admin first.",
        ));
    }
    tx.commit().await?;
    Ok(Some(user))
}

/// Whether a studio key is saved; never the key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StudioKeyState {
    present: bool,
    /// The key's public half (before the ':'), to tell keys apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
}

impl From<&StudioSettings> for StudioKeyState {
    fn from(s: &StudioSettings) -> Self {
        StudioKeyState {
            present: s.key_ciphertext.is_some(),
            key_id: s.key_ciphertext.as_ref().and(s.key_id.clone()),
        }
    }
}

/// Whether the studio key is saved (never the key itself).
#[utoipa::path(
    get, path = "/admin/studio-key", operation_id = "adminGetStudioKey", tag = "admin",
    responses((status = 200, body = StudioKeyState), (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope)),
)]
async fn studio_key(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<AppJson<StudioKeyState>> {
    Ok(AppJson(StudioKeyState::from(
        &settings::load(&state.db).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
struct NewStudioKey {
    /// The whole key from fal's dashboard: key id, colon, secret.
    #[schema(max_length = 512)]
    key: String,
}

/// Checks a fal key with fal and saves it, encrypted, as the studio key. It is never sent back.
#[utoipa::path(
    put, path = "/admin/studio-key", operation_id = "adminSetStudioKey", tag = "admin",
    request_body = NewStudioKey,
    responses(
        (status = 200, body = StudioKeyState),
        (status = 401, description = "fal rejected the key (invalid_key). Nothing was saved.", body = crate::error::ErrorEnvelope),
        (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Not shaped like a key. Nothing was saved.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn set_studio_key(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AppJson(body): AppJson<NewStudioKey>,
) -> Result<AppJson<StudioKeyState>> {
    let key = check_key_shape(&body.key)?;
    checked_with_fal(&state, &key).await?;
    let ciphertext = state
        .cipher
        .encrypt(key.expose(), STUDIO_KEY_OWNER)
        .map_err(|e| AppError::Internal(e.into()))?;
    let key_id = key
        .expose()
        .split_once(':')
        .map(|(id, _)| id.chars().take(64).collect::<String>());
    settings::set_key(&state.db, Some(&ciphertext), key_id.as_deref()).await?;
    tracing::info!(by = %admin.id, "studio key saved");
    Ok(AppJson(StudioKeyState {
        present: true,
        key_id,
    }))
}

/// Forgets the studio key. Members without a key of their own cannot generate until one is
/// saved again; their queued jobs fail, saying why.
#[utoipa::path(
    delete, path = "/admin/studio-key", operation_id = "adminRemoveStudioKey", tag = "admin",
    responses((status = 200, body = StudioKeyState), (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope)),
)]
async fn remove_studio_key(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<AppJson<StudioKeyState>> {
    settings::set_key(&state.db, None, None).await?;
    tracing::info!(by = %admin.id, "studio key removed");
    Ok(AppJson(StudioKeyState {
        present: false,
        key_id: None,
    }))
}

/// What fal keeps of the studio's requests.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ProviderRetention {
    /// false: every request carries `X-Fal-Store-IO: 0`, so fal keeps no copy of its inputs
    /// and outputs in its request history.
    store_io: bool,
    /// Seconds fal keeps the files it makes and the studio uploads
    /// (`X-Fal-Object-Lifecycle-Preference`); null: fal's default (at least 7 days).
    #[schema(minimum = 60, maximum = 31536000)]
    media_expiry_seconds: Option<i64>,
}

/// The studio's settings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    provider_retention: ProviderRetention,
    /// Requests the studio key may have at fal at once.
    studio_key_concurrency: i64,
    /// Null: no limit.
    studio_budget_monthly_usd: Option<f64>,
    /// When a budget applies and a generation's cost cannot be estimated: refuse it, or run it
    /// reserving `unpricedReserveUsd` per run.
    unpriced_generations: Unpriced,
    unpriced_reserve_usd: f64,
    studio_key: StudioKeyState,
    /// This month on the studio key.
    studio_budget: BudgetState,
}

async fn settings_view(state: &AppState, s: &StudioSettings) -> Result<SettingsView> {
    Ok(SettingsView {
        provider_retention: ProviderRetention {
            store_io: s.store_io,
            media_expiry_seconds: s.media_expiry_seconds,
        },
        studio_key_concurrency: s
            .key_concurrency
            .unwrap_or(state.job_limits.key_concurrency as i64),
        studio_budget_monthly_usd: s.budget_monthly_micros.map(usd),
        unpriced_generations: s.unpriced,
        unpriced_reserve_usd: usd(s.unpriced_reserve_micros),
        studio_key: StudioKeyState::from(s),
        studio_budget: budget::studio_state(&state.db, s).await?,
    })
}

/// The studio's settings: retention at fal, the studio key's concurrency and budget.
#[utoipa::path(
    get, path = "/admin/settings", operation_id = "adminGetSettings", tag = "admin",
    responses((status = 200, body = SettingsView), (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope)),
)]
async fn get_settings(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<AppJson<SettingsView>> {
    let s = settings::load(&state.db).await?;
    Ok(AppJson(settings_view(&state, &s).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsChange {
    provider_retention: Option<ProviderRetention>,
    #[schema(minimum = 1, maximum = 1000)]
    studio_key_concurrency: Option<i64>,
    /// USD per calendar month (UTC) on the studio key; null: no limit.
    #[serde(default, deserialize_with = "null_or_value")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1000000)]
    studio_budget_monthly_usd: Option<Option<f64>>,
    unpriced_generations: Option<Unpriced>,
    #[schema(minimum = 0, maximum = 1000000)]
    unpriced_reserve_usd: Option<f64>,
}

/// Changes the studio's settings; fields left out keep their values.
#[utoipa::path(
    put, path = "/admin/settings", operation_id = "adminSetSettings", tag = "admin",
    request_body = SettingsChange,
    responses(
        (status = 200, body = SettingsView),
        (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A value out of range; nothing was changed.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn put_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AppJson(body): AppJson<SettingsChange>,
) -> Result<AppJson<SettingsView>> {
    let mut s = settings::load(&state.db).await?;
    if let Some(retention) = body.provider_retention {
        if let Some(seconds) = retention.media_expiry_seconds
            && !(60..=MAX_EXPIRY_SECONDS).contains(&seconds)
        {
            let message = format!(
                "must be from 60 to {MAX_EXPIRY_SECONDS} seconds, or null for fal's default"
            );
            return Err(AppError::invalid_request(format!(
                "providerRetention.mediaExpirySeconds {message}. Nothing was changed."
            ))
            .with_field_problem("providerRetention.mediaExpirySeconds", message));
        }
        s.store_io = retention.store_io;
        s.media_expiry_seconds = retention.media_expiry_seconds;
    }
    if let Some(n) = body.studio_key_concurrency {
        s.key_concurrency = check_concurrency(Some(n)).map_err(|e| {
            e.with_field_problem(
                "studioKeyConcurrency",
                "must be a whole number from 1 to 1000",
            )
        })?;
    }
    if let Some(budget) = body.studio_budget_monthly_usd {
        s.budget_monthly_micros = check_budget("studioBudgetMonthlyUsd", budget)?;
    }
    if let Some(policy) = body.unpriced_generations {
        s.unpriced = policy;
    }
    if let Some(reserve) = body.unpriced_reserve_usd {
        s.unpriced_reserve_micros = check_budget("unpricedReserveUsd", Some(reserve))?.unwrap_or(0);
    }
    settings::save(&state.db, &s).await?;
    tracing::info!(by = %admin.id, "studio settings changed");
    Ok(AppJson(settings_view(&state, &s).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct UsageQuery {
    /// First day (UTC, YYYY-MM-DD), included; default: the first of this month.
    from: Option<String>,
    /// Last day (UTC, YYYY-MM-DD), included; default: today.
    to: Option<String>,
    /// `user`, `model` or `day`; default `day`.
    #[param(inline)]
    group_by: Option<UsageGroup>,
}

/// One group of usage.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UsageLine {
    /// The user's id, the endpoint id, or the day (YYYY-MM-DD).
    key: String,
    /// The user's email or the model's name; the day again for days.
    label: String,
    /// fal's prices for the jobs' settings, as the studio estimated them.
    estimated_usd: f64,
    /// What fal's usage line items say was charged, once reconciled; absent until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    reconciled_usd: Option<f64>,
    /// Completed jobs.
    jobs: i64,
    /// Of `jobs`, those fal publishes no price for: `estimatedUsd` counts them as nothing.
    unpriced_jobs: i64,
}

#[derive(Serialize, ToSchema)]
struct Usage {
    from: String,
    to: String,
    rows: Vec<UsageLine>,
}

fn day_arg(field: &str, value: &str) -> Result<time::Date> {
    let parts: Vec<&str> = value.split('-').collect();
    let parsed = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) {
                (Ok(y), Ok(m), Ok(d)) => time::Month::try_from(m)
                    .ok()
                    .and_then(|m| time::Date::from_calendar_date(y, m, d).ok()),
                _ => None,
            }
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        AppError::invalid_request(format!(
            "{field} must be a day as YYYY-MM-DD, not {value:?}."
        ))
        .with_field_problem(field, "must be a day as YYYY-MM-DD")
    })
}

/// Estimated spend of completed jobs, grouped by user, model or day (the admin's usage page).
#[utoipa::path(
    get, path = "/admin/usage", operation_id = "adminUsage", tag = "admin",
    params(UsageQuery),
    responses(
        (status = 200, body = Usage),
        (status = 404, description = "Not an admin.", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A day not shaped YYYY-MM-DD, or `from` after `to`.", body = crate::error::ErrorEnvelope),
    ),
)]
async fn usage(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<UsageQuery>,
) -> Result<AppJson<Usage>> {
    let today = time::OffsetDateTime::now_utc().date();
    let from = match &query.from {
        Some(v) => day_arg("from", v)?,
        None => today.replace_day(1).unwrap_or(today),
    };
    let to = match &query.to {
        Some(v) => day_arg("to", v)?,
        None => today,
    };
    if from > to {
        return Err(AppError::invalid_request("from must not be after to.")
            .with_field_problem("from", "is after to"));
    }
    let end = to.next_day().unwrap_or(to);
    let group = query.group_by.unwrap_or(UsageGroup::Day);
    let rows = store::usage(
        &state.db,
        group,
        &format!("{from}T00:00:00.000Z"),
        &format!("{end}T00:00:00.000Z"),
    )
    .await?;
    let emails: HashMap<String, String> = if group == UsageGroup::User {
        users::all(&state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect()
    } else {
        HashMap::new()
    };
    let rows = rows
        .into_iter()
        .map(|r| UsageLine {
            label: match group {
                UsageGroup::User => emails.get(&r.key).cloned().unwrap_or_else(|| r.key.clone()),
                UsageGroup::Model => r.model_name.clone().unwrap_or_else(|| r.key.clone()),
                UsageGroup::Day => r.key.clone(),
            },
            key: r.key,
            estimated_usd: usd(r.cost_micros),
            reconciled_usd: r.charged_micros.map(usd),
            jobs: r.jobs,
            unpriced_jobs: r.unpriced_jobs,
        })
        .collect();
    Ok(AppJson(Usage {
        from: from.to_string(),
        to: to.to_string(),
        rows,
    }))
}

/// The signed-in user's key and budget this month.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MyBudget {
    /// The key new jobs will run on.
    key_source: KeySource,
    #[serde(flatten)]
    budget: BudgetState,
}

/// Which key your generations use, your monthly budget and what is left of it.
#[utoipa::path(
    get, path = "/account/budget", operation_id = "getMyBudget", tag = "account",
    responses((status = 200, body = MyBudget), (status = 401, description = "Not signed in.", body = crate::error::ErrorEnvelope)),
)]
async fn my_budget(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<AppJson<MyBudget>> {
    let settings = settings::load(&state.db).await?;
    Ok(AppJson(MyBudget {
        key_source: KeySource::for_user(&user, &settings),
        budget: budget::user_state(&state.db, &user).await?,
    }))
}

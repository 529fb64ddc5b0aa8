//! `campaign list|get|create|update|enable|disable|delete`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::body::{self, BodyArgs, Flags};
use super::context::Context;
use super::entity::{self, BudgetMode, Entity, EntityCommand};
use crate::api::campaign::{self as rules, CAMPAIGN};

pub(crate) type CampaignCommand = EntityCommand<CreateArgs, UpdateArgs>;

pub(crate) static ENTITY: Entity = Entity {
    resource: &CAMPAIGN,
    command: "campaign",
    known_fields: crate::catalog::CAMPAIGN_FIELDS,
    default_columns: &[
        "campaign_id",
        "campaign_name",
        "operation_status",
        "secondary_status",
        "objective_type",
        "budget_mode",
        "budget",
        "currency",
        "create_time",
    ],
    objective_filter: true,
    parent_filters: &[],
};

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Campaign name (at most 512 characters, no emoji).
    #[arg(long)]
    pub name: Option<String>,
    /// Objective, e.g. TRAFFIC, REACH, VIDEO_VIEWS, WEB_CONVERSIONS.
    #[arg(long)]
    pub objective: Option<String>,
    /// Budget in the account currency (day or lifetime, see --budget-mode).
    #[arg(long, value_name = "AMOUNT")]
    pub budget: Option<String>,
    /// Budget mode [default: day when --budget is given].
    #[arg(long, value_enum)]
    pub budget_mode: Option<BudgetMode>,
    /// Let TikTok spread the budget across ad groups (campaign budget optimization).
    #[arg(long)]
    pub cbo: bool,
    /// Special ad categories: HOUSING, EMPLOYMENT, CREDIT.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub special_industries: Vec<String>,
    /// Create it switched off.
    #[arg(long)]
    pub disabled: bool,
    #[command(flatten)]
    pub body: BodyArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New budget in the account currency (at least 105% of what was spent so far).
    #[arg(long, value_name = "AMOUNT")]
    pub budget: Option<String>,
    /// Purchase order number.
    #[arg(long)]
    pub po_number: Option<String>,
    /// Show before → after for the fields that change.
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub body: BodyArgs,
}

pub(crate) async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let flags = Flags::default()
        .text("campaign_name", &args.name)
        .enumeration("objective_type", &args.objective)
        .number("budget", &args.budget)
        .value("budget_mode", args.budget_mode.map(|m| json!(m.api_name())))
        .value("budget_optimize_on", args.cbo.then(|| json!(true)))
        .enum_list("special_industries", &args.special_industries)
        .value("operation_status", args.disabled.then(|| json!("DISABLE")));
    let mut body = entity::new_body(ctx, &args.body, flags)?;
    if body.contains_key("budget") {
        body::default(&mut body, "budget_mode", json!("BUDGET_MODE_DAY"));
    }
    entity::create(ctx, &ENTITY, &args.body, body, rules::validate_create).await
}

pub(crate) async fn update(ctx: &Context, args: UpdateArgs) -> Result<()> {
    entity::update(
        ctx,
        &ENTITY,
        entity::UpdateRequest {
            id: &args.id,
            body: &args.body,
            diff: args.diff,
            flags: Flags::default()
                .text("campaign_name", &args.name)
                .number("budget", &args.budget)
                .text("po_number", &args.po_number)
                .into_map(),
        },
        rules::validate_update,
        entity::plain_update_body(&ENTITY),
    )
    .await
}

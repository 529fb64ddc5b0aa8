//! `adgroup list|get|create|update|enable|disable|delete`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::json;

use super::body::{self, BodyArgs, Flags};
use super::context::Context;
use super::entity::{self, BudgetMode, Entity, EntityCommand};
use crate::api::adgroup::{self as rules, ADGROUP};

pub(crate) type AdgroupCommand = EntityCommand<CreateArgs, UpdateArgs>;

pub(crate) static ENTITY: Entity = Entity {
    resource: &ADGROUP,
    command: "adgroup",
    known_fields: crate::catalog::ADGROUP_FIELDS,
    default_columns: &[
        "adgroup_id",
        "adgroup_name",
        "campaign_id",
        "operation_status",
        "secondary_status",
        "optimization_goal",
        "budget_mode",
        "budget",
        "currency",
        "create_time",
    ],
    objective_filter: true,
    parent_filters: &["campaign"],
};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BidType {
    /// Maximum delivery.
    NoBid,
    /// A cost or bid cap (--bid-price / --conversion-bid-price).
    Custom,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Pacing {
    Smooth,
    Fast,
}

/// Targeting and delivery flags shared by create and update.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// Ad group name (at most 512 characters, no emoji).
    #[arg(long)]
    pub name: Option<String>,
    /// Budget in the account currency.
    #[arg(long, value_name = "AMOUNT")]
    pub budget: Option<String>,
    /// Start, `YYYY-MM-DD HH:MM:SS` UTC [create default: now].
    #[arg(long, value_name = "TIME")]
    pub schedule_start: Option<String>,
    /// End, `YYYY-MM-DD HH:MM:SS` UTC (needed with a lifetime budget).
    #[arg(long, value_name = "TIME")]
    pub schedule_end: Option<String>,
    /// Bid or cost cap for CPC/CPM/CPV billing.
    #[arg(long, value_name = "AMOUNT")]
    pub bid_price: Option<String>,
    /// Target cost per conversion for OCPM billing.
    #[arg(long, value_name = "AMOUNT")]
    pub conversion_bid_price: Option<String>,
    /// Delivery pacing [create default: smooth].
    #[arg(long, value_enum)]
    pub pacing: Option<Pacing>,
    /// Location IDs (from `tiktok-ads region list`).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub location_ids: Vec<String>,
    /// GENDER_UNLIMITED, GENDER_MALE or GENDER_FEMALE.
    #[arg(long)]
    pub gender: Option<String>,
    /// Age groups, e.g. AGE_18_24,AGE_25_34.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub age_groups: Vec<String>,
}

impl DeliveryArgs {
    fn flags(&self) -> Flags {
        Flags::default()
            .text("adgroup_name", &self.name)
            .number("budget", &self.budget)
            .text("schedule_start_time", &self.schedule_start)
            .text("schedule_end_time", &self.schedule_end)
            .number("bid_price", &self.bid_price)
            .number("conversion_bid_price", &self.conversion_bid_price)
            .value(
                "pacing",
                self.pacing.map(|p| {
                    json!(match p {
                        Pacing::Smooth => "PACING_MODE_SMOOTH",
                        Pacing::Fast => "PACING_MODE_FAST",
                    })
                }),
            )
            .list("location_ids", &self.location_ids)
            .enumeration("gender", &self.gender)
            .enum_list("age_groups", &self.age_groups)
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The campaign to create it in.
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Budget mode [default: day].
    #[arg(long, value_enum)]
    pub budget_mode: Option<BudgetMode>,
    /// Optimization goal, e.g. CLICK, CONVERT, REACH.
    #[arg(long)]
    pub optimization_goal: Option<String>,
    /// Billing event: CPC, CPM, CPV or OCPM.
    #[arg(long)]
    pub billing_event: Option<String>,
    /// Bidding [default: no-bid].
    #[arg(long, value_enum)]
    pub bid_type: Option<BidType>,
    /// Promotion type, e.g. WEBSITE, APP_ANDROID, LEAD_GENERATION.
    #[arg(long)]
    pub promotion_type: Option<String>,
    /// Placements, e.g. PLACEMENT_TIKTOK,PLACEMENT_PANGLE [default: automatic placement].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub placements: Vec<String>,
    /// Pixel for web conversion goals.
    #[arg(long, value_name = "ID")]
    pub pixel_id: Option<String>,
    /// Conversion event for web conversion goals.
    #[arg(long)]
    pub optimization_event: Option<String>,
    /// Create it switched off.
    #[arg(long)]
    pub disabled: bool,
    #[command(flatten)]
    pub body: BodyArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Show before → after for the fields that change.
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub body: BodyArgs,
}

pub(crate) async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let flags = args
        .delivery
        .flags()
        .text("campaign_id", &args.campaign)
        .value("budget_mode", args.budget_mode.map(|m| json!(m.api_name())))
        .enumeration("optimization_goal", &args.optimization_goal)
        .enumeration("billing_event", &args.billing_event)
        .value(
            "bid_type",
            args.bid_type.map(|b| {
                json!(match b {
                    BidType::NoBid => "BID_TYPE_NO_BID",
                    BidType::Custom => "BID_TYPE_CUSTOM",
                })
            }),
        )
        .enumeration("promotion_type", &args.promotion_type)
        .enum_list("placements", &args.placements)
        .text("pixel_id", &args.pixel_id)
        .enumeration("optimization_event", &args.optimization_event)
        .value("operation_status", args.disabled.then(|| json!("DISABLE")));
    let mut body = entity::new_body(ctx, &args.body, flags)?;
    // Defaults fill only what neither the file nor a flag set.
    let placement = if body.contains_key("placements") {
        "PLACEMENT_TYPE_NORMAL"
    } else {
        "PLACEMENT_TYPE_AUTOMATIC"
    };
    body::default(&mut body, "placement_type", json!(placement));
    if body.contains_key("budget") {
        body::default(&mut body, "budget_mode", json!("BUDGET_MODE_DAY"));
    }
    let schedule = if body.contains_key("schedule_end_time") {
        "SCHEDULE_START_END"
    } else {
        "SCHEDULE_FROM_NOW"
    };
    body::default(&mut body, "schedule_type", json!(schedule));
    let now = chrono::Utc::now()
        .format(crate::api::rules::TIME_FORMAT)
        .to_string();
    body::default(&mut body, "schedule_start_time", json!(now));
    body::default(&mut body, "pacing", json!("PACING_MODE_SMOOTH"));
    body::default(&mut body, "bid_type", json!("BID_TYPE_NO_BID"));
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
            flags: args.delivery.flags().into_map(),
        },
        rules::validate_update,
        entity::plain_update_body(&ENTITY),
    )
    .await
}

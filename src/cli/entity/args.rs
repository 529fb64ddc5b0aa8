//! The flags the entity commands share.

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Switched on (operation_status ENABLE), not deleted.
    Enabled,
    /// Switched off.
    Disabled,
    /// Deleted only.
    Deleted,
    /// Everything, deleted included.
    All,
    /// Delivering now.
    Delivering,
    /// Not delivering (for any reason).
    NotDelivering,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only these IDs (repeat or comma-separate; sent 100 at a time).
    #[arg(long = "id", value_name = "ID", value_delimiter = ',')]
    pub ids: Vec<String>,
    /// Only names containing this text.
    #[arg(long)]
    pub name: Option<String>,
    /// Status filter (deleted objects are left out unless asked for).
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Only this objective (e.g. TRAFFIC).
    #[arg(long)]
    pub objective: Option<String>,
    /// Created at or after (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC).
    #[arg(long, value_name = "TIME")]
    pub created_since: Option<String>,
    /// Created at or before (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC).
    #[arg(long, value_name = "TIME")]
    pub created_until: Option<String>,
    /// Columns, comma-separated (any field of the object; `currency` comes from the account).
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
    /// Stop after N rows.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Rows per request (1-1000).
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Only under these campaigns (ad group and ad lists).
    #[arg(long = "campaign", value_name = "ID", value_delimiter = ',')]
    pub campaigns: Vec<String>,
    /// Only under these ad groups (ad lists).
    #[arg(long = "adgroup", value_name = "ID", value_delimiter = ',')]
    pub adgroups: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    pub id: String,
    /// Columns, comma-separated (default: every field on a terminal and in JSON).
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// IDs to change.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Do not ask before deleting (needed for delete when not on a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Print the JSON bodies that would be sent (batches of 20) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `--budget-mode` in words; the API names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BudgetMode {
    /// A daily budget.
    Day,
    /// A lifetime budget.
    Total,
    /// No limit.
    Infinite,
    /// An average daily budget over a week (a day may reach 125%).
    DynamicDaily,
}

impl BudgetMode {
    pub fn api_name(self) -> &'static str {
        match self {
            BudgetMode::Day => "BUDGET_MODE_DAY",
            BudgetMode::Total => "BUDGET_MODE_TOTAL",
            BudgetMode::Infinite => "BUDGET_MODE_INFINITE",
            BudgetMode::DynamicDaily => "BUDGET_MODE_DYNAMIC_DAILY_BUDGET",
        }
    }
}

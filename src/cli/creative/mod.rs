//! `creative upload|wait|list|get`: the images and videos of an ad account's library.

mod files;
mod library;
mod upload;
mod wait;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::context::Context;

pub(crate) use files::{MediaRef, resolve_media};

#[derive(Debug, Subcommand)]
pub enum CreativeCommand {
    /// Upload images (JPG, PNG) and videos (MP4, MOV, MPEG, AVI, 3GP) to ad accounts, each
    /// once: a rerun uploads nothing and prints the recorded IDs.
    Upload(UploadArgs),
    /// Wait until TikTok has processed videos (30 s to 5 min after their upload).
    Wait(WaitArgs),
    /// The account's images or videos (newest first).
    List(ListArgs),
    /// Images or videos by ID, as TikTok describes them.
    Get(GetArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files, or directories of them (recognised by their bytes, not their extension).
    #[arg(required = true, value_name = "PATH", value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// The name each upload gets in the library (unique per account, at most 100
    /// characters): {stem}, {ext}, {md5} (its first 8 characters), {md5_full}.
    #[arg(long, value_name = "TEMPLATE", default_value = crate::creative::name::DEFAULT_TEMPLATE)]
    pub name: String,
    /// Look in the subdirectories of directories too.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Upload even files the local record says each account already has.
    #[arg(long)]
    pub force: bool,
    /// Files uploaded at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
    /// Then wait until TikTok has processed the videos (see `creative wait`).
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub waiting: WaitingArgs,
    /// Show what would be uploaded (and what is already there, by the local record); send
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct WaitingArgs {
    /// With --wait: give up waiting after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait_timeout: u64,
    /// First wait between checks, in milliseconds (doubles up to 10 s).
    #[arg(long, default_value_t = 3000, hide = true)]
    pub poll_ms: u64,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Video IDs (`video_id`).
    #[arg(required = true, value_name = "VIDEO_ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub waiting: WaitingArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Videos or images.
    #[arg(long = "type", value_name = "TYPE", default_value = "video", value_parser = ["video", "image"])]
    pub kind: String,
    /// Only names containing this (videos: TikTok's fuzzy match; images: filtered here).
    #[arg(long, value_name = "SUBSTRING")]
    pub name: Option<String>,
    /// Only those created on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Image or video IDs (image IDs may hold a `/`).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// What the IDs are.
    #[arg(long = "type", value_name = "TYPE", default_value = "video", value_parser = ["video", "image"])]
    pub kind: String,
}

pub(crate) async fn run(ctx: &Context, command: CreativeCommand) -> Result<()> {
    match command {
        CreativeCommand::Upload(args) => upload::run(ctx, args).await,
        CreativeCommand::Wait(args) => wait::run(ctx, args).await,
        CreativeCommand::List(args) => library::list(ctx, args).await,
        CreativeCommand::Get(args) => library::get(ctx, args).await,
    }
}

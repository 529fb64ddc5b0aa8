//! `tiktok-ads mock`: a local simulator of the TikTok endpoints this tool uses, as strict as
//! TikTok (it issues and checks tokens and app secrets, validates every parameter, answers in
//! the envelope with TikTok's codes) and with data that holds together (deterministic per seed,
//! totals equal to the sum of their parts). A control API under `/_mock/` sets faults at run
//! time and reads the request log. Independent of the client: it shares only TikTok's
//! vocabulary (`crate::catalog`). Loopback only.

// Handlers return `Result<_, Response>` so an error answer can be returned early, as axum
// code usually does; a response per request is not worth boxing.
#![allow(clippy::result_large_err)]

mod accounts;
mod answer;
mod auth;
mod bc;
pub mod browser;
mod control;
mod dmp;
mod entities;
mod faults;
mod library;
mod params;
mod regions;
mod reports;
mod review;
mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use serde_json::Value;

pub use faults::Faults;
pub use world::{APP_ID, BC_ID, MAX_ACCOUNTS, SeedAccount, WorldSize};

use params::{Checked, Params};
use world::World;

/// How the simulator starts.
#[derive(Debug, Clone, Default)]
pub struct MockOptions {
    /// Every report has exactly this many synthetic rows (ad × day), for big-report tests.
    pub rows: Option<u64>,
    /// The faults in force from the start (the control API changes them at run time).
    pub faults: Faults,
    /// The numbers (and entity IDs) of the seeded data.
    pub seed: u64,
    /// The app's secret; a random one when `None`.
    pub app_secret: Option<String>,
    /// Keeps the data, tokens and tasks across restarts.
    pub state_file: Option<PathBuf>,
    /// How many ad accounts and ad groups the seeded world has.
    pub size: WorldSize,
}

#[derive(Clone)]
pub struct Mock {
    world: Arc<Mutex<World>>,
    options: Arc<MockOptions>,
    gate: Arc<faults::Gate>,
    /// The token issued at start-up (the banner's, and `GET /_mock/token`'s).
    startup_token: Arc<String>,
    page_cache: Arc<Mutex<std::collections::HashMap<String, Bytes>>>,
}

impl Mock {
    /// A simulator with the seeded data, or what `--state-file` kept.
    pub fn new(options: MockOptions) -> std::io::Result<Self> {
        let secret = options
            .app_secret
            .clone()
            .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
        let mut world = match &options.state_file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str(&text).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} is not a simulator state file: {e}", path.display()),
                    )
                })?
            }
            _ => World::seeded(options.seed, secret.clone(), options.size),
        };
        if options.app_secret.is_some() {
            world.app_secret = secret;
        }
        let accounts = world.account_ids();
        let startup_token = auth::issue_token(&mut world, accounts);
        let mock = Self {
            world: Arc::new(Mutex::new(world)),
            startup_token: Arc::new(startup_token),
            gate: Arc::new(faults::Gate::new(options.faults.clone())),
            options: Arc::new(options),
            page_cache: Arc::default(),
        };
        mock.save();
        Ok(mock)
    }

    pub fn router(&self) -> Router {
        let routes: Vec<(&str, MethodRouter<Mock>)> = vec![
            ("/oauth2/access_token/", post(auth::access_token)),
            ("/oauth2/advertiser/get/", get(auth::authorized_advertisers)),
            ("/oauth2/revoke_token/", post(auth::revoke)),
            ("/user/info/", get(auth::user_info)),
            ("/advertiser/info/", get(accounts::advertiser_info)),
            ("/bc/get/", get(bc::bc_get)),
            ("/bc/asset/get/", get(bc::bc_assets)),
            ("/tool/region/", get(regions::regions)),
            ("/campaign/get/", get(entities::list)),
            ("/adgroup/get/", get(entities::list)),
            ("/ad/get/", get(entities::list)),
            ("/campaign/create/", post(entities::create)),
            ("/adgroup/create/", post(entities::create)),
            ("/ad/create/", post(entities::create)),
            ("/campaign/update/", post(entities::update)),
            ("/adgroup/update/", post(entities::update)),
            ("/ad/update/", post(entities::update)),
            ("/campaign/status/update/", post(entities::set_status)),
            ("/adgroup/status/update/", post(entities::set_status)),
            ("/ad/status/update/", post(entities::set_status)),
            ("/adgroup/budget/update/", post(entities::budget_update)),
            ("/adgroup/quota/", get(entities::adgroup_quota)),
            ("/report/integrated/get/", get(reports::integrated)),
            ("/report/task/create/", post(reports::task_create)),
            ("/report/task/check/", get(reports::task_check)),
            ("/report/task/download/", get(reports::task_download)),
            ("/report/task/cancel/", post(reports::task_cancel)),
            ("/file/image/ad/upload/", post(library::image_upload)),
            ("/file/video/ad/upload/", post(library::video_upload)),
            ("/file/start/upload/", post(library::start)),
            ("/file/transfer/upload/", post(library::transfer)),
            ("/file/finish/upload/", post(library::finish)),
            ("/file/image/ad/info/", get(library::image_info)),
            ("/file/video/ad/info/", get(library::video_info)),
            ("/file/image/ad/search/", get(library::image_search)),
            ("/file/video/ad/search/", get(library::video_search)),
            ("/file/name/check/", get(library::name_check)),
            ("/file/video/suggestcover/", get(library::suggest_cover)),
            ("/ad/review_info/", get(review::info::ads)),
            ("/dmp/custom_audience/file/upload/", post(dmp::upload)),
            ("/dmp/custom_audience/create/", post(dmp::create)),
            ("/dmp/custom_audience/update/", post(dmp::update)),
            ("/dmp/custom_audience/delete/", post(dmp::delete)),
            (
                "/dmp/custom_audience/lookalike/create/",
                post(dmp::lookalike),
            ),
            ("/dmp/custom_audience/share/", post(dmp::share)),
            ("/dmp/custom_audience/list/", get(dmp::list)),
            ("/dmp/custom_audience/get/", get(dmp::get)),
            ("/adgroup/review_info/", get(review::info::adgroups)),
        ];
        // TikTok also answers a path without its trailing slash (the Singer tap calls
        // `/user/info`), so the simulator does too.
        let api = routes
            .into_iter()
            .fold(Router::new(), |router, (path, handler)| {
                router
                    .route(path, handler.clone())
                    .route(path.trim_end_matches('/'), handler)
            })
            .fallback(answer::not_found)
            .method_not_allowed_fallback(answer::method_not_allowed)
            // Uploads are streamed and checked against TikTok's own limits, not axum's 2 MB.
            .layer(DefaultBodyLimit::disable())
            .layer(middleware::from_fn_with_state(self.clone(), faults::gate));
        Router::new()
            .route("/portal/auth", get(auth::consent))
            .route("/report-files/{task_id}", get(reports::presigned_file))
            .nest("/_mock", control::router())
            .nest("/open_api/v1.3", api)
            .fallback(answer::not_found)
            .with_state(self.clone())
    }

    /// Binds 127.0.0.1:`port` (0 = any free port) and returns the listener and its address.
    pub async fn bind(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    /// The app's ID and secret.
    pub fn app(&self) -> (String, String) {
        (APP_ID.to_string(), self.world().app_secret.clone())
    }

    /// Sets the faults named in `changes` (the fields of [`Faults`]), as `POST /_mock/faults`
    /// does.
    pub fn set_faults(&self, changes: &serde_json::Map<String, Value>) -> Result<Faults, String> {
        self.gate.set_faults(changes)
    }

    /// The IDs of the simulator's ad accounts.
    pub fn accounts(&self) -> Vec<String> {
        self.world().account_ids()
    }

    /// The token issued at start-up, for every seeded ad account.
    pub fn startup_token(&self) -> &str {
        &self.startup_token
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic in a handler cannot leave the data half-changed in a way that matters here.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the data and keeps it in the state file, if there is one.
    fn change<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let out = f(&mut self.world());
        self.save();
        out
    }

    /// Ends the reviews whose time has come (before anything reads the entities).
    fn settle(&self) {
        let settled = {
            let mut world = self.world();
            world.settle_reviews() | world.settle_budgets()
        };
        if settled {
            self.save();
        }
    }

    /// Writes the state file (whole, then renamed over the old one, so a crash never leaves
    /// half a file).
    fn save(&self) {
        let Some(path) = &self.options.state_file else {
            return;
        };
        let Ok(text) = serde_json::to_string(&*self.world()) else {
            return;
        };
        // Owner-only: it holds the tokens and the app secret.
        let partial = path.with_extension("partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&partial)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
        if written.is_ok() {
            let _ = std::fs::rename(&partial, path);
        }
    }

    /// New numbers from `from` on (a control call).
    fn restate(&self, from: chrono::NaiveDate) {
        self.change(|world| {
            let salt = world.restated.len() as u64 + 1;
            world.restated.push((from, salt));
        });
        if let Ok(mut cache) = self.page_cache.lock() {
            cache.clear();
        }
    }

    /// Back to the seeded data (a control call): tokens issued so far stay valid.
    fn reseed(&self) {
        self.change(|world| {
            let mut fresh = World::seeded(world.seed, world.app_secret.clone(), world.size);
            fresh.tokens = std::mem::take(&mut world.tokens);
            *world = fresh;
        });
        if let Ok(mut cache) = self.page_cache.lock() {
            cache.clear();
        }
    }
}

/// A POST body as parameters: a JSON object, else TikTok's 40002.
fn body_params(bytes: &Bytes) -> Checked<Params> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(Params::Body(map)),
        _ => Err(answer::invalid(
            "body",
            "The request body must be a JSON object.",
        )),
    }
}

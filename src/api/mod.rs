//! The typed client for TikTok's Marketing API v1.3, in two parts: the transport core
//! (`transport`: the one request path, envelope, errors, retries, pacing, paging, host
//! checks) and one module per resource, each building its requests and decoding its answers on
//! top of that core. Knows nothing of terminals, output formats or profiles.

pub(crate) mod transport;

pub mod ad;
pub mod adgroup;
pub mod advertiser;
pub mod audience;
pub mod bc;
pub mod budget;
pub mod campaign;
pub mod entity;
pub mod file;
pub mod oauth;
pub mod report;
pub mod review;
pub(crate) mod rules;
pub mod tool;
pub mod user;

#[cfg(test)]
mod testing;

pub use transport::client::{
    Auth, Client, ClientOptions, Method, Request, RetryListener, Retrying, Target,
};
pub use transport::error::ApiError;
pub use transport::form::{Form, PartSource};
pub use transport::http::Headers;
pub use transport::pacing;
pub use transport::paging::{Page, PageInfo};
pub use transport::query::Query;
pub use transport::retry::{Replay, RetryPolicy};
pub(crate) use transport::{host, ids, paging};

/// The resources, one handle each (`client.campaigns().list(...)`): every endpoint is a method
/// of its resource's handle, and every handle sends through the one transport core.
impl Client {
    pub fn advertisers(&self) -> advertiser::Advertisers<'_> {
        advertiser::Advertisers { client: self }
    }

    pub fn audiences(&self) -> audience::Audiences<'_> {
        audience::Audiences { client: self }
    }

    pub fn budgets(&self) -> budget::Budgets<'_> {
        budget::Budgets { client: self }
    }

    pub fn business_centers(&self) -> bc::BusinessCenters<'_> {
        bc::BusinessCenters { client: self }
    }

    pub fn campaigns(&self) -> entity::Entities<'_> {
        self.entities(&campaign::CAMPAIGN)
    }

    pub fn adgroups(&self) -> entity::Entities<'_> {
        self.entities(&adgroup::ADGROUP)
    }

    pub fn ads(&self) -> entity::Entities<'_> {
        self.entities(&ad::AD)
    }

    /// Campaigns, ad groups or ads, as `resource` describes them.
    pub fn entities(&self, resource: &'static entity::Resource) -> entity::Entities<'_> {
        entity::Entities {
            client: self,
            resource,
        }
    }

    pub fn files(&self) -> file::Files<'_> {
        file::Files { client: self }
    }

    pub fn oauth(&self) -> oauth::OAuth<'_> {
        oauth::OAuth { client: self }
    }

    pub fn reports(&self) -> report::Reports<'_> {
        report::Reports { client: self }
    }

    pub fn reviews(&self) -> review::Reviews<'_> {
        review::Reviews { client: self }
    }

    pub fn tools(&self) -> tool::Tools<'_> {
        tool::Tools { client: self }
    }

    pub fn user(&self) -> user::Users<'_> {
        user::Users { client: self }
    }
}

/// Production host of the API and of the advertiser consent page.
pub const PRODUCTION_HOST: &str = "https://business-api.tiktok.com";
/// Sandbox host (tokens are made in the developer portal; no consent page).
pub const SANDBOX_HOST: &str = "https://sandbox-ads.tiktok.com";

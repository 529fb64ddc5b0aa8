//! The user at the consent page, played by a program (the demo's browser-less login): opening
//! the simulator's consent URL approves it, and the simulator redirects the "browser" to the
//! app's redirect URI with a fresh `auth_code`, as TikTok does after a click on "Confirm".

use url::Url;

/// Opens `consent` and follows the simulator's redirect to the redirect URI.
pub async fn approve(consent: &Url) -> Result<(), reqwest::Error> {
    reqwest::Client::new().get(consent.as_str()).send().await?;
    Ok(())
}

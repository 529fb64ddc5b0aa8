//! The OS keyring through `keyring-core` and the platform store crates (Secret Service over
//! pure-Rust zbus on Linux, Keychain on macOS, Credential Manager on Windows).
//!
//! Why these crates: the `keyring` 3.x crate silently falls back to an in-memory mock when
//! built without a backend feature and its async Secret Service backend panics inside a tokio
//! runtime; the kernel keyutils backend does not work from cron. `keyring-core` with explicit
//! store crates has none of these traps. Every call here is blocking and may hang on a locked
//! keyring with a reachable display, so `store.rs` runs it on its own thread under a timeout.

pub(crate) const SERVICE: &str = "tiktok-ads";

#[cfg(feature = "keyring")]
mod imp {
    use std::sync::{Arc, Mutex};

    use keyring_core::{CredentialStore, Error};

    use super::SERVICE;

    static STORE: Mutex<Option<Arc<CredentialStore>>> = Mutex::new(None);

    fn store() -> Result<Arc<CredentialStore>, String> {
        let mut guard = STORE
            .lock()
            .map_err(|_| "keyring state poisoned".to_string())?;
        if let Some(store) = guard.as_ref() {
            return Ok(store.clone());
        }
        let store = platform_store().map_err(|e| e.to_string())?;
        *guard = Some(store.clone());
        Ok(store)
    }

    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    fn platform_store() -> Result<Arc<CredentialStore>, Error> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    #[cfg(target_os = "macos")]
    fn platform_store() -> Result<Arc<CredentialStore>, Error> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    #[cfg(target_os = "windows")]
    fn platform_store() -> Result<Arc<CredentialStore>, Error> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "macos",
        target_os = "windows"
    )))]
    fn platform_store() -> Result<Arc<CredentialStore>, Error> {
        Err(Error::NotSupportedByStore(
            "no OS keyring support on this platform".into(),
        ))
    }

    fn entry(key: &str) -> Result<keyring_core::Entry, String> {
        store()?
            .build(SERVICE, key, None)
            .map_err(|e| e.to_string())
    }

    pub(crate) fn get(key: &str) -> Result<Option<String>, String> {
        match entry(key)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    pub(crate) fn set(key: &str, value: &str) -> Result<(), String> {
        entry(key)?.set_password(value).map_err(|e| e.to_string())
    }

    pub(crate) fn delete(key: &str) -> Result<bool, String> {
        match entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(not(feature = "keyring"))]
mod imp {
    const MISSING: &str = "this build of tiktok-ads has no OS keyring support (built without the \
                           `keyring` feature)";

    pub fn get(_key: &str) -> Result<Option<String>, String> {
        Err(MISSING.into())
    }

    pub fn set(_key: &str, _value: &str) -> Result<(), String> {
        Err(MISSING.into())
    }

    pub fn delete(_key: &str) -> Result<bool, String> {
        Err(MISSING.into())
    }
}

pub(crate) use imp::{delete, get, set};

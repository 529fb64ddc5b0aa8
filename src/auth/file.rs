//! The owner-only credentials file: the fallback where no OS keyring is reachable (servers,
//! cron), or the store of choice with `--token-store file`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::store::StoreError;

const FILE_NAME: &str = "credentials.toml";

#[derive(Debug, Clone)]
pub(crate) struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub(crate) fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join(FILE_NAME),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.read_all()?.remove(key))
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let mut all = self.read_all()?;
        all.insert(key.to_string(), value.to_string());
        self.write_all(&all)
    }

    /// Removes `key`; true when it was there.
    pub(crate) fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let _lock = self.lock()?;
        let mut all = self.read_all()?;
        if all.remove(key).is_none() {
            return Ok(false);
        }
        self.write_all(&all)?;
        Ok(true)
    }

    /// Every change is a read-modify-write of the whole file: one process at a time.
    fn lock(&self) -> Result<crate::fsutil::FileLock, StoreError> {
        self.check_directory()?;
        crate::fsutil::lock(&self.path).map_err(|e| StoreError::File {
            path: self.path.clone(),
            detail: format!("{e:#}"),
        })
    }

    /// A directory others may write in lets them replace the file (and the token in it).
    #[cfg(unix)]
    fn check_directory(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        let Some(dir) = self.path.parent().filter(|d| d.exists()) else {
            return Ok(());
        };
        let mode = std::fs::metadata(dir)
            .map_err(|e| StoreError::File {
                path: self.path.clone(),
                detail: e.to_string(),
            })?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(StoreError::InsecureDirectory {
                path: dir.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_directory(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn read_all(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(StoreError::File {
                    path: self.path.clone(),
                    detail: e.to_string(),
                });
            }
        };
        self.check_directory()?;
        self.check_permissions()?;
        toml::from_str(&text).map_err(|e| StoreError::File {
            path: self.path.clone(),
            detail: format!("not a valid credentials file: {e}"),
        })
    }

    fn write_all(&self, all: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let text = toml::to_string(all).map_err(|e| StoreError::File {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        crate::fsutil::write_private_atomic(&self.path, text.as_bytes()).map_err(|e| {
            StoreError::File {
                path: self.path.clone(),
                detail: format!("{e:#}"),
            }
        })
    }

    /// Like ssh with private keys: a credentials file others can read is not used.
    #[cfg(unix)]
    fn check_permissions(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&self.path)
            .map_err(|e| StoreError::File {
                path: self.path.clone(),
                detail: e.to_string(),
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::InsecureFile {
                path: self.path.clone(),
                mode: mode & 0o777,
            });
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_permissions(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(&dir.path().join("nested"));
        assert_eq!(store.get("production/default").unwrap(), None);
        store.set("production/default", "tok-1").unwrap();
        store.set("sandbox/default", "tok-2").unwrap();
        assert_eq!(
            store.get("production/default").unwrap().as_deref(),
            Some("tok-1")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(store.delete("production/default").unwrap());
        assert!(!store.delete("production/default").unwrap());
        assert_eq!(
            store.get("sandbox/default").unwrap().as_deref(),
            Some("tok-2")
        );
    }

    #[test]
    fn concurrent_changes_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..20 {
                        store.set(&format!("k{t}-{i}"), "v").unwrap();
                    }
                });
            }
        });
        for t in 0..8 {
            for i in 0..20 {
                assert!(
                    store.get(&format!("k{t}-{i}")).unwrap().is_some(),
                    "k{t}-{i}"
                );
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        store.set("k", "v").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = store.get("k").unwrap_err().to_string();
        assert!(err.contains("chmod 700"), "{err}");
        assert!(store.set("k", "w").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_file_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        store.set("k", "v").unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = store.get("k").unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}

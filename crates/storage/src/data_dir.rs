//! Opening a data directory, moving an older layout to the current one.
//!
//! The current layout keeps everything in `<data-dir>/lsm/` ([`FjallEngine`]).
//! Directories written before it hold a sled database at the top level
//! (`conf`, `db`, `snap.*`, `blobs/`): those are copied key by key into
//! `lsm.migrating/`, which is renamed to `lsm/` only when complete (an
//! interrupted copy starts over), and then the sled files are removed.
//! The keys and values are copied unchanged; interpreting them (and
//! upgrading their format) is the stream crate's job.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Engine, FjallEngine, Result, SledEngine, StorageBudget, WriteBatch};

/// Keys copied per batch while migrating.
const COPY_BATCH: usize = 10_000;

fn has_sled_files(dir: &Path) -> bool {
    dir.join("conf").is_file() && dir.join("db").is_file()
}

fn remove_sled_files(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "conf" || name == "db" || name.starts_with("snap.") {
            std::fs::remove_file(entry.path())?;
        } else if name == "blobs" {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Opens the data directory `dir` (creating it if needed) within `budget`,
/// first moving a sled-era directory to the LSM layout.
pub fn open_data_dir(dir: &Path, budget: StorageBudget) -> Result<Arc<dyn Engine>> {
    std::fs::create_dir_all(dir)?;
    // Secrets are stored in here: only the server's user may look inside.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let lsm = dir.join("lsm");
    if has_sled_files(dir) {
        if !lsm.exists() {
            migrate_from_sled(dir, &lsm, budget)?;
        }
        tracing::info!("removing the data directory's previous (sled) storage files");
        remove_sled_files(dir)?;
    }
    Ok(Arc::new(FjallEngine::open(&lsm, budget)?))
}

fn migrate_from_sled(dir: &Path, lsm: &Path, budget: StorageBudget) -> Result<()> {
    let tmp = dir.join("lsm.migrating");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    tracing::info!("moving the data directory from sled to the LSM layout; this happens once");
    let started = Instant::now();
    {
        let from = SledEngine::open(dir, budget.cache)?;
        let to = FjallEngine::open(&tmp, budget)?;
        let mut batch = WriteBatch::new();
        let mut copied = 0u64;
        let mut logged = Instant::now();
        let mut failure = None;
        from.for_each_prefix(&[], &mut |k, v| {
            batch.put(k.to_vec(), v.to_vec());
            if batch.len() >= COPY_BATCH {
                copied += batch.len() as u64;
                if let Err(e) = to.apply(&std::mem::take(&mut batch)) {
                    failure = Some(e);
                    return false;
                }
                if logged.elapsed() >= Duration::from_secs(2) {
                    logged = Instant::now();
                    tracing::info!(keys = copied, "moving to the LSM layout");
                }
            }
            true
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        copied += batch.len() as u64;
        to.apply(&batch)?;
        to.flush()?;
        tracing::info!(
            keys = copied,
            seconds = started.elapsed().as_secs_f64(),
            "moved to the LSM layout"
        );
    }
    std::fs::rename(&tmp, lsm)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn small() -> StorageBudget {
        StorageBudget {
            cache: 8 << 20,
            memtable: 4 << 20,
        }
    }

    #[test]
    fn sled_directories_move_to_the_lsm_layout() {
        let dir = std::env::temp_dir().join(format!("rivulet-datadir-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let sled = SledEngine::open(&dir, 8 << 20).unwrap();
            let mut b = WriteBatch::new();
            for i in 0..25_000u64 {
                b.put(keys::row(3, &keys::row_id(i)), i.to_le_bytes().to_vec());
            }
            b.put(keys::meta("format_version"), b"1".to_vec());
            sled.apply(&b).unwrap();
            sled.flush().unwrap();
        }
        let e = open_data_dir(&dir, small()).unwrap();
        assert_eq!(e.scan_prefix(&keys::rows_prefix(3)).unwrap().len(), 25_000);
        assert_eq!(
            e.get(&keys::meta("format_version")).unwrap(),
            Some(b"1".to_vec())
        );
        drop(e);
        assert!(!dir.join("conf").exists() && !dir.join("db").exists());
        assert!(dir.join("lsm").is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "only the owner may read the directory");
        }
        // Opening again uses the LSM directly.
        let e = open_data_dir(&dir, small()).unwrap();
        assert_eq!(
            e.get(&keys::row(3, &keys::row_id(7))).unwrap(),
            Some(7u64.to_le_bytes().to_vec())
        );
        drop(e);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

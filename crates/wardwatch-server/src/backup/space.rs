//! How much a terminal may still add to its repository. A compromised terminal cannot
//! delete backups, but it could upload until the server's disk is full, and then the
//! database and every other terminal's backups stop. So the server keeps a reserve of
//! free space that uploads never take, and each repository may have a quota.

/// Free space kept for the database and the other terminals when none is configured.
pub const DEFAULT_RESERVE: u64 = 2 << 30;

/// The limits on backup storage (`--backup-quota`, `--backup-reserve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceLimits {
    /// Most bytes one terminal's repository may hold; `None`: no quota.
    pub quota: Option<u64>,
    /// Free bytes on the backup disk that uploads never take.
    pub reserve: u64,
}

impl Default for SpaceLimits {
    fn default() -> Self {
        Self {
            quota: None,
            reserve: DEFAULT_RESERVE,
        }
    }
}

/// Why an upload is refused for space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceRefusal {
    #[error("the server's backup disk has {} free, and {} are kept free for its database and the other terminals: nothing more is stored until old backups are pruned or the disk grows", gib(*free), gib(*reserve))]
    Reserve { free: u64, reserve: u64 },
    #[error("this terminal's repository holds {} of its {} quota: nothing more is stored until retention frees space or the quota is raised", gib(*used), gib(*quota))]
    Quota { used: u64, quota: u64 },
}

/// The most bytes one more file may have, given the disk's free space and what the
/// repository already holds.
pub fn room(free: u64, used: u64, limits: SpaceLimits) -> Result<u64, SpaceRefusal> {
    let reserve = limits.reserve;
    let on_disk = free
        .checked_sub(reserve)
        .filter(|r| *r > 0)
        .ok_or(SpaceRefusal::Reserve { free, reserve })?;
    let in_quota = match limits.quota {
        Some(quota) => quota
            .checked_sub(used)
            .filter(|r| *r > 0)
            .ok_or(SpaceRefusal::Quota { used, quota })?,
        None => u64::MAX,
    };
    Ok(on_disk.min(in_quota))
}

/// Bytes as a person reads them on a disk: GiB with one decimal (MiB when small).
fn gib(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn an_upload_gets_what_is_left_above_the_reserve_and_within_the_quota() {
        let no_quota = SpaceLimits::default();
        assert_eq!(room(10 * GIB, 0, no_quota), Ok(8 * GIB));
        let quota = SpaceLimits {
            quota: Some(5 * GIB),
            reserve: GIB,
        };
        assert_eq!(room(100 * GIB, 4 * GIB, quota), Ok(GIB));
        assert_eq!(room(2 * GIB, 0, quota), Ok(GIB));
    }

    #[test]
    fn a_full_reserve_or_quota_refuses_with_a_sentence_naming_both_figures() {
        let limits = SpaceLimits {
            quota: Some(5 * GIB),
            reserve: 2 * GIB,
        };
        let full = room(2 * GIB, 0, limits).unwrap_err();
        assert_eq!(
            full,
            SpaceRefusal::Reserve {
                free: 2 * GIB,
                reserve: 2 * GIB
            }
        );
        assert!(full.to_string().contains("2.0 GiB free"), "{full}");
        let over = room(100 * GIB, 6 * GIB, limits).unwrap_err();
        assert!(
            over.to_string().contains("6.0 GiB of its 5.0 GiB quota"),
            "{over}"
        );
        assert!(room(GIB / 2, 0, limits).is_err());
    }
}

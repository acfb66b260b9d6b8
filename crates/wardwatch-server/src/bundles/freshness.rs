//! Whether the malware signatures are fresh enough, checked on a schedule: signatures
//! older than the hospital allows, and terminals still scanning with older signatures a
//! day after newer ones were installed, each become an incident once (per version, and
//! per terminal and version).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wardwatch_bundle::Kind;

use super::InstalledBundles;
use crate::db::StoreError;
use crate::incidents::signal::Signal;
use crate::storage::Storage;

/// Setting: after how many days the newest installed data of a kind is called stale.
pub(crate) const STALE_DAYS_SETTING: &str = "bundle_stale_after_days";
pub(crate) const DEFAULT_STALE_DAYS: u32 = 7;
pub(crate) const MAX_STALE_DAYS: u32 = 3650;
pub(crate) const DAY_MILLIS: i64 = 86_400_000;
/// How often the signatures' freshness is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(10 * 60);

/// A manifest time as Unix milliseconds.
pub(crate) fn millis(t: wardwatch_bundle::time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Whether data created at `created` is older than `days` days at `now`: the console's
/// "stale" and the incident say the same.
pub(crate) fn is_stale(created: i64, now: i64, days: u32) -> bool {
    now.saturating_sub(created) > i64::from(days) * DAY_MILLIS
}

/// The stale-after setting in days, or its default.
pub(crate) fn stale_days(store: &dyn Storage) -> Result<u32, StoreError> {
    Ok(store
        .setting(STALE_DAYS_SETTING)?
        .and_then(|v| v.parse().ok())
        .filter(|d| (1..=MAX_STALE_DAYS).contains(d))
        .unwrap_or(DEFAULT_STALE_DAYS))
}

/// Why a check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FreshnessError {
    #[error("cannot read the installed signatures bundle: {0}")]
    Installed(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One check at `now`; returns how many new incidents signals were recorded.
pub fn check_signatures(
    store: &dyn Storage,
    bundles: &InstalledBundles,
    now: i64,
) -> Result<usize, FreshnessError> {
    let Some(installed) = bundles
        .get(Kind::Signatures)
        .map_err(FreshnessError::Installed)?
    else {
        return Ok(0);
    };
    let version = installed.manifest.version;
    let mut recorded = 0;
    let limit = stale_days(store)?;
    let created = millis(installed.manifest.created);
    let age_days = now.saturating_sub(created) / DAY_MILLIS;
    if is_stale(created, now, limit) {
        let signal = Signal::signatures_stale(version, age_days, limit, now);
        recorded += usize::from(store.record_signal(&signal)?.is_some());
    }
    let imported_at = i64::try_from(version)
        .ok()
        .map(|v| store.bundle_record(Kind::Signatures.as_str(), v))
        .transpose()?
        .flatten()
        .map(|r| r.imported_at);
    let Some(imported_at) = imported_at else {
        return Ok(recorded);
    };
    if now.saturating_sub(imported_at) <= DAY_MILLIS {
        return Ok(recorded);
    }
    for host in store.host_bundle_versions()? {
        let Some(has) = host.bundles.get(Kind::Signatures.as_str()) else {
            continue;
        };
        let Ok(has_version) = u64::try_from(has.version) else {
            continue;
        };
        if has_version < version {
            let signal = Signal::signatures_behind(&host.host_id, has_version, version, now);
            recorded += usize::from(store.record_signal(&signal)?.is_some());
        }
    }
    Ok(recorded)
}

/// Checks at start and every [`CHECK_EVERY`] until shutdown; a failing check is logged
/// once until it works again.
pub async fn run_schedule(
    store: Arc<dyn Storage>,
    bundles: Arc<InstalledBundles>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        let (s, b) = (store.clone(), bundles.clone());
        let result = tokio::task::spawn_blocking(move || {
            check_signatures(s.as_ref(), &b, wardwatch_proto::now_millis())
        })
        .await;
        match result {
            Ok(Ok(n)) => {
                if n > 0 {
                    tracing::warn!(
                        incidents = n,
                        "signatures are stale or terminals are behind"
                    );
                }
                failing = false;
            }
            Ok(Err(e)) if !failing => {
                failing = true;
                tracing::error!(error = %e, "cannot check the signatures' freshness");
            }
            Ok(Err(_)) => {}
            Err(e) => tracing::error!(error = %e, "the signatures' freshness check panicked"),
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

//! The storage interface: every feature's store trait in one, so that handlers and the
//! matcher hold an `Arc<dyn Storage>` and never a database connection. The SQLite
//! [`Store`](crate::db::Store) implements each trait in the feature's own module; it is
//! the only backend today. A second one (PostgreSQL, for several server instances)
//! would implement the same traits.

use crate::alerts::AlertStore;
use crate::audit::AuditStore;
use crate::auth::{AccountStore, EnrollmentStore, LoginStore};
use crate::backup::BackupStore;
use crate::bundles::BundleStore;
use crate::commands::CommandStore;
use crate::evidence::EvidenceStore;
use crate::forward::ForwardStore;
use crate::hosts::{HostStore, IngestStore};
use crate::incidents::IncidentStore;
use crate::overview::OverviewStore;
use crate::patches::PatchStore;
use crate::vuln::{FindingStore, FleetReportStore, SuppressionStore};

/// Everything the server stores.
pub trait Storage:
    AccountStore
    + LoginStore
    + EnrollmentStore
    + HostStore
    + IngestStore
    + AlertStore
    + AuditStore
    + BundleStore
    + CommandStore
    + FindingStore
    + SuppressionStore
    + FleetReportStore
    + BackupStore
    + ForwardStore
    + EvidenceStore
    + IncidentStore
    + PatchStore
    + OverviewStore
{
}

/// The SQLite database is the one backend today.
impl Storage for crate::db::Store {}

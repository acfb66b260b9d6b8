//! Stores for unit tests: a fresh database with enrolled hosts.

use crate::auth::{EnrollmentStore, NewHost, NewToken};
use crate::db::Store;

/// A new store with one enrolled host per `(id, hostname)`, labelled "HOSTNAME desk" in
/// the department "Ward 3".
pub fn store_with_hosts(hosts: &[(&str, &str)]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(&dir.path().join("db")).expect("open store");
    enroll_hosts(&store, hosts);
    (dir, store)
}

/// Enrolls one host per `(id, hostname)` in `store`, as [`store_with_hosts`] does.
pub fn enroll_hosts(store: &Store, hosts: &[(&str, &str)]) {
    for (id, name) in hosts {
        let token = store
            .create_token(
                &NewToken {
                    label: format!("{name} desk"),
                    department: "Ward 3".into(),
                    expires_at: None,
                    uses: 1,
                },
                "test",
            )
            .expect("token");
        store
            .enroll_host(
                &token.token,
                &NewHost {
                    host_id: id,
                    hostname: name,
                    cert_fingerprint: &format!("SHA256:{id}"),
                },
            )
            .expect("enroll");
    }
}

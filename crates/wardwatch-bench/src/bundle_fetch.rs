//! What content-addressed fetching saves: the bytes a server sends to a fleet after a
//! new bundle version, computed from the two manifests (full download vs changed members
//! only, each with the listing and per-request overhead).

use std::collections::HashSet;
use std::fmt;

use wardwatch_bundle::time::{Duration, OffsetDateTime};
use wardwatch_bundle::{Kind, Manifest, Member};

/// Assumed bytes of HTTP headers and framing per request and response.
pub const REQUEST_OVERHEAD: u64 = 600;
/// Size of a minisign signature in the listing.
const SIGNATURE_LEN: u64 = 300;

/// Bytes sent to `agents` terminals for one new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReport {
    pub agents: u64,
    pub members: usize,
    pub changed_members: usize,
    /// Every member again, per agent.
    pub full_bytes: u64,
    /// Only members whose SHA-256 the agent did not have, per agent.
    pub delta_bytes: u64,
}

impl TransferReport {
    pub fn full_total(&self) -> u64 {
        self.full_bytes.saturating_mul(self.agents)
    }
    pub fn delta_total(&self) -> u64 {
        self.delta_bytes.saturating_mul(self.agents)
    }
}

impl fmt::Display for TransferReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = |b: u64| b as f64 / 1e6;
        writeln!(
            f,
            "{} agents, {} members, {} changed",
            self.agents, self.members, self.changed_members
        )?;
        writeln!(
            f,
            "  whole bundle:    {:>12.1} MB per agent, {:>12.1} MB in all",
            mb(self.full_bytes),
            mb(self.full_total())
        )?;
        writeln!(
            f,
            "  changed members: {:>12.3} MB per agent, {:>12.1} MB in all",
            mb(self.delta_bytes),
            mb(self.delta_total())
        )?;
        let ratio = self.full_bytes as f64 / self.delta_bytes.max(1) as f64;
        write!(f, "  saved: {ratio:.1}x fewer bytes")
    }
}

/// Bytes per agent to move from `old` to `new`: both ways pay for the listing (the
/// manifest in base64 and the signature); the full way fetches every member, the delta
/// way only those whose SHA-256 is not in `old`.
pub fn transfer(old: &Manifest, new: &Manifest, agents: u64) -> TransferReport {
    let listing = REQUEST_OVERHEAD + (new.to_bytes().len() as u64).div_ceil(3) * 4 + SIGNATURE_LEN;
    let have: HashSet<[u8; 32]> = old.members.iter().map(|m| m.sha256).collect();
    let per = |m: &Member| m.size + REQUEST_OVERHEAD;
    let full_bytes = listing + new.members.iter().map(per).sum::<u64>();
    let changed: Vec<&Member> = new
        .members
        .iter()
        .filter(|m| !have.contains(&m.sha256))
        .collect();
    let delta_bytes = listing + changed.iter().map(|m| per(m)).sum::<u64>();
    TransferReport {
        agents,
        members: new.members.len(),
        changed_members: changed.len(),
        full_bytes,
        delta_bytes,
    }
}

/// A synthetic pair of versions: `members` files of `member_size` bytes, of which
/// `changed_percent` % differ in the second.
pub fn synthetic(members: usize, member_size: u64, changed_percent: u32) -> (Manifest, Manifest) {
    let now = OffsetDateTime::now_utc();
    let make = |version: u64, salt: u8| {
        let members = (0..members)
            .map(|i| {
                let changed =
                    (i as u64 * 100) < members as u64 * u64::from(changed_percent) && version > 1;
                let mut sha256 = [0u8; 32];
                sha256[..8].copy_from_slice(&(i as u64).to_le_bytes());
                sha256[8] = if changed { salt } else { 0 };
                Member {
                    name: format!("rules/{i:06}.yar"),
                    size: member_size,
                    sha256,
                }
            })
            .collect();
        Manifest {
            kind: Kind::Signatures,
            version,
            created: now,
            expires: now + Duration::days(30),
            members,
        }
    };
    (make(1, 0), make(2, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_percent_changed_costs_about_one_percent() {
        let (old, new) = synthetic(1000, 100_000, 1);
        let r = transfer(&old, &new, 1000);
        assert_eq!(r.changed_members, 10);
        assert!(r.delta_total() * 50 < r.full_total(), "{r}");
        let same = transfer(&new, &new, 1);
        assert_eq!(same.changed_members, 0);
    }

    /// `cargo test -p wardwatch-agent --lib bundles::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn report_for_a_thousand_agents() {
        for (members, size) in [(1000, 50_000), (10_000, 20_000), (200, 2_000_000)] {
            let (old, new) = synthetic(members, size, 1);
            println!("{}\n", transfer(&old, &new, 1000));
        }
    }
}

//! The end-of-life finding: a host whose OS release is past its vendor's security support.

use std::borrow::Cow;

use super::finding::{Comparison, Exploitation, Finding, Remedy, Subject, Why};
use super::inventory::HostOs;
use crate::feed::{Date, EolTable, Level, Severity};

/// The finding for `os` if its release is past regular security support on `today`.
/// Within extended support it is medium (fixes still come, from LTS or a subscription);
/// past every support it is high.
pub(crate) fn eol_finding<'a>(
    table: &'a EolTable,
    os: &'a HostOs,
    today: Date,
) -> Option<Finding<'a>> {
    let e = table.lookup(&os.id, &os.version_id, &os.codename)?;
    if today <= e.support_end {
        return None;
    }
    let extended_until = e.extended_end.filter(|&x| today <= x);
    let level = if extended_until.is_some() {
        Level::Medium
    } else {
        Level::High
    };
    let range = match (e.extended_end, e.extended.as_deref()) {
        (Some(x), Some(what)) => format!(
            "regular security support until {}, {what} until {x}",
            e.support_end
        ),
        (Some(x), None) => format!(
            "regular security support until {}, extended until {x}",
            e.support_end
        ),
        _ => format!("security support until {}", e.support_end),
    };
    let comparison = match extended_until {
        Some(x) => format!(
            "today {today} > support end {} (extended support until {x})",
            e.support_end
        ),
        None => format!(
            "today {today} > end of all support {}",
            e.extended_end.unwrap_or(e.support_end)
        ),
    };
    Some(Finding {
        id: Cow::Owned(format!("EOL-{}-{}", e.os_id, e.version)),
        cves: Cow::Borrowed(&[]),
        subject: Subject::OperatingSystem {
            os_id: Cow::Borrowed(&os.id),
            version_id: Cow::Borrowed(&os.version_id),
            name: Cow::Borrowed(&e.name),
        },
        remedy: Remedy::UpgradeOs { extended_until },
        severity: Some(Cow::Owned(Severity {
            level,
            label: if extended_until.is_some() {
                "end of life (extended support only)".to_owned()
            } else {
                "end of life".to_owned()
            },
        })),
        status: None,
        exploitation: Exploitation::default(),
        why: Why {
            record: Cow::Owned(format!(
                "end-of-life table (updated {}): {}",
                table.updated, e.name
            )),
            range: Cow::Owned(range),
            comparison: Comparison::Text(Cow::Owned(comparison)),
        },
    })
}

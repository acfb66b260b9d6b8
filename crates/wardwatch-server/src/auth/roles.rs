//! What each kind of console account may do, and which terminals it sees.
//!
//! A hospital's IT team splits the work: an admin runs the server, analysts answer
//! alerts and incidents, an auditor reads (the audit record included) and changes
//! nothing, and a department operator looks after the terminals of a few departments
//! only. The role decides the actions ([`Permission`]); the [`Scope`] decides the
//! terminals, for every list, count and route (see `scope_guard`).

use std::collections::BTreeSet;

use serde::Serialize;

/// A console account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: settings, accounts, bundles, risks, and every analyst's action.
    Admin,
    /// Acts on alerts, incidents and scans (commands, restores, evidence); reads the
    /// audit record; changes no setting and no account.
    Analyst,
    /// Reads everything, the audit record included; changes nothing.
    Auditor,
    /// Sees and acts on the terminals of its departments only, as an analyst does.
    Operator,
}

/// An action a role may or may not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Respond on a terminal: commands, scans, restores, evidence, incidents.
    Act,
    /// Accept (or lift the acceptance of) a vulnerability's risk.
    AcceptRisk,
    /// Import bundles, change settings and policies, sign audit checkpoints.
    ChangeSettings,
    /// Create accounts, change their roles, disable them, reset their passwords.
    ManageAccounts,
    /// Read the audit record.
    ReadAudit,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::Act,
        Permission::AcceptRisk,
        Permission::ChangeSettings,
        Permission::ManageAccounts,
        Permission::ReadAudit,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Auditor, Role::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Operator => "operator",
        }
    }

    /// Parses a role's name. `viewer`, the read-only role of earlier versions, is an
    /// auditor.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "auditor" | "viewer" => Some(Role::Auditor),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    /// The names [`Role::parse`] takes, for messages.
    pub fn names() -> &'static str {
        "admin, analyst, auditor or operator"
    }

    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Analyst => matches!(permission, Act | ReadAudit),
            Role::Auditor => matches!(permission, ReadAudit),
            Role::Operator => matches!(permission, Act),
        }
    }

    /// Whether the role sees only some departments' terminals.
    pub fn is_scoped(self) -> bool {
        self == Role::Operator
    }
}

/// The terminals an account sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Fleet,
    /// Only the terminals of these departments (none when the set is empty).
    Departments(BTreeSet<String>),
}

impl Scope {
    pub fn of(role: Role, departments: &[String]) -> Scope {
        if role.is_scoped() {
            Scope::Departments(departments.iter().cloned().collect())
        } else {
            Scope::Fleet
        }
    }

    pub fn covers(&self, department: &str) -> bool {
        match self {
            Scope::Fleet => true,
            Scope::Departments(set) => set.contains(department),
        }
    }

    /// The departments to filter a query on; `None` for the whole fleet.
    pub fn departments(&self) -> Option<Vec<String>> {
        match self {
            Scope::Fleet => None,
            Scope::Departments(set) => Some(set.iter().cloned().collect()),
        }
    }
}

/// Longest department name an account may be given, in bytes.
pub const MAX_DEPARTMENT_LEN: usize = 64;
/// Most departments one operator account may have.
pub const MAX_DEPARTMENTS: usize = 64;

/// Checks the departments given to an account: an operator needs at least one, other
/// roles none; each 1 to 64 bytes without control characters. Returns them sorted and
/// without repeats, or the sentence to answer with.
pub fn check_departments(role: Role, departments: &[String]) -> Result<Vec<String>, String> {
    let set: BTreeSet<String> = departments.iter().map(|d| d.trim().to_string()).collect();
    if !role.is_scoped() {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        return Err(format!(
            "only an operator account has departments; a {} sees the whole fleet",
            role.as_str()
        ));
    }
    if set.is_empty() {
        return Err("an operator account needs at least one department".into());
    }
    if set.len() > MAX_DEPARTMENTS {
        return Err(format!(
            "an operator account has at most {MAX_DEPARTMENTS} departments"
        ));
    }
    for d in &set {
        if d.is_empty() || d.len() > MAX_DEPARTMENT_LEN || d.chars().any(char::is_control) {
            return Err(format!(
                "a department name has 1 to {MAX_DEPARTMENT_LEN} bytes and no control characters: {d:?}"
            ));
        }
    }
    Ok(set.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_exactly_its_permissions() {
        use Permission::*;
        let table: &[(Role, &[Permission])] = &[
            (Role::Admin, &Permission::ALL),
            (Role::Analyst, &[Act, ReadAudit]),
            (Role::Auditor, &[ReadAudit]),
            (Role::Operator, &[Act]),
        ];
        for (role, allowed) in table {
            for p in Permission::ALL {
                assert_eq!(role.may(p), allowed.contains(&p), "{role:?} {p:?}");
            }
        }
    }

    #[test]
    fn names_round_trip_and_viewer_is_an_auditor() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("viewer"), Some(Role::Auditor));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn departments_belong_to_operators_only() {
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_departments(Role::Operator, &d(&["Ward 3", " Lab", "Ward 3"])).unwrap(),
            d(&["Lab", "Ward 3"])
        );
        assert!(check_departments(Role::Operator, &[]).is_err());
        assert!(check_departments(Role::Operator, &d(&[" "])).is_err());
        assert!(check_departments(Role::Operator, &d(&["a\nb"])).is_err());
        assert!(check_departments(Role::Operator, &d(&[&"x".repeat(65)])).is_err());
        assert!(check_departments(Role::Analyst, &d(&["Lab"])).is_err());
        assert!(check_departments(Role::Admin, &[]).unwrap().is_empty());
    }

    #[test]
    fn a_scope_covers_its_departments_only() {
        let scope = Scope::of(Role::Operator, &["Lab".to_string()]);
        assert!(scope.covers("Lab"));
        assert!(!scope.covers("Ward 3"));
        assert!(!scope.covers(""));
        assert_eq!(scope.departments(), Some(vec!["Lab".to_string()]));
        let fleet = Scope::of(Role::Auditor, &["Lab".to_string()]);
        assert!(fleet.covers("anything"));
        assert_eq!(fleet.departments(), None);
    }
}

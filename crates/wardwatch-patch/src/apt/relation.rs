//! Package relations (`Depends`, `Pre-Depends`): `a (>= 1.0), b | c:any (<< 2)`.

use std::cmp::Ordering;

use wardwatch_vuln::version::Scheme;

/// A version operator of a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Earlier,
    EarlierOrEqual,
    Equal,
    LaterOrEqual,
    Later,
}

/// One alternative: a package, optionally with a version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    pub constraint: Option<(Op, String)>,
}

impl Relation {
    /// Whether `version` meets the constraint (in dpkg's order; a version that does not
    /// parse meets nothing).
    pub fn accepts(&self, version: &str) -> bool {
        let Some((op, wanted)) = &self.constraint else {
            return true;
        };
        let Ok(order) = Scheme::Dpkg.compare(version, wanted) else {
            return false;
        };
        match op {
            Op::Earlier => order == Ordering::Less,
            Op::EarlierOrEqual => order != Ordering::Greater,
            Op::Equal => order == Ordering::Equal,
            Op::LaterOrEqual => order != Ordering::Less,
            Op::Later => order == Ordering::Greater,
        }
    }
}

/// Parses a relation field into groups of alternatives (any one of a group will do).
pub fn parse(field: &str) -> Result<Vec<Vec<Relation>>, String> {
    let mut groups = Vec::new();
    for group in field.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let mut alternatives = Vec::new();
        for alt in group.split('|').map(str::trim) {
            alternatives.push(parse_one(alt)?);
        }
        groups.push(alternatives);
    }
    Ok(groups)
}

fn parse_one(text: &str) -> Result<Relation, String> {
    // Architecture restrictions `[amd64]` do not occur in binary relations; one is cut
    // off if present.
    let text = text.split('[').next().unwrap_or_default();
    let (name_part, constraint) = match text.split_once('(') {
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .or_else(|| rest.trim_end().strip_suffix(')'))
                .ok_or_else(|| format!("{text:?}: unclosed version constraint"))?
                .trim();
            let (op, version) = split_operator(inner)
                .ok_or_else(|| format!("{text:?}: unknown version operator"))?;
            let version = version.trim();
            Scheme::Dpkg
                .scheme()
                .validate(version)
                .map_err(|e| format!("{text:?}: {e}"))?;
            (name, Some((op, version.to_string())))
        }
        None => (text, None),
    };
    let name = name_part.trim();
    // `foo:any` and `foo:amd64` name the package foo.
    let name = name.split(':').next().unwrap_or_default();
    crate::request::check_package_name("relation", name).map_err(|e| e.to_string())?;
    Ok(Relation {
        name: name.to_string(),
        constraint,
    })
}

fn split_operator(text: &str) -> Option<(Op, &str)> {
    for (token, op) in [
        ("<<", Op::Earlier),
        ("<=", Op::EarlierOrEqual),
        (">=", Op::LaterOrEqual),
        (">>", Op::Later),
        ("=", Op::Equal),
        // Obsolete forms, read as dpkg reads them.
        ("<", Op::EarlierOrEqual),
        (">", Op::LaterOrEqual),
    ] {
        if let Some(rest) = text.strip_prefix(token) {
            return Some((op, rest));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_alternatives_and_constraints() {
        let groups = parse(
            "libc6 (>= 2.34), libssl3 (= 3.0.17-1~deb12u2) | libssl1.1, perl:any, zlib1g (<< 1:1.3)",
        )
        .unwrap();
        assert_eq!(groups.len(), 4);
        assert!(groups[3][0].accepts("1:1.2.13.dfsg-1"));
        assert!(!groups[3][0].accepts("1:1.3.1-1"));
        assert_eq!(groups[1].len(), 2);
        assert!(groups[0][0].accepts("2.36-9+deb12u10"));
        assert!(!groups[0][0].accepts("2.31-13"));
        assert!(groups[1][0].accepts("3.0.17-1~deb12u2"));
        assert!(!groups[1][0].accepts("3.0.17-1"));
        assert_eq!(groups[2][0].name, "perl");
        assert!(groups[2][0].accepts("anything"));
    }

    #[test]
    fn malformed_relations_are_refused() {
        assert!(parse("libc6 (>= 2.34").is_err());
        assert!(parse("libc6 (~= 2.34)").is_err());
        assert!(parse("../x").is_err());
    }
}

//! The dependency rules checked against `cargo metadata --format-version 1` output.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::rules::Rule;

/// Everything wrong, one sentence each; empty when the rules hold.
pub fn violations(metadata: &Value, rules: &[Rule]) -> Result<Vec<String>, String> {
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata has no packages")?;
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .ok_or("cargo metadata has no workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let name_of: BTreeMap<&str, &str> = packages
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    // Normal (not dev, not build) dependencies of every package, from the resolve graph.
    let mut normal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"]
        .as_array()
        .ok_or("cargo metadata has no resolve graph (run it without --no-deps)")?
    {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let deps = node["deps"].as_array().into_iter().flatten();
        let targets = deps
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| d["pkg"].as_str());
        normal.entry(id).or_default().extend(targets);
    }

    let mut found = Vec::new();
    for id in &members {
        let name = name_of.get(id).copied().unwrap_or(id);
        let Some(rule) = rules.iter().find(|r| r.krate == name) else {
            found.push(format!(
                "{name} has no dependency rule: add one to wardwatch-layout/src/rules.rs and ARCHITECTURE.md"
            ));
            continue;
        };
        for dep in normal.get(id).into_iter().flatten() {
            let dep_name = name_of.get(dep).copied().unwrap_or(dep);
            if members.contains(dep) && !rule.may_use.contains(&dep_name) {
                found.push(format!(
                    "{name} depends on {dep_name}, which its rule does not allow ({})",
                    rule.why
                ));
            }
        }
        // Everything it links, through any path.
        let mut seen = BTreeSet::new();
        let mut stack = vec![*id];
        while let Some(next) = stack.pop() {
            for dep in normal.get(next).into_iter().flatten() {
                if seen.insert(*dep) {
                    stack.push(dep);
                }
            }
        }
        for dep in seen {
            let dep_name = name_of.get(dep).copied().unwrap_or(dep);
            if rule.never_links.contains(&dep_name) {
                found.push(format!(
                    "{name} links {dep_name}, which it must never do ({})",
                    rule.why
                ));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Metadata for made-up packages: `(name, [normal deps])`, the first two members.
    fn metadata(packages: &[(&str, &[&str])], members: &[&str]) -> Value {
        json!({
            "packages": packages.iter().map(|(n, _)| json!({"id": format!("{n}-id"), "name": n})).collect::<Vec<_>>(),
            "workspace_members": members.iter().map(|n| format!("{n}-id")).collect::<Vec<_>>(),
            "resolve": {"nodes": packages.iter().map(|(n, deps)| json!({
                "id": format!("{n}-id"),
                "deps": deps.iter().map(|d| json!({"pkg": format!("{d}-id"), "dep_kinds": [{"kind": null}]})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()},
        })
    }

    const RULES: &[Rule] = &[
        Rule {
            krate: "ww-server",
            may_use: &["ww-proto"],
            never_links: &["yara-x"],
            why: "test",
        },
        Rule {
            krate: "ww-proto",
            may_use: &[],
            never_links: &[],
            why: "test",
        },
        Rule {
            krate: "ww-agent",
            may_use: &[],
            never_links: &[],
            why: "test",
        },
    ];

    #[test]
    fn allowed_dependencies_pass() {
        let m = metadata(
            &[
                ("ww-server", &["ww-proto", "serde"]),
                ("ww-proto", &[]),
                ("serde", &[]),
            ],
            &["ww-server", "ww-proto"],
        );
        assert_eq!(violations(&m, RULES).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_forbidden_workspace_dependency_and_a_banned_crate_deep_down_are_found() {
        let m = metadata(
            &[
                ("ww-server", &["ww-agent"]),
                ("ww-agent", &["detect"]),
                ("detect", &["yara-x"]),
                ("yara-x", &[]),
            ],
            &["ww-server", "ww-agent"],
        );
        let found = violations(&m, RULES).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("ww-server depends on ww-agent"),
            "{found:?}"
        );
        assert!(found[1].contains("ww-server links yara-x"), "{found:?}");
    }

    #[test]
    fn a_crate_without_a_rule_is_named() {
        let m = metadata(&[("ww-new", &[])], &["ww-new"]);
        let found = violations(&m, RULES).unwrap();
        assert!(
            found[0].contains("ww-new has no dependency rule"),
            "{found:?}"
        );
    }
}

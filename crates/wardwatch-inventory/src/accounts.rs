//! Local accounts from `/etc/passwd` and `/etc/group`, and who may use sudo.
//!
//! Sudo rights are read from `/etc/sudoers` and `/etc/sudoers.d/*` with a deliberately
//! small parser: it finds who a rule names (users, `%groups`, `#uids`, `User_Alias`es),
//! not what they may run. Any rule counts, because any rule lets the account run
//! something as someone else. When sudoers cannot be read (the agent is not root), members
//! of the conventional `sudo` and `wheel` groups are assumed to have sudo.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

use wardwatch_proto::Account;

use super::{is_absent, read_optional, CollectError, CollectRoot};

/// Groups that conventionally grant sudo, assumed when sudoers is unreadable.
const FALLBACK_SUDO_GROUPS: [&str; 2] = ["sudo", "wheel"];

/// All accounts, system ones included, sorted by uid.
pub fn collect(root: &CollectRoot) -> Result<Vec<Account>, CollectError> {
    let passwd_path = root.path("etc/passwd");
    let passwd = read_optional(&passwd_path)?.unwrap_or_else(|| {
        tracing::warn!(path = %passwd_path.display(), "no passwd file; no accounts");
        String::new()
    });
    let group = read_optional(&root.path("etc/group"))?.unwrap_or_default();
    let grants = read_sudo_grants(root);
    Ok(build_accounts(
        &parse_passwd(&passwd),
        &parse_group(&group),
        &grants,
    ))
}

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// One `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parses passwd(5). Comments, NIS `+`/`-` lines and malformed lines are skipped, the
/// last with a warning naming the line.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if skip_line(line) {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let parsed = match fields.as_slice() {
            [name, _, uid, gid, _, home, shell] if !name.is_empty() => {
                match (uid.trim().parse(), gid.trim().parse()) {
                    (Ok(uid), Ok(gid)) => Some(PasswdEntry {
                        name: (*name).to_owned(),
                        uid,
                        gid,
                        home: (*home).to_owned(),
                        shell: shell.trim().to_owned(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        match parsed {
            Some(entry) => entries.push(entry),
            None => tracing::warn!(line = index + 1, "malformed passwd line skipped"),
        }
    }
    entries
}

/// Parses group(5), skipping what [`parse_passwd`] skips.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if skip_line(line) {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            [name, _, gid, members] if !name.is_empty() => match gid.trim().parse() {
                Ok(gid) => entries.push(GroupEntry {
                    name: (*name).to_owned(),
                    gid,
                    members: members
                        .split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .map(str::to_owned)
                        .collect(),
                }),
                Err(_) => tracing::warn!(line = index + 1, "malformed group line skipped"),
            },
            _ => tracing::warn!(line = index + 1, "malformed group line skipped"),
        }
    }
    entries
}

fn skip_line(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#') || line.starts_with('+') || line.starts_with('-')
}

/// Who sudoers rules name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SudoGrants {
    /// A rule names `ALL` users.
    pub everyone: bool,
    pub users: BTreeSet<String>,
    pub uids: BTreeSet<u32>,
    pub groups: BTreeSet<String>,
    pub gids: BTreeSet<u32>,
}

/// Reads sudoers as sudo would, falling back to the conventional groups for what cannot
/// be read. Never fails: sudo rights are one flag among many, not worth the inventory.
fn read_sudo_grants(root: &CollectRoot) -> SudoGrants {
    let mut text = String::new();
    let mut unreadable = false;
    let mut read = |path: &std::path::Path| match std::fs::read(path) {
        Ok(bytes) => {
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push('\n');
        }
        Err(e) if is_absent(&e) => {}
        Err(e) => {
            if e.kind() != io::ErrorKind::PermissionDenied {
                tracing::warn!(path = %path.display(), error = %e, "cannot read sudoers");
            }
            unreadable = true;
        }
    };
    read(&root.path("etc/sudoers"));
    let dir = root.path("etc/sudoers.d");
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            // sudo reads them in lexical order and ignores names with `.` or ending in
            // `~` (package manager leftovers, editor backups).
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.ends_with('~') && !n.contains('.'))
                .collect();
            names.sort();
            for name in names {
                let path = dir.join(&name);
                if path.is_file() {
                    read(&path);
                }
            }
        }
        Err(e) if is_absent(&e) => {}
        Err(e) => {
            if e.kind() != io::ErrorKind::PermissionDenied {
                tracing::warn!(path = %dir.display(), error = %e, "cannot list sudoers.d");
            }
            unreadable = true;
        }
    }
    let mut grants = parse_sudoers(&text);
    if unreadable {
        tracing::debug!("sudoers not fully readable; assuming sudo/wheel groups grant sudo");
        grants
            .groups
            .extend(FALLBACK_SUDO_GROUPS.iter().map(|g| (*g).to_owned()));
    }
    grants
}

/// Finds who the rules of a sudoers text (all files concatenated, so aliases defined in
/// one apply in the next) name. Negated entries (`!alice`) grant nothing; `Defaults`
/// and the host, command and runas aliases are ignored.
pub fn parse_sudoers(text: &str) -> SudoGrants {
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    let mut user_lists: Vec<Vec<String>> = Vec::new();
    for line in logical_lines(text) {
        let line = line.trim();
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        match first {
            "User_Alias" => {
                let definitions = line[first.len()..].trim();
                // `User_Alias A = x, y : B = z`
                for definition in definitions.split(':') {
                    if let Some((name, members)) = definition.split_once('=') {
                        aliases.insert(name.trim().to_owned(), split_list(members));
                    }
                }
            }
            "Host_Alias" | "Cmnd_Alias" | "Cmd_Alias" | "Runas_Alias" => {}
            f if f.starts_with("Defaults") || f.starts_with('@') => {}
            _ => {
                let Some((users_and_hosts, _)) = line.split_once('=') else {
                    continue;
                };
                // "alice, %ops  ALL" → first word after joining comma-separated items.
                let joined = split_list(users_and_hosts).join(",");
                if let Some(users) = joined.split_whitespace().next() {
                    user_lists.push(split_list(users));
                }
            }
        }
    }
    let mut grants = SudoGrants::default();
    for list in &user_lists {
        for entry in list {
            add_entry(entry, &aliases, &mut grants, 0);
        }
    }
    grants
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn add_entry(
    entry: &str,
    aliases: &HashMap<String, Vec<String>>,
    grants: &mut SudoGrants,
    depth: u8,
) {
    let entry = entry.trim();
    if entry.is_empty() || entry.starts_with('!') || entry.starts_with('+') {
        return; // negation, or a netgroup we cannot resolve
    }
    if entry == "ALL" {
        grants.everyone = true;
    } else if let Some(group) = entry.strip_prefix('%') {
        let group = group.strip_prefix(':').unwrap_or(group);
        match group.strip_prefix('#') {
            Some(gid) => grants.gids.extend(gid.parse::<u32>().ok()),
            None => {
                grants.groups.insert(group.to_owned());
            }
        }
    } else if let Some(uid) = entry.strip_prefix('#') {
        grants.uids.extend(uid.parse::<u32>().ok());
    } else if let Some(members) = aliases.get(entry) {
        // Aliases may name aliases; the depth bound stops a cycle.
        if depth < 8 {
            for member in members {
                add_entry(member, aliases, grants, depth + 1);
            }
        }
    } else {
        grants.users.insert(entry.to_owned());
    }
}

/// Joins backslash-continued lines and drops comments. `#` followed by a digit is a uid
/// (`#0`, `%#27`), not a comment.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = strip_comment(raw);
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        lines.push(pending);
    }
    lines
}

fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            return &line[..i];
        }
    }
    line
}

/// Whether a shell lets the account log in.
fn login_shell(shell: &str) -> bool {
    !shell.is_empty() && !shell.ends_with("nologin") && !shell.ends_with("false")
}

/// Combines passwd, group and sudo grants into accounts sorted by uid (then name). A
/// name listed twice keeps its first entry, as `getpwnam` does.
pub fn build_accounts(
    users: &[PasswdEntry],
    groups: &[GroupEntry],
    grants: &SudoGrants,
) -> Vec<Account> {
    let mut by_name: BTreeMap<&str, &PasswdEntry> = BTreeMap::new();
    for user in users {
        by_name.entry(user.name.as_str()).or_insert(user);
    }
    let mut accounts: Vec<Account> = by_name
        .values()
        .map(|user| {
            let in_group =
                |group: &GroupEntry| group.gid == user.gid || group.members.contains(&user.name);
            let sudo = user.uid == 0
                || grants.everyone
                || grants.users.contains(&user.name)
                || grants.uids.contains(&user.uid)
                || grants.gids.contains(&user.gid)
                || groups.iter().any(|g| {
                    in_group(g) && (grants.groups.contains(&g.name) || grants.gids.contains(&g.gid))
                });
            Account {
                name: user.name.clone(),
                uid: user.uid,
                gid: user.gid,
                home: user.home.clone(),
                shell: user.shell.clone(),
                login: login_shell(&user.shell),
                sudo,
            }
        })
        .collect();
    accounts.sort_by(|a, b| a.uid.cmp(&b.uid).then_with(|| a.name.cmp(&b.name)));
    accounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/bin/false
# a comment
+@nisusers::::::
nurse:x:1000:1000:Nurse Station,,,:/home/nurse:/bin/bash
radiology:x:1001:1001::/home/radiology:/bin/sh
admin1:x:1002:1002::/home/admin1:/bin/zsh
pacs:x:1003:1003::/srv/pacs:
broken:x:notanumber:1::/:/bin/sh
short:x:5
nurse:x:2000:2000:duplicate:/tmp:/bin/sh
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
";

    const GROUP: &str = "\
root:x:0:
sudo:x:27:nurse
wheel:x:10:radiology
adm:x:4:syslog,nurse
nurse:x:1000:
radiology:x:1001:
admin1:x:1002:
ops:x:2500:pacs
garbage line
";

    fn flags(accounts: &[Account]) -> Vec<(&str, u32, bool, bool)> {
        accounts
            .iter()
            .map(|a| (a.name.as_str(), a.uid, a.login, a.sudo))
            .collect()
    }

    #[test]
    fn parses_passwd_and_group() {
        let users = parse_passwd(PASSWD);
        assert_eq!(users.len(), 12);
        assert_eq!(users[0].name, "root");
        assert_eq!(users[6].home, "/home/nurse");
        assert_eq!(users[9].shell, "");
        let groups = parse_group(GROUP);
        assert_eq!(groups.len(), 8);
        assert_eq!(groups[3].members, vec!["syslog", "nurse"]);
        assert!(groups[0].members.is_empty());
    }

    #[test]
    fn sudo_from_group_rule_and_user_rule() {
        let grants = parse_sudoers(
            "# /etc/sudoers\n\
             Defaults\tenv_reset\n\
             Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"\n\
             Cmnd_Alias PACS_CMDS = /usr/bin/systemctl restart pacs\n\
             root\tALL=(ALL:ALL) ALL\n\
             %sudo\tALL=(ALL:ALL) ALL  # admins\n\
             admin1 ALL = (root) NOPASSWD: /usr/bin/apt-get update\n\
             @includedir /etc/sudoers.d\n",
        );
        let accounts = build_accounts(&parse_passwd(PASSWD), &parse_group(GROUP), &grants);
        assert_eq!(
            flags(&accounts),
            vec![
                ("root", 0, true, true),
                ("daemon", 1, false, false),
                ("sync", 4, true, false),
                ("backup", 34, false, false),
                ("_apt", 42, false, false),
                ("sshd", 100, false, false),
                ("systemd-network", 998, false, false),
                ("nurse", 1000, true, true),
                ("radiology", 1001, true, false),
                ("admin1", 1002, true, true),
                ("pacs", 1003, false, false),
            ]
        );
        // The first `nurse` line wins.
        assert_eq!(accounts[7].home, "/home/nurse");
    }

    #[test]
    fn aliases_uids_gids_continuations_and_negation() {
        let grants = parse_sudoers(
            "User_Alias RADIO = radiology, \\\n   %ops : NOBODY = !daemon\n\
             RADIO, #34 ws-ward3 = (ALL) ALL\n\
             NOBODY ALL = ALL\n\
             %#1002 ALL=(ALL) /bin/true\n\
             Host_Alias WARD = ws-ward3\n",
        );
        assert!(grants.users.contains("radiology"));
        assert!(grants.groups.contains("ops"));
        assert!(grants.uids.contains(&34));
        assert!(grants.gids.contains(&1002));
        assert!(!grants.users.contains("daemon"));
        assert!(!grants.everyone);
        let accounts = build_accounts(&parse_passwd(PASSWD), &parse_group(GROUP), &grants);
        let sudoers = sudo_names(&accounts);
        assert_eq!(
            sudoers,
            vec!["root", "backup", "radiology", "admin1", "pacs"]
        );
    }

    #[test]
    fn all_users_rule_and_alias_cycle() {
        assert!(parse_sudoers("ALL ALL=(ALL) ALL\n").everyone);
        let grants = parse_sudoers("User_Alias A = B\nUser_Alias B = A, carol\nA ALL=ALL\n");
        assert!(grants.users.contains("carol"));
    }

    #[test]
    fn reads_sudoers_files_like_sudo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let etc = dir.path().join("etc");
        fs::create_dir_all(etc.join("sudoers.d")).expect("mkdir");
        fs::write(etc.join("passwd"), PASSWD).expect("passwd");
        fs::write(etc.join("group"), GROUP).expect("group");
        fs::write(etc.join("sudoers"), "root ALL=(ALL) ALL\n").expect("sudoers");
        fs::write(etc.join("sudoers.d/radiology"), "radiology ALL=(ALL) ALL\n").expect("d");
        fs::write(etc.join("sudoers.d/pacs.dpkg-old"), "pacs ALL=(ALL) ALL\n").expect("d");
        fs::write(etc.join("sudoers.d/nurse~"), "nurse ALL=(ALL) ALL\n").expect("d");
        fs::create_dir_all(etc.join("sudoers.d/subdir")).expect("subdir");

        let accounts = collect(&CollectRoot::at(dir.path())).expect("accounts");
        let sudoers = sudo_names(&accounts);
        // sudo group membership alone grants nothing when sudoers does not say so.
        assert_eq!(sudoers, vec!["root", "radiology"]);
        assert!(accounts.windows(2).all(|w| w[0].uid <= w[1].uid));
    }

    /// Names of the accounts with sudo rights, in collection order.
    fn sudo_names(accounts: &[Account]) -> Vec<&str> {
        accounts
            .iter()
            .filter(|a| a.sudo)
            .map(|a| a.name.as_str())
            .collect()
    }

    #[test]
    fn no_sudoers_means_only_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        fs::write(dir.path().join("etc/passwd"), PASSWD).expect("passwd");
        fs::write(dir.path().join("etc/group"), GROUP).expect("group");
        let accounts = collect(&CollectRoot::at(dir.path())).expect("accounts");
        let sudoers = sudo_names(&accounts);
        assert_eq!(sudoers, vec!["root"]);
    }

    #[test]
    fn unreadable_sudoers_falls_back_to_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let etc = dir.path().join("etc");
        fs::create_dir_all(&etc).expect("mkdir");
        fs::write(etc.join("passwd"), PASSWD).expect("passwd");
        fs::write(etc.join("group"), GROUP).expect("group");
        // Unreadable even for root: a directory where the file should be.
        fs::create_dir_all(etc.join("sudoers")).expect("sudoers dir");
        let accounts = collect(&CollectRoot::at(dir.path())).expect("accounts");
        let sudoers = sudo_names(&accounts);
        assert_eq!(sudoers, vec!["root", "nurse", "radiology"]);
    }

    #[test]
    fn comments_keep_uids() {
        assert_eq!(strip_comment("#1000 ALL=ALL # note"), "#1000 ALL=ALL ");
        assert_eq!(strip_comment("# whole line"), "");
        assert_eq!(strip_comment("%#27 ALL=ALL"), "%#27 ALL=ALL");
    }
}

//! Operating system facts: distribution, kernel, host name, machine id, addresses, boot.
//!
//! Kernel, architecture and addresses come from system calls, which describe the running
//! machine; they are only asked when the [`CollectRoot`] is the live system, so a test
//! root never mixes in facts of the machine running the test.

use std::collections::BTreeMap;
use std::net::IpAddr;

use wardwatch_proto::OsInfo;

use super::{read_optional, CollectError, CollectRoot};

/// Collects the operating system facts of `root`.
pub fn collect(root: &CollectRoot) -> Result<OsInfo, CollectError> {
    let release = read_os_release(root)?;
    let field = |key: &str| release.get(key).cloned().unwrap_or_default();

    let uts = if root.is_live() { Some(uname()?) } else { None };
    let kernel = match &uts {
        Some(uts) => uts.release.clone(),
        None => first_line(read_optional(&root.proc_path("sys/kernel/osrelease"))?),
    };
    let arch = uts.as_ref().map(|u| u.machine.clone()).unwrap_or_default();

    let mut hostname = read_optional(&root.path("etc/hostname"))?
        .map(|text| parse_hostname_file(&text))
        .unwrap_or_default();
    if hostname.is_empty() {
        hostname = match &uts {
            Some(uts) => uts.nodename.clone(),
            None => first_line(read_optional(&root.proc_path("sys/kernel/hostname"))?),
        };
    }

    // Older systems keep it only where D-Bus put it.
    let mut machine_id = first_line(read_optional(&root.path("etc/machine-id"))?);
    if machine_id.is_empty() {
        machine_id = first_line(read_optional(&root.path("var/lib/dbus/machine-id"))?);
    }

    let addresses = if root.is_live() {
        interface_addresses()?
    } else {
        Vec::new()
    };

    let stat_path = root.proc_path("stat");
    // Every Linux proc has it; without it the boot time would be invented.
    let stat = std::fs::read_to_string(&stat_path).map_err(|source| CollectError::Read {
        path: stat_path.clone(),
        source,
    })?;
    let boot_time = parse_boot_time(&stat).ok_or_else(|| CollectError::Malformed {
        path: stat_path.clone(),
        detail: "no valid `btime` line".into(),
    })?;

    Ok(OsInfo {
        hostname,
        machine_id,
        os_id: field("ID"),
        os_version_id: field("VERSION_ID"),
        os_pretty_name: field("PRETTY_NAME"),
        os_codename: field("VERSION_CODENAME"),
        kernel,
        arch,
        addresses,
        boot_time,
    })
}

/// `/etc/os-release`, or the vendor copy in `/usr/lib` that it normally points to. Neither
/// existing (a minimal container) leaves the distribution fields empty.
fn read_os_release(root: &CollectRoot) -> Result<BTreeMap<String, String>, CollectError> {
    for rel in ["etc/os-release", "usr/lib/os-release"] {
        if let Some(text) = read_optional(&root.path(rel))? {
            return Ok(parse_os_release(&text));
        }
    }
    tracing::warn!(root = %root.root.display(), "no os-release file; distribution unknown");
    Ok(BTreeMap::new())
}

/// Parses os-release(5): `KEY=value` lines with shell quoting. Lines that are not
/// assignments are ignored, as systemd does.
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            tracing::debug!(line = index + 1, "os-release line without `=` ignored");
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            tracing::debug!(line = index + 1, "os-release line with invalid key ignored");
            continue;
        }
        fields.insert(key.to_owned(), unquote_shell(raw.trim()));
    }
    fields
}

/// Undoes shell quoting of one word: `'...'` literally, `"..."` with `\"`, `\\`, `\$`
/// and `` \` `` escapes, and a backslash outside quotes escaping any character. An
/// unterminated quote keeps what was read: a best-effort value beats none.
fn unquote_shell(raw: &str) -> String {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut out = String::with_capacity(raw.len());
    let mut quote = Quote::None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match quote {
            Quote::None => match c {
                '\'' => quote = Quote::Single,
                '"' => quote = Quote::Double,
                '\\' => {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                c if c.is_whitespace() => break,
                c => out.push(c),
            },
            Quote::Single => match c {
                '\'' => quote = Quote::None,
                c => out.push(c),
            },
            Quote::Double => match c {
                '"' => quote = Quote::None,
                '\\' => match chars.next() {
                    Some(next @ ('"' | '\\' | '$' | '`')) => out.push(next),
                    Some(next) => {
                        out.push('\\');
                        out.push(next);
                    }
                    None => out.push('\\'),
                },
                c => out.push(c),
            },
        }
    }
    out
}

/// hostname(5): the first line that is not a comment.
fn parse_hostname_file(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default()
        .to_owned()
}

fn first_line(text: Option<String>) -> String {
    text.as_deref()
        .and_then(|t| t.lines().next())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The `btime` line of `/proc/stat`: boot time in Unix seconds.
pub fn parse_boot_time(stat: &str) -> Option<i64> {
    stat.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("btime"), Some(value)) => value.parse().ok(),
            _ => None,
        }
    })
}

struct Uname {
    release: String,
    machine: String,
    nodename: String,
}

#[cfg(unix)]
fn uname() -> Result<Uname, CollectError> {
    let uts = wardwatch_os::host::uname().map_err(|source| CollectError::Syscall {
        call: "uname",
        source,
    })?;
    Ok(Uname {
        release: uts.release,
        machine: uts.machine,
        nodename: uts.nodename,
    })
}

#[cfg(not(unix))]
fn uname() -> Result<Uname, CollectError> {
    Ok(Uname {
        release: String::new(),
        machine: std::env::consts::ARCH.to_owned(),
        nodename: String::new(),
    })
}

/// Addresses worth reporting: not loopback, not unspecified, not IPv6 link-local
/// (`fe80::/10` exists on every interface and says nothing about the network). IPv4
/// link-local (169.254/16) is kept: it means DHCP failed, which is worth seeing.
fn keep_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified(),
        IpAddr::V6(v6) => {
            !v6.is_loopback()
                && !v6.is_unspecified()
                && (v6.segments()[0] & 0xffc0) != 0xfe80
                && v6.to_ipv4_mapped().is_none_or(|v4| !v4.is_loopback())
        }
    }
}

/// Non-loopback addresses of all interfaces, sorted (IPv4 first) and deduplicated.
#[cfg(unix)]
fn interface_addresses() -> Result<Vec<String>, CollectError> {
    let all =
        wardwatch_os::host::interface_addresses().map_err(|source| CollectError::Syscall {
            call: "getifaddrs",
            source,
        })?;
    let found: std::collections::BTreeSet<IpAddr> = all.into_iter().filter(keep_address).collect();
    Ok(found.into_iter().map(|ip| ip.to_string()).collect())
}

#[cfg(not(unix))]
fn interface_addresses() -> Result<Vec<String>, CollectError> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release_quoting() {
        let text = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
# a comment
HOME_URL="https://www.debian.org/"
SINGLE='it''s \ literal'
ESCAPED="say \"hi\" for \$5 \\ \n"
BARE=with\ space
not an assignment
BAD-KEY=x
EMPTY=
"#;
        let fields = parse_os_release(text);
        assert_eq!(fields["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(fields["VERSION_ID"], "12");
        assert_eq!(fields["VERSION_CODENAME"], "bookworm");
        assert_eq!(fields["ID"], "debian");
        assert_eq!(fields["SINGLE"], r"its \ literal");
        assert_eq!(fields["ESCAPED"], r#"say "hi" for $5 \ \n"#);
        assert_eq!(fields["BARE"], "with space");
        assert_eq!(fields["EMPTY"], "");
        assert!(!fields.contains_key("BAD-KEY"));
        assert_eq!(fields.len(), 11);
    }

    #[test]
    fn unterminated_quote_keeps_text() {
        let fields = parse_os_release("NAME=\"Broken\n");
        assert_eq!(fields["NAME"], "Broken");
    }

    #[test]
    fn parses_boot_time() {
        let stat = "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n\
                    intr 1462898 0 0\nctxt 5432106\nbtime 1718091234\nprocesses 26442\n";
        assert_eq!(parse_boot_time(stat), Some(1_718_091_234));
        assert_eq!(parse_boot_time("cpu 1 2\n"), None);
        assert_eq!(parse_boot_time("btime soon\n"), None);
    }

    #[test]
    fn hostname_file_skips_comments() {
        assert_eq!(
            parse_hostname_file("# set by installer\n\nward3-pc\n"),
            "ward3-pc"
        );
        assert_eq!(parse_hostname_file(""), "");
    }

    #[test]
    fn filters_addresses() {
        let keep = |s: &str| keep_address(&s.parse().expect("test address"));
        assert!(keep("10.20.30.40"));
        assert!(keep("169.254.10.1"));
        assert!(keep("2001:db8::10"));
        assert!(!keep("127.0.0.1"));
        assert!(!keep("::1"));
        assert!(!keep("fe80::1"));
        assert!(!keep("febf::1"));
        assert!(!keep("0.0.0.0"));
    }

    #[test]
    fn live_system_has_kernel_and_arch() {
        let os = collect(&CollectRoot::live()).expect("live os facts");
        assert!(!os.kernel.is_empty());
        assert!(!os.arch.is_empty());
        assert!(!os.hostname.is_empty());
        assert!(os.boot_time > 1_000_000_000);
        let mut sorted = os.addresses.clone();
        sorted.dedup();
        assert_eq!(sorted, os.addresses);
        assert!(os.addresses.iter().all(|a| a != "127.0.0.1" && a != "::1"));
    }
}

//! RPM packages, by asking the `rpm` binary.
//!
//! The rpm database format changed several times (Berkeley DB, NDB, SQLite) and is not
//! meant to be read by others, so the agent runs `rpm -qa` with a fixed query format
//! instead of parsing it.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use wardwatch_proto::Package;

use super::{CollectError, CollectRoot};

const ECOSYSTEM: &str = "rpm";

/// Query format passed to `rpm --qf`; rpm itself expands the `\t` and `\n` escapes.
pub const QUERY_FORMAT: &str =
    r"%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n";

/// Installed rpm packages below `root`. No database, or a database but no `rpm` binary
/// to read it with, is an empty list; a failing query is an error.
pub fn collect(root: &CollectRoot) -> Result<Vec<Package>, CollectError> {
    // Newer Fedora and openSUSE keep it in /usr/lib/sysimage, usually with a symlink.
    let Some(db) = ["var/lib/rpm", "usr/lib/sysimage/rpm"]
        .iter()
        .map(|rel| root.path(rel))
        .find(|path| path.is_dir())
    else {
        return Ok(Vec::new());
    };
    let output = match Command::new("rpm")
        .arg("--root")
        .arg(&root.root)
        .args(["-qa", "--qf", QUERY_FORMAT])
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(
                db = %db.display(),
                "rpm database present but no `rpm` binary on PATH; rpm packages not inventoried"
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(rpm_error(db, format!("cannot run rpm: {e}"))),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(rpm_error(
            db,
            format!("rpm exited with {}: {}", output.status, stderr.trim()),
        ));
    }
    Ok(parse_rpm_query(&String::from_utf8_lossy(&output.stdout)))
}

fn rpm_error(db: PathBuf, detail: String) -> CollectError {
    CollectError::Rpm { db, detail }
}

/// Parses the output of `rpm -qa --qf` with [`QUERY_FORMAT`]. Malformed lines are skipped
/// with a warning. Several versions of one name can be installed (kernels, gpg-pubkey):
/// each is its own entry.
pub fn parse_rpm_query(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, evr, arch, source_rpm] = fields.as_slice() else {
            tracing::warn!(line = index + 1, "rpm query line without 4 fields skipped");
            continue;
        };
        let name = name.trim();
        let version = evr.trim();
        let version = version.strip_prefix("0:").unwrap_or(version);
        if name.is_empty() || version.is_empty() || version.ends_with(':') {
            tracing::warn!(
                line = index + 1,
                "rpm query line without name or version skipped"
            );
            continue;
        }
        let (source, source_version) = parse_source_rpm(source_rpm.trim(), version);
        packages.push(Package {
            ecosystem: ECOSYSTEM.into(),
            name: name.to_owned(),
            version: version.to_owned(),
            arch: none_as_empty(arch.trim()).to_owned(),
            source,
            source_version,
        });
    }
    packages.sort();
    packages.dedup();
    packages
}

/// rpm prints `(none)` for an absent tag.
fn none_as_empty(value: &str) -> &str {
    if value == "(none)" {
        ""
    } else {
        value
    }
}

/// `openssl-3.0.7-27.el9.src.rpm` → (`openssl`, `3.0.7-27.el9`). The file name has no
/// epoch; when it matches the binary's version-release the binary's full version (with
/// epoch) is used, so both read alike.
fn parse_source_rpm(source_rpm: &str, version: &str) -> (Option<String>, Option<String>) {
    let file = none_as_empty(source_rpm);
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))
        .unwrap_or(file);
    if stem.is_empty() {
        return (None, None);
    }
    let mut parts = stem.rsplitn(3, '-');
    let (release, ver, name) = (parts.next(), parts.next(), parts.next());
    let (Some(release), Some(ver), Some(name)) = (release, ver, name) else {
        return (Some(stem.to_owned()), Some(version.to_owned()));
    };
    let source_evr = format!("{ver}-{release}");
    let without_epoch = version.split_once(':').map_or(version, |(_, rest)| rest);
    let source_version = if without_epoch == source_evr {
        version.to_owned()
    } else {
        source_evr
    };
    (Some(name.to_owned()), Some(source_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `rpm -qa --qf QUERY_FORMAT` prints on a Rocky Linux 9 terminal.
    const QUERY: &str = "\
openssl-libs\t1:3.0.7-27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm
bash\t0:5.1.8-9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm
kernel-core\t0:5.14.0-427.13.1.el9_4\tx86_64\tkernel-5.14.0-427.13.1.el9_4.src.rpm
kernel-core\t0:5.14.0-362.8.1.el9_3\tx86_64\tkernel-5.14.0-362.8.1.el9_3.src.rpm
gpg-pubkey\t0:350d275d-6279464b\t(none)\t(none)
tzdata\t0:2024a-1.el9\tnoarch\ttzdata-2024a-1.el9.src.rpm
python3-libs\t0:3.9.18-3.el9_4.1\tx86_64\tpython3.9-3.9.18-3.el9_4.1.src.rpm
fake-lib\t2:1.0-1\ti686\tfake-0.9-1.src.rpm
broken line without tabs
\t0:1-1\tx86_64\tx.src.rpm
nover\t0:\tx86_64\tnover-1-1.src.rpm
";

    #[test]
    fn parses_query_output() {
        let packages = parse_rpm_query(QUERY);
        let summary = crate::package_rows(&packages);
        assert_eq!(
            summary,
            vec![
                (
                    "bash",
                    "5.1.8-9.el9",
                    "x86_64",
                    Some("bash"),
                    Some("5.1.8-9.el9")
                ),
                ("fake-lib", "2:1.0-1", "i686", Some("fake"), Some("0.9-1")),
                ("gpg-pubkey", "350d275d-6279464b", "", None, None),
                (
                    "kernel-core",
                    "5.14.0-362.8.1.el9_3",
                    "x86_64",
                    Some("kernel"),
                    Some("5.14.0-362.8.1.el9_3")
                ),
                (
                    "kernel-core",
                    "5.14.0-427.13.1.el9_4",
                    "x86_64",
                    Some("kernel"),
                    Some("5.14.0-427.13.1.el9_4")
                ),
                (
                    "openssl-libs",
                    "1:3.0.7-27.el9",
                    "x86_64",
                    Some("openssl"),
                    Some("1:3.0.7-27.el9")
                ),
                (
                    "python3-libs",
                    "3.9.18-3.el9_4.1",
                    "x86_64",
                    Some("python3.9"),
                    Some("3.9.18-3.el9_4.1")
                ),
                (
                    "tzdata",
                    "2024a-1.el9",
                    "noarch",
                    Some("tzdata"),
                    Some("2024a-1.el9")
                ),
            ]
        );
        assert!(packages.iter().all(|p| p.ecosystem == "rpm"));
    }

    #[test]
    fn odd_source_rpm_names() {
        assert_eq!(
            parse_source_rpm("weird.src.rpm", "1-1"),
            (Some("weird".into()), Some("1-1".into()))
        );
        assert_eq!(
            parse_source_rpm("firmware-20240101-1.nosrc.rpm", "20240101-1"),
            (Some("firmware".into()), Some("20240101-1".into()))
        );
        assert_eq!(parse_source_rpm("", "1-1"), (None, None));
    }

    #[test]
    fn no_database_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let packages = collect(&CollectRoot::at(dir.path())).expect("no rpm db");
        assert!(packages.is_empty());
    }
}

//! A signed apt repository made by the test, as a mirror would serve it: packages built
//! with `dpkg-deb`, the `Packages` index written by `dpkg-scanpackages`, an `InRelease`
//! clear-signed by `gpg` with a key made here; and a file server on 127.0.0.1 that
//! answers range requests and can cut a transfer short or serve altered bytes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// One package to build: name, version, `Depends` (or empty).
pub struct TestPackage<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub depends: &'a str,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a tool of the test repository");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository under `root` with suite `suite`, component main, amd64.
pub struct AptRepo {
    pub root: PathBuf,
    pub suite: String,
    /// The public key that signs it, as a keyring file for `gpgv`.
    pub keyring: PathBuf,
    gnupg: PathBuf,
}

impl AptRepo {
    pub fn build(work: &Path, suite: &str, packages: &[TestPackage<'_>]) -> AptRepo {
        let root = work.join("mirror");
        let gnupg = work.join("gnupg");
        std::fs::create_dir_all(&gnupg).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        run(Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--passphrase", "", "--quick-gen-key"])
            .args([
                "wardwatch test archive <archive@test.invalid>",
                "ed25519",
                "sign",
                "never",
            ]));
        let keyring = work.join("archive-keyring.gpg");
        let key = Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--export"])
            .output()
            .unwrap();
        std::fs::write(&keyring, key.stdout).unwrap();

        let pool = root.join("pool/main/w");
        for p in packages {
            let src = work.join(format!("build-{}-{}", p.name, p.version));
            std::fs::create_dir_all(src.join("DEBIAN")).unwrap();
            std::fs::create_dir_all(src.join("usr/share/doc").join(p.name)).unwrap();
            std::fs::write(
                src.join("usr/share/doc").join(p.name).join("README"),
                format!("{} {}\n", p.name, p.version),
            )
            .unwrap();
            let depends = if p.depends.is_empty() {
                String::new()
            } else {
                format!("Depends: {}\n", p.depends)
            };
            std::fs::write(
                src.join("DEBIAN/control"),
                format!(
                    "Package: {}\nVersion: {}\nArchitecture: amd64\nMaintainer: Ward IT <it@test.invalid>\n{depends}Description: test package of the patch tests\n",
                    p.name, p.version
                ),
            )
            .unwrap();
            let dir = pool.join(p.name);
            std::fs::create_dir_all(&dir).unwrap();
            let deb = dir.join(format!("{}_{}_amd64.deb", p.name, p.version));
            run(Command::new("dpkg-deb")
                .args(["--root-owner-group", "-Zgzip", "--build"])
                .arg(&src)
                .arg(&deb));
        }
        let repo = AptRepo {
            root,
            suite: suite.to_string(),
            keyring,
            gnupg,
        };
        repo.write_indexes();
        repo
    }

    pub fn dists(&self) -> PathBuf {
        self.root.join("dists").join(&self.suite)
    }

    /// Writes `Packages`, `Packages.gz`, `Release` and the signed `InRelease`.
    pub fn write_indexes(&self) {
        let binary = self.dists().join("main/binary-amd64");
        std::fs::create_dir_all(&binary).unwrap();
        let packages = run(Command::new("dpkg-scanpackages")
            .args(["--multiversion", "pool"])
            .current_dir(&self.root));
        std::fs::write(binary.join("Packages"), &packages).unwrap();
        let _ = std::fs::remove_file(binary.join("Packages.gz"));
        run(Command::new("gzip")
            .args(["-9nk"])
            .arg(binary.join("Packages")));
        self.sign_release(&[
            "main/binary-amd64/Packages",
            "main/binary-amd64/Packages.gz",
        ]);
    }

    /// Writes `Release` over the files named (relative to the suite) and clear-signs it.
    pub fn sign_release(&self, files: &[&str]) {
        let mut release = format!(
            "Origin: Ward IT\nLabel: test\nSuite: {0}\nCodename: {0}\nDate: Sat, 05 Dec 2026 08:00:00 UTC\nValid-Until: Sat, 05 Dec 2099 08:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n",
            self.suite
        );
        for f in files {
            let bytes = std::fs::read(self.dists().join(f)).unwrap();
            let hash = hex::encode(Sha256::digest(&bytes));
            release.push_str(&format!(" {hash} {} {f}\n", bytes.len()));
        }
        std::fs::write(self.dists().join("Release"), &release).unwrap();
        let _ = std::fs::remove_file(self.dists().join("InRelease"));
        run(Command::new("gpg")
            .env("GNUPGHOME", &self.gnupg)
            .args(["--batch", "--clearsign", "--output"])
            .arg(self.dists().join("InRelease"))
            .arg(self.dists().join("Release")));
    }
}

/// How the server misbehaves for one path.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Send this many bytes of the body, then close the connection (once).
    CutAfter(usize),
    /// Serve these bytes instead of the file.
    Replace(Vec<u8>),
    /// Answer with this status and no body.
    Status(u16),
}

/// Every request the server saw: (path, `Range` header if any).
pub type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A static file server on 127.0.0.1 with range requests and injected faults.
pub struct FileServer {
    pub url: String,
    pub faults: Arc<Mutex<HashMap<String, Fault>>>,
    /// Every request: (path, Range header if any).
    pub requests: RequestLog,
}

impl FileServer {
    pub fn start(root: &Path) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let faults: Arc<Mutex<HashMap<String, Fault>>> = Arc::default();
        let requests: RequestLog = Arc::default();
        let (root, f, r) = (root.to_path_buf(), faults.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, f, r) = (root.clone(), f.clone(), r.clone());
                std::thread::spawn(move || serve(stream, &root, &f, &r));
            }
        });
        FileServer {
            url,
            faults,
            requests,
        }
    }

    pub fn fault(&self, path: &str, fault: Fault) {
        self.faults.lock().unwrap().insert(path.to_string(), fault);
    }

    pub fn clear_faults(&self) {
        self.faults.lock().unwrap().clear();
    }
}

fn serve(
    mut stream: TcpStream,
    root: &Path,
    faults: &Mutex<HashMap<String, Fault>>,
    requests: &Mutex<Vec<(String, Option<String>)>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // One request per connection (`connection: close`).
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut range = None;
        let mut if_none_match = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
                if name.eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(value.trim().to_string());
                }
            }
        }
        requests.lock().unwrap().push((path.clone(), range.clone()));
        let fault = faults.lock().unwrap().get(&path).cloned();
        if let Some(Fault::Status(code)) = fault {
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {code} Injected\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
            return;
        }
        let decoded = path.replace("%7E", "~").replace("%7e", "~");
        let file = root.join(decoded.trim_start_matches('/'));
        let mut body = match (&fault, std::fs::read(&file)) {
            (Some(Fault::Replace(bytes)), _) => bytes.clone(),
            (_, Ok(bytes)) => bytes,
            (_, Err(_)) => {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
                return;
            }
        };
        let total = body.len();
        if if_none_match.as_deref() == Some(format!("\"{total}\"").as_str()) {
            let _ = stream.write_all(
                format!("HTTP/1.1 304 Not Modified\r\netag: \"{total}\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
            return;
        }
        let mut status = "200 OK";
        let mut extra = String::new();
        if let Some(start) = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|s| *s < total)
        {
            body = body[start..].to_vec();
            status = "206 Partial Content";
            extra = format!("content-range: bytes {start}-{}/{total}\r\n", total - 1);
        }
        // A version tag, so that a client may resume (If-Range); the files do not
        // change while a test runs.
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\netag: \"{total}\"\r\n{extra}connection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        if let Some(Fault::CutAfter(n)) = fault {
            faults.lock().unwrap().remove(&path);
            let _ = stream.write_all(&body[..n.min(body.len())]);
            let _ = stream.flush();
            return;
        }
        let _ = stream.write_all(&body);
        let _ = stream.flush();
    }
}

/// Reads a whole file (for comparing what the fetch copied).
pub fn bytes(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .read_to_end(&mut v)
        .unwrap();
    v
}

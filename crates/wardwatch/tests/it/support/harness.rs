//! Real processes for integration tests: the `wardwatch` binary as server and agents, on
//! loopback ports, in temporary directories the test owns. Every child process is
//! started here and killed here; nothing else on the machine is touched.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wardwatch_agent::state::StateDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_wardwatch");

/// Runs `wardwatch ARGS` to completion.
pub fn wardwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wardwatch")
}

/// The stdout of a command that must have succeeded; its output names why when not.
pub fn succeeded(out: Output) -> String {
    assert!(
        out.status.success(),
        "wardwatch failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stdout and stderr of a finished command, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        wait_exit(&mut self.child, timeout)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for a child to exit, up to `timeout`.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    if let Some(err) = child.stderr.take() {
        let sink = sink.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    sink
}

/// A server process on loopback.
pub struct TestServer {
    pub proc: Proc,
    pub data: PathBuf,
    pub console_url: String,
    pub agent_url: String,
    pub ca_fingerprint: String,
    pub admin_password: Option<String>,
}

impl TestServer {
    /// Starts a server with a fresh or existing data directory, on the given ports
    /// (0 picks free ones).
    pub fn start(data: &Path, console_port: u16, agent_port: u16) -> TestServer {
        Self::start_with(data, console_port, agent_port, |_| {})
    }

    /// Like [`TestServer::start`], with the command adjusted first (more flags, process
    /// settings).
    pub fn start_with(
        data: &Path,
        console_port: u16,
        agent_port: u16,
        adjust: impl FnOnce(&mut Command),
    ) -> TestServer {
        let mut command = Command::new(BIN);
        command
            .args(["server", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{console_port}")])
            .args(["--agent-listen", &format!("127.0.0.1:{agent_port}")])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().expect("start wardwatch server");
        let stderr = collect_stderr(&mut child);
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut console_url = None;
        let mut agent_url = None;
        let mut ca_fingerprint = None;
        let mut admin_password = None;
        let mut admin_line = false;
        let deadline = Instant::now() + Duration::from_secs(60);
        while console_url.is_none()
            || agent_url.is_none()
            || ca_fingerprint.is_none()
            || !admin_line
        {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "server did not report ready; stderr:\n{}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                )
            });
            let line = line.trim();
            if let Some(v) = line.strip_prefix("console:") {
                console_url = Some(v.trim().trim_end_matches('/').to_string());
            } else if let Some(v) = line.strip_prefix("agent API:") {
                agent_url = Some(v.trim().trim_end_matches('/').to_string());
            } else if let Some(v) = line.strip_prefix("CA fingerprint:") {
                ca_fingerprint = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("first admin:") {
                admin_password = v.split_once("password").map(|(_, p)| {
                    // Not a terminal: the password is in an owner-only file.
                    match p.trim().strip_prefix("in ") {
                        Some(rest) => {
                            let file = rest.split(" (").next().unwrap_or(rest);
                            std::fs::read_to_string(file)
                                .expect("read the first admin password file")
                                .trim()
                                .to_string()
                        }
                        None => p.trim().to_string(),
                    }
                });
                admin_line = true;
            } else if line.starts_with("admin:") {
                admin_line = true;
            }
        }
        TestServer {
            proc: Proc { child, stderr },
            data: data.to_path_buf(),
            console_url: console_url.unwrap_or_default(),
            agent_url: agent_url.unwrap_or_default(),
            ca_fingerprint: ca_fingerprint.unwrap_or_default(),
            admin_password,
        }
    }

    pub fn agent_port(&self) -> u16 {
        port_of(&self.agent_url)
    }

    pub fn console_port(&self) -> u16 {
        port_of(&self.console_url)
    }

    /// Creates an enrollment token with extra `token create` arguments.
    pub fn token(&self, extra: &[&str]) -> String {
        self.token_for("Test terminal", "Testing", extra)
    }

    /// Creates an enrollment token for a terminal with this label and department.
    pub fn token_for(&self, label: &str, department: &str, extra: &[&str]) -> String {
        let data = self.data.to_string_lossy().to_string();
        let mut args = vec![
            "token",
            "create",
            "--data",
            &data,
            "--label",
            label,
            "--department",
            department,
        ];
        args.extend_from_slice(extra);
        let out = wardwatch(&args);
        assert!(out.status.success(), "token create failed: {}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("token:").map(|t| t.trim().to_string()))
            .expect("token line")
    }

    /// Enrolls an agent state directory; returns the command's output.
    pub fn enroll(&self, state: &Path, token: &str, fingerprint: &str) -> Output {
        wardwatch(&[
            "agent",
            "enroll",
            "--state",
            &state.to_string_lossy(),
            "--server",
            &self.agent_url,
            "--token",
            token,
            "--ca-fingerprint",
            fingerprint,
        ])
    }

    /// Enrolls a new agent and returns its host id.
    pub fn enrolled_agent(&self, state: &Path) -> String {
        let token = self.token(&[]);
        let out = self.enroll(state, &token, &self.ca_fingerprint);
        assert!(out.status.success(), "enroll failed: {}", text(&out));
        StateDir::new(state)
            .load_enrollment()
            .expect("enrollment stored")
            .host_id
    }

    /// Adds a console user with `admin add` and returns the password it was given.
    pub fn add_user(&self, name: &str, role: &str) -> String {
        self.add_user_in(name, role, &[])
    }

    /// A console account of `role` with `departments` (an operator's); its password.
    pub fn add_user_in(&self, name: &str, role: &str, departments: &[&str]) -> String {
        let data = self.data.to_string_lossy().to_string();
        let mut args = vec!["user", "add", name, "--role", role, "--data", &data];
        for d in departments {
            args.extend(["--department", d]);
        }
        let out = wardwatch(&args);
        assert!(out.status.success(), "{}", text(&out));
        let prefix = format!("password for {name}:");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| {
                l.strip_prefix(prefix.as_str())
                    .map(|p| p.trim().to_string())
            })
            .expect("password line")
    }

    /// A read-only connection to the server's database.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data.join("wardwatch.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open server database")
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("port in URL")
}

/// Starts `wardwatch agent run` for a state directory, with extra arguments.
pub fn start_agent(state: &Path, extra: &[&str]) -> Proc {
    start_agent_with_env(&[], state, extra)
}

/// The same with environment variables set for the agent (e.g. libfaketime's). The
/// agent is the child itself, so stopping the child stops the agent.
pub fn start_agent_with_env(env: &[(&str, &str)], state: &Path, extra: &[&str]) -> Proc {
    let mut command = Command::new(BIN);
    command.envs(env.iter().copied());
    let mut child = command
        .args(["agent", "run", "--state"])
        .arg(state)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wardwatch agent");
    let stderr = collect_stderr(&mut child);
    Proc { child, stderr }
}

/// Polls `check` until it returns Some or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits up to 30 s for a host's inventory to arrive; returns its package count.
pub fn wait_for_packages(db: &rusqlite::Connection, host_id: &str) -> Option<i64> {
    wait_for(Duration::from_secs(30), || {
        db.query_row(
            "SELECT package_count FROM hosts WHERE id = ?1",
            [host_id],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|n| *n > 0)
    })
}

/// (events stored, distinct seqs, min seq, max seq) for a host.
pub fn event_stats(db: &rusqlite::Connection, host_id: &str, kind: &str) -> (i64, i64, i64, i64) {
    db.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT seq), IFNULL(MIN(seq), 0), IFNULL(MAX(seq), 0)
         FROM events WHERE host_id = ?1 AND kind = ?2",
        rusqlite::params![host_id, kind],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap_or((0, 0, 0, 0))
}

/// An HTTPS client for the agent API with an enrolled terminal's identity, or with no
/// client certificate at all (`identity: None`).
pub fn agent_http(state: &Path, identity: bool) -> reqwest::Client {
    let dir = StateDir::new(state);
    let read = |p: PathBuf| std::fs::read_to_string(p).expect("read state file");
    let ca = read(dir.ca_file());
    if identity {
        return agent_http_trusting(&ca, state);
    }
    let tls = {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(ca.as_bytes()).expect("ca"))
            .expect("add ca");
        rustls::ClientConfig::builder_with_provider(wardwatch_agent::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth()
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// An HTTPS client for the agent API that trusts the CA `ca` (PEM) and shows the
/// identity of the terminal enrolled in `state`.
pub fn agent_http_trusting(ca: &str, state: &Path) -> reqwest::Client {
    let dir = StateDir::new(state);
    let read = |p: PathBuf| std::fs::read_to_string(p).expect("read state file");
    let tls =
        wardwatch_agent::tls::mutual_tls_config(ca, &read(dir.cert_file()), &read(dir.key_file()))
            .expect("tls config");
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// An HTTPS client for the console that trusts the server's CA.
pub fn console_client(server: &TestServer) -> reqwest::Client {
    console_client_with(server, Some(&server.console_url), None)
}

/// An HTTPS client for the console that trusts the server's CA, sends `origin` as the
/// `Origin` of every request (the console refuses state-changing requests without a
/// same-origin one) and connects from `local` (another loopback address) if given.
pub fn console_client_with(
    server: &TestServer,
    origin: Option<&str>,
    local: Option<std::net::IpAddr>,
) -> reqwest::Client {
    let tls = console_tls(server);
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(origin) = origin {
        headers.insert(
            reqwest::header::ORIGIN,
            origin.parse().expect("origin as a header"),
        );
    }
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .default_headers(headers)
        .local_address(local)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// The TLS settings of a console client: the server's CA as the only root, no client
/// certificate.
pub fn console_tls(server: &TestServer) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let ca = std::fs::read(server.data.join("ca/ca.pem")).expect("read the CA certificate");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(&ca).expect("CA in PEM"))
        .expect("add CA");
    rustls::ClientConfig::builder_with_provider(wardwatch_agent::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// SHA-256 by coreutils, independent of the code under test.
pub fn sha256sum(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write to sha256sum");
    let out = child.wait_with_output().expect("sha256sum output");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every regular file below `root`: relative path and content, sorted.
pub fn files_below(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path.strip_prefix(root).unwrap().to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// Posts events as one batch (zstd JSON) to the agent API with `client` (a terminal's
/// identity); the answer's status.
pub fn post_events(
    client: &reqwest::Client,
    agent_url: &str,
    rt: &tokio::runtime::Runtime,
    events: Vec<wardwatch_proto::Event>,
) -> u16 {
    let batch = wardwatch_proto::Batch {
        protocol: wardwatch_proto::PROTOCOL_VERSION,
        events,
    };
    let json = serde_json::to_vec(&batch).unwrap();
    let body = zstd::bulk::compress(&json, 3).unwrap();
    rt.block_on(async {
        client
            .post(format!("{agent_url}/api/v1/events"))
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(body)
            .send()
            .await
            .expect("server answers")
            .status()
            .as_u16()
    })
}

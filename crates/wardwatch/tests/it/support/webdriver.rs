//! A small W3C WebDriver client for the console's browser tests.
//!
//! [`Browser::start`] runs `/usr/bin/chromedriver` (Debian package `chromium-driver`) on a
//! free local port and opens a headless Chromium session with a fresh profile. The
//! commands are plain HTTP+JSON to chromedriver (W3C WebDriver), sent with `reqwest`.
//!
//! Dropping a [`Browser`] closes the session and kills chromedriver and the browser, so a
//! failing test leaves no processes behind; [`Browser::quit`] does the same and reports
//! errors.
//!
//! `WARDWATCH_CHROMEDRIVER` and `WARDWATCH_CHROMIUM` override the two program paths.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM_CANDIDATES: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A headless Chromium driven through chromedriver.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT` of chromedriver.
    base: String,
    port: u16,
    session: String,
    closed: bool,
    log_path: PathBuf,
    /// The browser profile; removed after the browser is gone (fields drop after `drop`).
    _profile: tempfile::TempDir,
}

/// Why a WebDriver command failed.
enum Failure {
    /// chromedriver could not be reached or sent something that is not WebDriver JSON.
    Transport(anyhow::Error),
    /// chromedriver answered with a WebDriver error, e.g. `no such element`.
    WebDriver { error: String, message: String },
}

impl Failure {
    fn into_anyhow(self, what: &str) -> anyhow::Error {
        match self {
            Failure::Transport(e) => e.context(format!("WebDriver: {what} failed")),
            Failure::WebDriver { error, message } => {
                let message = message.lines().next().unwrap_or("").to_string();
                anyhow!("WebDriver: {what} failed: {error}: {message}")
            }
        }
    }
}

fn program_path(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn chromium_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("WARDWATCH_CHROMIUM") {
        let path = PathBuf::from(path);
        if path.exists() {
            return Ok(path);
        }
        bail!(
            "Chromium not found at {} (from WARDWATCH_CHROMIUM)",
            path.display()
        );
    }
    CHROMIUM_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or_else(|| {
            anyhow!(
                "Chromium not found at {}: install the chromium package",
                CHROMIUM_CANDIDATES[0]
            )
        })
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").context("finding a free local port for chromedriver")?;
    Ok(listener.local_addr()?.port())
}

/// An HTTP client for plain `http://` to chromedriver. reqwest is built with
/// `rustls-no-provider`, so it gets an explicit rustls configuration (never used for
/// plain HTTP) instead of relying on a process-wide default crypto provider.
fn http_client() -> Result<reqwest::Client> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("building the TLS configuration of the WebDriver HTTP client")?
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(COMMAND_TIMEOUT)
        .tls_backend_preconfigured(tls)
        .build()
        .context("building the WebDriver HTTP client")
}

/// The last lines of chromedriver's log, for error messages.
fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(15);
            lines[start..].join("\n")
        }
        Err(_) => String::from("(no chromedriver log)"),
    }
}

async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> std::result::Result<Value, Failure> {
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}: could not talk to chromedriver"))
        .map_err(Failure::Transport)?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("{method} {url}: reading chromedriver's answer"))
        .map_err(Failure::Transport)?;
    let parsed: Value = serde_json::from_str(&text)
        .with_context(|| {
            format!(
                "{method} {url}: chromedriver answered HTTP {status} with something that is not JSON: {}",
                text.chars().take(300).collect::<String>()
            )
        })
        .map_err(Failure::Transport)?;
    let value = parsed.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(Failure::WebDriver {
            error: error.to_string(),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    if !status.is_success() {
        return Err(Failure::Transport(anyhow!(
            "{method} {url}: chromedriver answered HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        )));
    }
    Ok(value)
}

fn element_id(value: &Value) -> Option<String> {
    value
        .get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl Browser {
    /// Starts /usr/bin/chromedriver on a free 127.0.0.1 port and a headless Chromium
    /// session (1280×900 window, fresh profile, certificate errors accepted since the
    /// server uses its own CA).
    pub async fn start() -> Result<Browser> {
        let driver_path = program_path("WARDWATCH_CHROMEDRIVER", CHROMEDRIVER);
        if !driver_path.exists() {
            bail!(
                "chromedriver not found at {}: install the chromium-driver package",
                driver_path.display()
            );
        }
        let chromium = chromium_path()?;
        let profile = tempfile::Builder::new()
            .prefix("wardwatch-chromium-")
            .tempdir()
            .context("creating a temporary Chromium profile directory")?;
        let log_path = profile.path().join("chromedriver.log");
        let user_data_dir = profile.path().join("profile");
        let port = free_port()?;

        let mut command = Command::new(&driver_path);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that the browser it starts can be killed with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .with_context(|| format!("starting {}", driver_path.display()))?;

        let mut browser = Browser {
            driver,
            http: http_client()?,
            base: format!("http://127.0.0.1:{port}"),
            port,
            session: String::new(),
            closed: false,
            log_path,
            _profile: profile,
        };
        browser.wait_until_driver_ready().await?;

        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--no-default-browser-check".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--window-size=1280,900".to_string(),
            format!("--user-data-dir={}", user_data_dir.display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "acceptInsecureCerts": true,
                    "pageLoadStrategy": "normal",
                    "timeouts": { "implicit": 0, "pageLoad": 30000, "script": 30000 },
                    "goog:chromeOptions": {
                        "binary": chromium.display().to_string(),
                        "args": args,
                    }
                }
            }
        });
        let url = format!("{}/session", browser.base);
        let value = send(&browser.http, Method::POST, &url, Some(&capabilities))
            .await
            .map_err(|f| {
                f.into_anyhow("starting a headless Chromium session")
                    .context(format!(
                        "chromedriver log ({}):\n{}",
                        browser.log_path.display(),
                        log_tail(&browser.log_path)
                    ))
            })?;
        browser.session = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("WebDriver: new session answer has no sessionId: {value}"))?
            .to_string();
        Ok(browser)
    }

    async fn wait_until_driver_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        let url = format!("{}/status", self.base);
        loop {
            if let Some(status) = self.driver.try_wait().context("checking on chromedriver")? {
                bail!(
                    "chromedriver exited at start ({status}); its log:\n{}",
                    log_tail(&self.log_path)
                );
            }
            match send(&self.http, Method::GET, &url, None).await {
                Ok(value) if value.get("ready").and_then(Value::as_bool) == Some(true) => {
                    return Ok(())
                }
                _ => {}
            }
            if started.elapsed() > DRIVER_START_TIMEOUT {
                bail!(
                    "chromedriver did not become ready on port {} within {:?}; its log:\n{}",
                    self.port,
                    DRIVER_START_TIMEOUT,
                    log_tail(&self.log_path)
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Sends a command of this session: `path` is relative to `/session/{id}`.
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> std::result::Result<Value, Failure> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        send(&self.http, method, &url, body.as_ref()).await
    }

    async fn command_or_err(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        what: impl FnOnce() -> String,
    ) -> Result<Value> {
        self.command(method, path, body)
            .await
            .map_err(|f| f.into_anyhow(&what()))
    }

    /// Opens `url` and waits for the page load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command_or_err(Method::POST, "/url", Some(json!({ "url": url })), || {
            format!("opening {url}")
        })
        .await?;
        Ok(())
    }

    /// The URL of the page on screen.
    pub async fn current_url(&self) -> Result<String> {
        let value = self
            .command_or_err(Method::GET, "/url", None, || {
                "reading the current URL".into()
            })
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// `Ok(None)` when no element matches.
    async fn try_find(&self, css: &str) -> Result<Option<String>> {
        let body = json!({ "using": "css selector", "value": css });
        match self.command(Method::POST, "/element", Some(body)).await {
            Ok(value) => element_id(&value).map(Some).ok_or_else(|| {
                anyhow!("WebDriver: finding `{css}`: no element reference in {value}")
            }),
            Err(Failure::WebDriver { error, .. }) if error == "no such element" => Ok(None),
            Err(f) => Err(f.into_anyhow(&format!("finding an element matching `{css}`"))),
        }
    }

    /// The first element matching the CSS selector; an error when there is none.
    pub async fn find(&self, css: &str) -> Result<String> {
        match self.try_find(css).await? {
            Some(id) => Ok(id),
            None => {
                let url = self.current_url().await.unwrap_or_default();
                bail!("no element matches `{css}` on {url}")
            }
        }
    }

    /// Polls until an element matches the CSS selector (present in the page, visible
    /// or not), and returns the first one.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<String> {
        let started = Instant::now();
        loop {
            if let Some(id) = self.try_find(css).await? {
                return Ok(id);
            }
            if started.elapsed() >= timeout {
                let url = self.current_url().await.unwrap_or_default();
                bail!(
                    "timed out after {timeout:?} waiting for an element matching `{css}` on {url}"
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Polls until the script (a function body, e.g. `return document.title == "x";`)
    /// returns `true`.
    pub async fn wait_until(&self, script: &str, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if self.execute(script).await? == Value::Bool(true) {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                let url = self.current_url().await.unwrap_or_default();
                bail!("timed out after {timeout:?} waiting on {url} until `{script}`");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// All elements matching the CSS selector, in document order (maybe none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<String>> {
        let body = json!({ "using": "css selector", "value": css });
        let value = self
            .command_or_err(Method::POST, "/elements", Some(body), || {
                format!("finding elements matching `{css}`")
            })
            .await?;
        let list = value
            .as_array()
            .ok_or_else(|| anyhow!("WebDriver: finding `{css}`: expected a list, got {value}"))?;
        list.iter()
            .map(|v| {
                element_id(v).ok_or_else(|| {
                    anyhow!("WebDriver: finding `{css}`: no element reference in {v}")
                })
            })
            .collect()
    }

    /// Types into an element (keys are added to what it holds).
    pub async fn type_text(&self, element: &str, text: &str) -> Result<()> {
        self.command_or_err(
            Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
            || "typing into an element".into(),
        )
        .await?;
        Ok(())
    }

    /// Empties an input or textarea.
    pub async fn clear(&self, element: &str) -> Result<()> {
        self.command_or_err(
            Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
            || "clearing an element".into(),
        )
        .await?;
        Ok(())
    }

    pub async fn click(&self, element: &str) -> Result<()> {
        self.command_or_err(
            Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
            || "clicking an element".into(),
        )
        .await?;
        Ok(())
    }

    /// The rendered text of an element (empty when it is hidden).
    pub async fn text(&self, element: &str) -> Result<String> {
        let value = self
            .command_or_err(
                Method::GET,
                &format!("/element/{element}/text"),
                None,
                || "reading the text of an element".into(),
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// An attribute of an element; `None` when it has no such attribute.
    pub async fn attribute(&self, element: &str, name: &str) -> Result<Option<String>> {
        let value = self
            .command_or_err(
                Method::GET,
                &format!("/element/{element}/attribute/{name}"),
                None,
                || format!("reading attribute `{name}` of an element"),
            )
            .await?;
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// Runs a script in the page (a function body: use `return` to get a value back).
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.command_or_err(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
            || {
                format!(
                    "running script `{}`",
                    script.chars().take(120).collect::<String>()
                )
            },
        )
        .await
    }

    /// Resizes the browser window (e.g. to check a narrow-screen layout).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.command_or_err(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
            || format!("resizing the window to {width}x{height}"),
        )
        .await?;
        Ok(())
    }

    /// Saves a PNG screenshot of the viewport, creating parent directories.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let value = self
            .command_or_err(Method::GET, "/screenshot", None, || {
                "taking a screenshot".into()
            })
            .await?;
        let encoded = value
            .as_str()
            .ok_or_else(|| anyhow!("WebDriver: screenshot answer is not a string"))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .context("decoding the screenshot's base64")?;
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// Signs in to the console at `console_url` (its login page), waits for the first
    /// page (the overview), then opens the host list and waits for it.
    pub async fn sign_in(
        &self,
        console_url: &str,
        user: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<()> {
        self.goto(&format!("{console_url}/")).await?;
        let name = self.wait_for("#username", timeout).await?;
        self.type_text(&name, user).await?;
        let pass = self.find("#password").await?;
        self.type_text(&pass, password).await?;
        self.click(&self.find("#login-submit").await?).await?;
        self.wait_for("#overview", timeout).await?;
        self.click(&self.find("#nav-hosts").await?).await?;
        self.wait_for("#hosts-table", timeout).await?;
        Ok(())
    }

    /// Opens the Incidents view, waits until it lists exactly one incident naming every
    /// terminal in `hosts`, and opens that incident.
    pub async fn open_the_only_incident(&self, hosts: &[&str], timeout: Duration) -> Result<()> {
        self.click(&self.find("#nav-incidents").await?).await?;
        let names = serde_json::to_string(hosts)?;
        self.wait_until(
            &format!(
                "var rows = document.querySelectorAll('tr.incident-row'); if (rows.length !== 1) return false; \
                 var shown = rows[0].querySelector('.incident-hosts').textContent; \
                 return {names}.every(function (h) {{ return shown.indexOf(h) >= 0; }});"
            ),
            timeout,
        )
        .await
        .with_context(|| format!("one incident naming {hosts:?}"))?;
        self.click(&self.find("tr.incident-row a").await?).await?;
        Ok(())
    }

    /// Closes the session and stops chromedriver and the browser.
    pub async fn quit(mut self) -> Result<()> {
        let result = self
            .command(Method::DELETE, "", None)
            .await
            .map_err(|f| f.into_anyhow("closing the browser session"));
        self.closed = true;
        self.kill_driver();
        result.map(|_| ())
    }

    fn kill_driver(&mut self) {
        let pid = self.driver.id() as libc::pid_t;
        // SAFETY: signals the process group that chromedriver leads (spawned with
        // process_group(0)); it holds only chromedriver and what it started.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Closes the session with a blocking HTTP request (Drop cannot await), so that the
/// browser shuts down cleanly before chromedriver is killed.
fn delete_session_blocking(port: u16, session: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            if !self.session.is_empty() {
                delete_session_blocking(self.port, &self.session);
            }
            self.closed = true;
            self.kill_driver();
        }
    }
}

//! `wardwatch bench console`: the console at the scale of a hospital group. A fresh data
//! directory gets N terminals in 24 departments and M vulnerability findings written
//! straight into the database (package names from this machine's dpkg database and CVE
//! ids from the CISA KEV catalog when they are there; a third of the findings fixed, as
//! history), then a real `wardwatch server` is started on loopback and the console's
//! first page, its charts and filtered host lists are asked for over HTTPS as the browser
//! asks, each REPEAT times. No peer tool serves this console; the goal is 200 ms.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use wardwatch_server::DataLayout;

/// The answer time the console aims at on this kind of machine.
const GOAL_MS: f64 = 200.0;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

pub async fn run(
    exe: &Path,
    hosts: usize,
    findings: usize,
    repeat: usize,
    dir: Option<&Path>,
) -> anyhow::Result<()> {
    if hosts == 0 {
        bail!("--hosts must be at least 1");
    }
    let temp = tempfile::tempdir()?;
    let data: PathBuf = dir.map_or_else(|| temp.path().join("data"), Path::to_path_buf);
    drop(wardwatch_server::open_data_dir(&data).context("prepare the data directory")?);
    let started = Instant::now();
    let db = DataLayout::database(&data);
    let (h, f, d) = (hosts, findings, db.clone());
    tokio::task::spawn_blocking(move || wardwatch_bench::console_data::fill(&d, h, f)).await??;
    let fill_secs = started.elapsed().as_secs_f64();
    let db_mib = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;

    let mut server =
        wardwatch_bench::server_process::start(exe, &data, Duration::from_secs(120)).await?;
    let password = std::fs::read_to_string(data.join("first-admin-password"))
        .context("the first admin password file")?;
    let ca = std::fs::read(DataLayout::ca_dir(&data).join("ca.pem")).context("the server's CA")?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, server.console.parse()?);
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.context("the server's CA certificate")?)?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .default_headers(headers)
        .build()?;
    let login = client
        .post(format!("{}/api/login", server.console))
        .json(&serde_json::json!({ "username": "admin", "password": password.trim() }))
        .send()
        .await?;
    if !login.status().is_success() {
        bail!("login refused: {}", login.text().await.unwrap_or_default());
    }
    let cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_string();

    println!("wardwatch bench console: {hosts} terminals, {findings} findings ({db_mib:.0} MiB database, filled in {fill_secs:.1} s)");
    println!(
        "{:<58} {:>8} {:>8} {:>8} {:>7}",
        "request", "p50 ms", "p95 ms", "max ms", "goal"
    );
    let requests = [
        ("overview (first page)", "/api/overview".to_string()),
        (
            "overview chart: risk over 30 days",
            "/api/overview/risk.svg".into(),
        ),
        (
            "overview chart: findings by department",
            "/api/overview/departments.svg".into(),
        ),
        ("host list, first page", "/api/hosts?limit=100".into()),
        (
            "host list: search 'ward 3' online, sorted by OS",
            "/api/hosts?q=ward%203&status=online&sort=os&limit=100".into(),
        ),
        (
            "host list: department Radiology, page 2",
            "/api/hosts?department=Radiology&limit=100&offset=100".into(),
        ),
        (
            "findings: used by ransomware, first page",
            "/api/vuln/findings?priority=ransomware&limit=100".into(),
        ),
    ];
    let mut all_met = true;
    for (name, path) in requests {
        let mut times = Vec::with_capacity(repeat);
        for _ in 0..repeat.max(1) {
            let t = Instant::now();
            let response = client
                .get(format!("{}{path}", server.console))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await?;
            if !status.is_success() {
                bail!("{path} answered {status}: {body}");
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let p50 = percentile(&times, 0.5);
        let met = p50 < GOAL_MS;
        all_met &= met;
        println!(
            "{name:<58} {p50:>8.1} {:>8.1} {:>8.1} {:>7}",
            percentile(&times, 0.95),
            times.last().copied().unwrap_or(0.0),
            if met { "met" } else { "MISSED" }
        );
    }
    println!(
        "  * each request over HTTPS on loopback with a session, {repeat} times after none before (the first is a cold one)"
    );
    println!(
        "  * goal: p50 under {GOAL_MS} ms: {}",
        if all_met {
            "met by every request"
        } else {
            "missed (see above)"
        }
    );
    let _ = server.child.start_kill();
    let _ = server.child.wait().await;
    Ok(())
}

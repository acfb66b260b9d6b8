//! The terminal's repository on the server, as a `rustic_core` backend: restic's REST
//! protocol through the agent's one mutual-TLS client, so backups use the same identity,
//! pool and time limits as every other call, and the server picks the repository by the
//! certificate.
//!
//! rustic_core calls backends from its own threads and expects them to block; each call
//! here runs the async request on the agent's runtime and waits for it.

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use wardwatch_backup::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};

use crate::client::ServerClient;

/// Longest a pack upload or download may take: packs are up to tens of megabytes and a
/// ward's link may be slow or throttled.
const FILE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How long a request waits out a repository the server holds for retention.
const BUSY_PATIENCE: Duration = Duration::from_secs(30 * 60);

const REST_V2: &str = "application/vnd.x.restic.rest.v2";

/// restic's REST protocol at `path` on the server.
pub struct RestBackend {
    client: ServerClient,
    runtime: tokio::runtime::Handle,
    path: String,
}

impl RestBackend {
    /// A backend for the repository at `path` (e.g. `/api/v1/backup/repo/`); requests
    /// run on `runtime`, which must not be the calling thread's own.
    pub fn new(client: ServerClient, runtime: tokio::runtime::Handle, path: &str) -> Self {
        let mut path = path.to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        RestBackend {
            client,
            runtime,
            path,
        }
    }

    fn url_of(&self, tpe: FileType, id: Option<&Id>) -> String {
        match (tpe, id) {
            (FileType::Config, _) => format!("{}config", self.path),
            (t, None) => format!("{}{}/", self.path, t.dirname()),
            (t, Some(id)) => format!("{}{}/{}", self.path, t.dirname(), id.to_hex().as_str()),
        }
    }

    /// Sends a request and waits for its whole answer. While the server answers 503
    /// (a retention run holds the repository alone), asks again after a growing pause,
    /// for up to [`BUSY_PATIENCE`] in all.
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<(u16, Bytes), Box<RusticError>> {
        let mut waited = Duration::ZERO;
        let mut pause = Duration::from_secs(2);
        loop {
            let answer = self.send_once(method.clone(), path, &build)?;
            if answer.0 != 503 || waited >= BUSY_PATIENCE {
                return Ok(answer);
            }
            tracing::info!(
                path,
                pause_s = pause.as_secs(),
                "backup repository busy on the server; asking again"
            );
            std::thread::sleep(pause);
            waited += pause;
            pause = (pause * 2).min(Duration::from_secs(60));
        }
    }

    fn send_once(
        &self,
        method: reqwest::Method,
        path: &str,
        build: &impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<(u16, Bytes), Box<RusticError>> {
        let request = build(self.client.call(method, path).timeout(FILE_TIMEOUT));
        self.runtime.block_on(async move {
            let response = request.send().await.map_err(|e| {
                RusticError::new(
                    ErrorKind::Backend,
                    "cannot reach the wardwatch server for the backup repository: {error}",
                )
                .attach_context("error", crate::error_chain(&e))
            })?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| {
                RusticError::new(
                    ErrorKind::Backend,
                    "the answer from the backup repository broke off: {error}",
                )
                .attach_context("error", crate::error_chain(&e))
            })?;
            Ok((status, body))
        })
    }
}

/// The server's error sentence out of a JSON error body, or the body as text.
fn refusal(method: &reqwest::Method, path: &str, status: u16, body: &[u8]) -> Box<RusticError> {
    let sentence = serde_json::from_slice::<wardwatch_proto::ErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    RusticError::new(
        ErrorKind::Backend,
        "the backup repository refused {method} {path} ({status}): {message}",
    )
    .attach_context("method", method.to_string())
    .attach_context("path", path.to_string())
    .attach_context("status", status.to_string())
    .attach_context("message", sentence)
}

#[derive(Deserialize)]
struct Listed {
    name: String,
    size: u64,
}

impl ReadBackend for RestBackend {
    fn location(&self) -> String {
        format!("wardwatch-server:{}", self.path)
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let path = self.url_of(tpe, None);
            let (status, body) = self.send(reqwest::Method::GET, &path, |r| r)?;
            return match status {
                200 => Ok(vec![(
                    Id::default(),
                    u32::try_from(body.len()).unwrap_or(u32::MAX),
                )]),
                404 => Ok(Vec::new()),
                s => Err(refusal(&reqwest::Method::GET, &path, s, &body)),
            };
        }
        let path = self.url_of(tpe, None);
        let (status, body) = self.send(reqwest::Method::GET, &path, |r| {
            r.header(reqwest::header::ACCEPT, REST_V2)
        })?;
        if status != 200 {
            return Err(refusal(&reqwest::Method::GET, &path, status, &body));
        }
        let listed: Vec<Listed> = serde_json::from_slice(&body).map_err(|e| {
            RusticError::new(
                ErrorKind::Backend,
                "the backup repository's listing is not readable: {error}",
            )
            .attach_context("error", e.to_string())
        })?;
        listed
            .into_iter()
            .map(|f| {
                let id: Id = f.name.parse().map_err(|_| {
                    RusticError::new(
                        ErrorKind::Backend,
                        "the backup repository listed a file that is not an id: {name}",
                    )
                    .attach_context("name", f.name.clone())
                })?;
                Ok((id, u32::try_from(f.size).unwrap_or(u32::MAX)))
            })
            .collect()
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let path = self.url_of(tpe, Some(id));
        let (status, body) = self.send(reqwest::Method::GET, &path, |r| r)?;
        match status {
            200 => Ok(body),
            s => Err(refusal(&reqwest::Method::GET, &path, s, &body)),
        }
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let path = self.url_of(tpe, Some(id));
        let end = u64::from(offset) + u64::from(length.max(1)) - 1;
        let (status, body) = self.send(reqwest::Method::GET, &path, |r| {
            r.header(reqwest::header::RANGE, format!("bytes={offset}-{end}"))
        })?;
        match status {
            206 | 200 if body.len() == length as usize => Ok(body),
            200 => {
                // A server that ignored the range: cut it here.
                let start = offset as usize;
                let stop = start.saturating_add(length as usize).min(body.len());
                Ok(body.slice(start.min(stop)..stop))
            }
            s => Err(refusal(&reqwest::Method::GET, &path, s, &body)),
        }
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.url_of(tpe, Some(id))
    }
}

impl WriteBackend for RestBackend {
    /// The server creates the repository; there is nothing to do.
    fn create(&self) -> RusticResult<()> {
        Ok(())
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let path = self.url_of(tpe, Some(id));
        let mut body = Vec::with_capacity(content.size());
        for part in content.slice() {
            body.extend_from_slice(part);
        }
        let body = Bytes::from(body);
        let (status, answer) = self.send(reqwest::Method::POST, &path, |r| {
            r.header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })?;
        match status {
            200 | 201 => Ok(()),
            s => Err(refusal(&reqwest::Method::POST, &path, s, &answer)),
        }
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let path = self.url_of(tpe, Some(id));
        let (status, answer) = self.send(reqwest::Method::DELETE, &path, |r| r)?;
        match status {
            200 | 204 => Ok(()),
            s => Err(refusal(&reqwest::Method::DELETE, &path, s, &answer)),
        }
    }
}

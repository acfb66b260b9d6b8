//! TLS listeners: the agent API (mutual TLS) and the console (server TLS only).
//!
//! Connections are accepted by hand rather than through `axum::serve` so that the
//! client certificate of each connection can be attached to its requests: the agent API
//! identifies a terminal by the certificate it presented, never by anything in the body.
//! Doing it by hand also lets each listener cap its connections ([`crate::admission`])
//! and bound every stage of a connection in time ([`crate::timeouts`]), so that slow or
//! hostile clients cannot hold connections (and file descriptors) indefinitely.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::admission::{Admission, Permit, RefusalLog, REFUSAL_LOG_INTERVAL};
use crate::api_error::ApiError;
use crate::limits::{ListenerLimits, Timeouts};
use crate::timeouts::{Activity, MinRateBody, Watched};

/// The leaf certificate the client presented on this connection, if any (DER).
#[derive(Clone, Debug, Default)]
pub struct PeerCertificate(pub Option<Arc<Vec<u8>>>);

/// The crypto provider used throughout: ring, one choice for server and agent.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS for the agent API: client certificates signed by our CA are verified when
/// presented. They are optional at the TLS layer so that enrollment (which has no
/// certificate yet) works on the same port and so that a missing certificate gets a
/// readable HTTP error instead of a bare handshake failure; every endpoint except
/// enrollment then requires one.
pub fn agent_tls_config(
    ca: &CertificateDer<'static>,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone())?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert, ca.clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// TLS for the console: the server certificate, no client certificates.
pub fn console_tls_config(
    ca: &CertificateDer<'static>,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert, ca.clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// What [`serve`] needs besides the socket, the TLS configuration and the app.
pub struct Listener {
    /// Name for log lines: "console" or "agent API".
    pub name: &'static str,
    pub limits: ListenerLimits,
    pub timeouts: Timeouts,
}

/// Accepts TLS connections on `listener` and serves `app` on them until `shutdown`
/// turns true. A connection over the listener's caps is closed before the TLS
/// handshake; every stage of a connection has a time limit (see [`Timeouts`]).
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    app: Router,
    settings: Listener,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let admission = Admission::new(settings.limits);
    let refusals = RefusalLog::new(settings.name, REFUSAL_LOG_INTERVAL);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Usually EMFILE under load: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        if *shutdown.borrow() {
            break;
        }
        let permit = match admission.try_admit(remote.ip()) {
            Ok(permit) => permit,
            Err(refusal) => {
                refusals.note(refusal, remote.ip(), settings.limits);
                drop(tcp);
                continue;
            }
        };
        tokio::spawn(serve_connection(
            tcp,
            remote,
            acceptor.clone(),
            app.clone(),
            settings.timeouts,
            permit,
        ));
    }
}

/// One connection: the TLS handshake, then HTTP/1.1 until the client or a time limit
/// ends it. `_permit` holds the connection's place under the caps until it closes.
async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    acceptor: TlsAcceptor,
    app: Router,
    timeouts: Timeouts,
    _permit: Permit,
) {
    let _ = tcp.set_nodelay(true);
    let stream = match tokio::time::timeout(timeouts.handshake, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(%remote, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%remote, "TLS handshake timed out");
            return;
        }
    };
    let peer = PeerCertificate(
        stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|c| Arc::new(c.to_vec())),
    );
    let activity = Activity::new();
    let handlers = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let handling = handlers.handling();
        let tripped = Arc::new(AtomicBool::new(false));
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(peer.clone());
        parts.extensions.insert(axum::extract::ConnectInfo(remote));
        let body = MinRateBody::new(
            body,
            timeouts.body,
            timeouts.body_min_bytes,
            tripped.clone(),
        );
        let response = app.clone().call(hyper::Request::from_parts(parts, body));
        async move {
            let response = response.await;
            drop(handling);
            if tripped.load(Ordering::Relaxed) {
                tracing::debug!(%remote, "request body too slow; answered 408");
                return Ok(body_too_slow(&timeouts));
            }
            response
        }
    });
    // Plain HTTP/1.1 (the only protocol offered by ALPN): hyper-util's automatic
    // version detection would first wait for the HTTP/2 preface with no time limit.
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .serve_connection(
            TokioIo::new(Watched::new(stream, activity.clone())),
            service,
        );
    tokio::select! {
        ended = connection => {
            if let Err(e) = ended {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        }
        _ = activity.idle(timeouts.idle) => {
            tracing::debug!(%remote, "closing an idle connection");
        }
    }
}

/// The answer to a request whose body came too slowly; the connection closes after it.
fn body_too_slow(timeouts: &Timeouts) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body arrived too slowly: less than {} bytes in {} s; send the request again over a faster or less busy link",
            timeouts.body_min_bytes,
            timeouts.body.as_secs_f64()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

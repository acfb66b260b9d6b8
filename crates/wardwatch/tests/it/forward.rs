//! Forwarding to syslog (TCP and TLS) and to a webhook, with the receiver down for a
//! while: the messages wait in the database and all arrive, exactly once, once it is
//! back, across a server restart too. The receivers are written here, on 127.0.0.1.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::harness::*;

const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads octet-counted syslog frames: `LEN SP MSG`.
fn read_frames(stream: &mut dyn Read, got: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = Vec::new();
        match reader.read_until(b' ', &mut len) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Ok(n) = std::str::from_utf8(&len[..len.len() - 1])
            .unwrap_or("x")
            .parse::<usize>()
        else {
            panic!(
                "not an octet-counted frame: {:?}",
                String::from_utf8_lossy(&len)
            );
        };
        let mut message = vec![0; n];
        if reader.read_exact(&mut message).is_err() {
            return;
        }
        got.lock()
            .unwrap()
            .push(String::from_utf8(message).expect("UTF-8 message"));
    }
}

/// A syslog receiver on a fixed port, plain or TLS, that can be stopped and started.
struct Receiver {
    port: u16,
    tls: Option<Arc<rustls::ServerConfig>>,
    got: Arc<Mutex<Vec<String>>>,
    running: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Receiver {
    fn new(port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> Receiver {
        Receiver {
            port,
            tls,
            got: Arc::default(),
            running: None,
        }
    }

    fn start(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (got, tls, stopping) = (self.got.clone(), self.tls.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_millis(100)))
                    .unwrap();
                serve(stream, tls.clone(), &got, &stopping);
            }
        });
        self.running = Some((stop, handle));
    }

    /// Closes the connection and the port.
    fn stop(&mut self) {
        if let Some((stop, handle)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            handle.join().unwrap();
        }
    }

    fn ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|m| {
                let start = m.find("id=\"").expect("structured data with the id") + 4;
                m[start..].split('"').next().unwrap().to_string()
            })
            .collect()
    }
}

/// Reads frames from one connection until it ends or the receiver is stopped.
fn serve(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    got: &Mutex<Vec<String>>,
    stopping: &AtomicBool,
) {
    /// A reader that gives up when the receiver stops, retrying read timeouts.
    struct Stoppable<'a, R: Read> {
        inner: R,
        stopping: &'a AtomicBool,
    }
    impl<R: Read> Read for Stoppable<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            loop {
                if self.stopping.load(Ordering::SeqCst) {
                    return Ok(0);
                }
                match self.inner.read(buf) {
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    other => return other,
                }
            }
        }
    }
    match tls {
        None => read_frames(
            &mut Stoppable {
                inner: stream,
                stopping,
            },
            got,
        ),
        Some(config) => {
            let connection = rustls::ServerConnection::new(config).unwrap();
            let tls = rustls::StreamOwned::new(connection, stream);
            read_frames(
                &mut Stoppable {
                    inner: tls,
                    stopping,
                },
                got,
            );
        }
    }
}

/// Every audit entry of the server, as the ids a receiver must have seen.
fn audit_ids(data: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("wardwatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn.prepare("SELECT id FROM audit ORDER BY id").unwrap();
    let ids = stmt
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|id| format!("audit-{}", id.unwrap()))
        .collect();
    ids
}

/// Waits until the receiver has every audit entry, then checks each came once.
fn all_arrived_once(receiver: &Receiver, data: &Path, what: &str) {
    let arrived = wait_for(WAIT, || {
        let want: BTreeSet<String> = audit_ids(data).into_iter().collect();
        let got: BTreeSet<String> = receiver.ids().into_iter().collect();
        want.is_subset(&got).then_some(())
    });
    let ids = receiver.ids();
    assert!(arrived.is_some(), "{what}: not everything arrived: {ids:?}");
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{what}: a message came twice: {ids:?}"
    );
}

fn make_entries(server: &TestServer, n: usize, tag: &str) {
    for i in 0..n {
        server.token_for(&format!("{tag} desk {i}"), "Outpatients", &[]);
    }
}

fn run_syslog_case(tls: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let port = free_port();
    let (server_tls, ca_pem) = if tls {
        let (config, ca) = tls_receiver_config();
        (Some(config), Some(ca))
    } else {
        (None, None)
    };
    let ca_file = tmp.path().join("syslog-ca.pem");
    if let Some(ca) = &ca_pem {
        std::fs::write(&ca_file, ca).unwrap();
    }
    let url = format!("{}://localhost:{port}", if tls { "tls" } else { "tcp" });
    let start = |data: &Path| {
        TestServer::start_with(data, 0, 0, |c| {
            c.args(["--syslog", &url, "--forward-from-start"]);
            if tls {
                c.arg("--syslog-ca").arg(&ca_file);
            }
        })
    };
    let mut server = start(&data);
    let mut receiver = Receiver::new(port, server_tls);

    // Down from the start: entries wait in the database.
    make_entries(&server, 5, "first");
    std::thread::sleep(Duration::from_secs(2));
    receiver.start();
    all_arrived_once(&receiver, &data, "after the receiver came up");

    // Down again while more is recorded, then back.
    receiver.stop();
    make_entries(&server, 4, "second");
    std::thread::sleep(Duration::from_secs(2));
    receiver.start();
    all_arrived_once(&receiver, &data, "after the receiver came back");

    // Down while the server restarts: what waited is sent by the new process.
    receiver.stop();
    make_entries(&server, 3, "third");
    server.proc.terminate(Duration::from_secs(10));
    let mut server = start(&data);
    make_entries(&server, 2, "fourth");
    receiver.start();
    all_arrived_once(&receiver, &data, "after a server restart");
    let messages = receiver.got.lock().unwrap().clone();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"action\":\"forward.down\"")),
        "going down is recorded and forwarded once back"
    );
    assert!(messages
        .iter()
        .all(|m| m.starts_with("<10") && m.contains(" wardwatch ")));
    server.proc.terminate(Duration::from_secs(10));
    receiver.stop();
}

/// A CA and a certificate for `localhost` signed by it: the receiver's TLS
/// configuration and the CA's PEM for `--syslog-ca`.
fn tls_receiver_config() -> (Arc<rustls::ServerConfig>, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hospital log CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    (Arc::new(config), ca_cert.pem())
}

#[test]
fn syslog_over_tcp_gets_everything_once_after_being_down() {
    run_syslog_case(false);
}

#[test]
fn syslog_over_tls_gets_everything_once_after_being_down() {
    run_syslog_case(true);
}

#[test]
fn a_webhook_that_refuses_for_a_while_gets_every_message_once_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let secret = "a long shared secret for the SIEM";
    let secret_file = tmp.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    // 503 to the first few requests, then 200.
    let refusals = Arc::new(AtomicU16::new(3));
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let (r, g) = (refusals.clone(), got.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut signature = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
                if name.eq_ignore_ascii_case("x-wardwatch-signature") {
                    signature = value.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let refuse = r
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let status = if refuse {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            if !refuse {
                let expected = format!(
                    "sha256={}",
                    wardwatch_server::forward::webhook::sign(secret.as_bytes(), &body)
                );
                assert_eq!(signature, expected, "the body is signed with the secret");
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                for m in v["messages"].as_array().unwrap() {
                    g.lock()
                        .unwrap()
                        .push(m["id"].as_str().unwrap().to_string());
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    let mut server = TestServer::start_with(&data, 0, 0, |c| {
        c.args(["--webhook", &format!("http://127.0.0.1:{port}/siem")])
            .arg("--webhook-secret-file")
            .arg(&secret_file)
            .arg("--forward-from-start");
    });
    make_entries(&server, 5, "webhook");
    let arrived = wait_for(WAIT, || {
        let want: BTreeSet<String> = audit_ids(&data).into_iter().collect();
        let have: BTreeSet<String> = got.lock().unwrap().iter().cloned().collect();
        want.is_subset(&have).then_some(())
    });
    let ids = got.lock().unwrap().clone();
    assert!(arrived.is_some(), "not everything arrived: {ids:?}");
    assert_eq!(
        refusals.load(Ordering::SeqCst),
        0,
        "the receiver refused first"
    );
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a message came twice: {ids:?}");
    server.proc.terminate(Duration::from_secs(10));
}

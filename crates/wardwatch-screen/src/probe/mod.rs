//! Telling what answers on an open port. A service that speaks first (SSH, FTP,
//! Telnet, VNC, MySQL, SMTP) names itself in its greeting; for the others the screen
//! asks, each question on a connection of its own and the likeliest first by port.

pub mod banner;
pub mod db;
pub mod dicom;
pub mod hl7;
pub mod http;
pub mod io;
pub mod rdp;
pub mod smb;
pub mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::report::{Protocol, Service};

/// How long the screen waits on one service.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub connect: Duration,
    /// For a greeting, before asking.
    pub banner: Duration,
    /// For each answer to a question.
    pub answer: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(1500),
            banner: Duration::from_secs(2),
            answer: Duration::from_secs(3),
        }
    }
}

/// The questions asked of a silent service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    Http,
    Https,
    Dicom,
    Hl7,
    Redis,
    Postgres,
    Smb,
    Rdp,
}

const QUESTIONS: [Question; 8] = [
    Question::Http,
    Question::Https,
    Question::Dicom,
    Question::Hl7,
    Question::Redis,
    Question::Postgres,
    Question::Smb,
    Question::Rdp,
];

/// The question the port's usual service answers, asked before waiting for a greeting.
fn hinted(port: u16) -> Option<Question> {
    match port {
        80 | 3000 | 5000 | 7001 | 8000 | 8008 | 8042 | 8080 | 8081 | 8888 | 9000 | 9090 => {
            Some(Question::Http)
        }
        443 | 8443 | 9443 => Some(Question::Https),
        104 | 4242 | 11112 => Some(Question::Dicom),
        2575 | 2576 | 5554 | 6661 | 6662 | 7777 | 2761 | 2762 => Some(Question::Hl7),
        6379 => Some(Question::Redis),
        5432 => Some(Question::Postgres),
        445 => Some(Question::Smb),
        3389 => Some(Question::Rdp),
        _ => None,
    }
}

/// The longest identification may take: a greeting, then every question, each on a
/// connection of its own and some with two round trips. A service that keeps the
/// screen longer is reported as open and unidentified.
pub fn longest(timing: &Timing) -> Duration {
    let questions = QUESTIONS.len() as u32;
    timing.banner + (timing.connect + timing.answer * 2) * (questions + 1)
}

/// Identifies the service at `addr`, starting on the connection `first`.
pub async fn identify(addr: SocketAddr, first: TcpStream, timing: &Timing) -> Service {
    let mut spare = Some(first);
    let hint = hinted(addr.port());
    if let Some(question) = hint {
        if let Some(conn) = connection(&mut spare, addr, timing).await {
            if let Some(service) = ask(question, conn, addr, timing).await {
                return service;
            }
        }
    }
    let Some(mut conn) = connection(&mut spare, addr, timing).await else {
        return Service::new(Protocol::Unknown);
    };
    let greeting = io::read_answer(&mut conn, timing.banner, 4096, |d| !d.is_empty()).await;
    if !greeting.is_empty() {
        return match banner::classify(&mut conn, &greeting, timing.answer).await {
            Some(service) => service,
            None => Service::new(Protocol::Unknown).with("banner", io::printable(&greeting, 80)),
        };
    }
    spare = Some(conn);
    for question in QUESTIONS.into_iter().filter(|q| Some(*q) != hint) {
        let Some(conn) = connection(&mut spare, addr, timing).await else {
            break;
        };
        if let Some(service) = ask(question, conn, addr, timing).await {
            return service;
        }
    }
    Service::new(Protocol::Unknown)
}

async fn ask(
    question: Question,
    mut conn: TcpStream,
    addr: SocketAddr,
    timing: &Timing,
) -> Option<Service> {
    let wait = timing.answer;
    match question {
        Question::Http => http::probe(&mut conn, addr, wait).await,
        Question::Https => tls::probe(conn, addr, wait).await,
        Question::Dicom => dicom::probe(conn, addr, wait).await,
        Question::Hl7 => hl7::probe(&mut conn, wait).await,
        Question::Redis => db::redis(&mut conn, wait).await,
        Question::Postgres => db::postgres(&mut conn, wait).await,
        Question::Smb => smb::probe(conn, addr, wait).await,
        Question::Rdp => rdp::probe(conn, addr, wait).await,
    }
}

/// The unused connection, or a new one.
async fn connection(
    spare: &mut Option<TcpStream>,
    addr: SocketAddr,
    timing: &Timing,
) -> Option<TcpStream> {
    if let Some(conn) = spare.take() {
        return Some(conn);
    }
    match tokio::time::timeout(timing.connect, TcpStream::connect(addr)).await {
        Ok(Ok(conn)) => Some(conn),
        _ => None,
    }
}

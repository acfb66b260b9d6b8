//! Syslog: RFC 5424 messages, framed by octet counting (RFC 6587 over TCP, RFC 5425 over
//! TLS), so that no text from a terminal can end a message early or start a new one.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::message::Source;
use super::Message;

/// The SD-ID of wardwatch's structured data. 32473 is the private enterprise number set
/// aside for examples (RFC 5612); receivers match on the name before the `@`.
const SD_ID: &str = "wardwatch@32473";
/// Facilities: log audit (13) for the audit record, log alert (14) for alerts.
const AUDIT_FACILITY: u8 = 13;
const ALERT_FACILITY: u8 = 14;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where messages go: `tcp://HOST:PORT` or `tls://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl SyslogTarget {
    pub fn parse(url: &str) -> Result<SyslogTarget, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("tcp://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("tls://") {
            (true, rest)
        } else {
            return Err(format!(
                "syslog address {url:?} must start with tcp:// or tls:// (e.g. tls://loghost:6514)"
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
            format!("syslog address {url:?} has no port (e.g. tcp://loghost:514)")
        })?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("syslog address {url:?}: {port:?} is not a port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('@') || host.contains('/') {
            return Err(format!("syslog address {url:?} has no usable host name"));
        }
        Ok(SyslogTarget {
            tls,
            host: host.to_string(),
            port,
        })
    }

    /// As shown in logs, the console and the audit record.
    pub fn name(&self) -> String {
        format!(
            "syslog {}://{}:{}",
            if self.tls { "tls" } else { "tcp" },
            self.host,
            self.port
        )
    }
}

/// Printable US-ASCII without spaces, as the header fields must be; `-` if nothing is left.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".into()
    } else {
        field
    }
}

/// An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 6.3.3).
fn param_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        // Control characters are not wrong in UTF-8, but some receivers split on them.
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

fn timestamp(millis: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// One message in RFC 5424's form (without its frame).
pub fn format(message: &Message, hostname: &str) -> String {
    let facility = match message.source {
        Source::Audit => AUDIT_FACILITY,
        Source::Alert => ALERT_FACILITY,
    };
    let msgid = match message.source {
        Source::Audit => "audit",
        Source::Alert => "alert",
    };
    let pri = u16::from(facility) * 8 + u16::from(message.severity.min(7));
    let mut sd = format!("[{SD_ID} id=\"{}\"", param_value(&message.id));
    if let Some(host) = &message.host {
        sd.push_str(&format!(" host=\"{}\"", param_value(host)));
    }
    sd.push(']');
    let body = serde_json::to_string(&message.body).unwrap_or_default();
    format!(
        "<{pri}>1 {} {} wardwatch {} {msgid} {sd} \u{feff}{body}",
        timestamp(message.time),
        header_field(hostname, 255),
        std::process::id()
    )
}

/// A message with its octet-counting frame: its length in bytes, a space, the message.
pub fn frame(message: &str) -> String {
    format!("{} {message}", message.len())
}

enum Connection {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection {
    fn tcp(&self) -> &TcpStream {
        match self {
            Connection::Tcp(s) => s,
            Connection::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether the receiver has closed: a syslog receiver never sends, so a readable
    /// socket means end of stream (or, under TLS, its closing alert).
    async fn closed(&self) -> bool {
        let tcp = self.tcp();
        let ready = tokio::time::timeout(Duration::ZERO, tcp.ready(Interest::READABLE)).await;
        let Ok(Ok(ready)) = ready else {
            return false;
        };
        if ready.is_read_closed() {
            return true;
        }
        if !ready.is_readable() {
            return false;
        }
        let mut byte = [0u8; 1];
        // Readable, so the peek answers at once.
        match tokio::time::timeout(Duration::from_millis(100), tcp.peek(&mut byte)).await {
            Ok(Ok(0)) => true,
            Ok(Ok(_)) => matches!(self, Connection::Tls(_)),
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Connection::Tcp(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Connection::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }
}

/// A syslog receiver, connected when there is something to send.
pub struct SyslogSink {
    target: SyslogTarget,
    tls: Option<Arc<rustls::ClientConfig>>,
    hostname: String,
    connection: Option<Connection>,
}

impl SyslogSink {
    /// `tls` is required for a `tls://` target.
    pub fn new(
        target: SyslogTarget,
        tls: Option<Arc<rustls::ClientConfig>>,
        hostname: String,
    ) -> Self {
        SyslogSink {
            target,
            tls,
            hostname,
            connection: None,
        }
    }

    async fn connect(&self) -> Result<Connection, String> {
        let address = (self.target.host.as_str(), self.target.port);
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| format!("cannot connect: {e}"))?;
        if !self.target.tls {
            return Ok(Connection::Tcp(tcp));
        }
        let config = self
            .tls
            .clone()
            .ok_or_else(|| "no TLS configuration for a tls:// target".to_string())?;
        let name = rustls::pki_types::ServerName::try_from(self.target.host.clone())
            .map_err(|e| format!("{:?} is not a server name: {e}", self.target.host))?;
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TlsConnector::from(config).connect(name, tcp),
        )
        .await
        .map_err(|_| "the TLS handshake did not finish within 10 s".to_string())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
        Ok(Connection::Tls(Box::new(tls)))
    }

    /// Sends a batch, connecting first if needed; on any failure the connection is
    /// dropped and the whole batch is to be sent again.
    pub async fn send(&mut self, batch: &[Message]) -> Result<(), String> {
        if let Some(connection) = &self.connection {
            if connection.closed().await {
                self.connection = None;
            }
        }
        let mut connection = match self.connection.take() {
            Some(c) => c,
            None => self.connect().await?,
        };
        let mut bytes = String::new();
        for message in batch {
            bytes.push_str(&frame(&format(message, &self.hostname)));
        }
        match tokio::time::timeout(WRITE_TIMEOUT, connection.write_all(bytes.as_bytes())).await {
            Ok(Ok(())) => {
                self.connection = Some(connection);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("cannot write: {e}")),
            Err(_) => Err("the receiver took more than 30 s to accept a batch".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(source: Source, host: Option<&str>, body: serde_json::Value) -> Message {
        Message {
            id: "alert-7".into(),
            source,
            row: 7,
            time: 1_764_892_800_123,
            severity: 2,
            host: host.map(str::to_string),
            body,
        }
    }

    #[test]
    fn a_message_has_rfc5424s_header_and_escaped_structured_data() {
        let m = message(
            Source::Alert,
            Some("ward\"3]\\pc\nx"),
            json!({"title": "line one\nline two ] \" \\"}),
        );
        let text = format(&m, "wardwatch server");
        assert!(
            text.starts_with("<114>1 2025-12-05T00:00:00.123Z wardwatchserver wardwatch "),
            "{text}"
        );
        assert!(
            text.contains(
                " alert [wardwatch@32473 id=\"alert-7\" host=\"ward\\\"3\\]\\\\pc x\"] \u{feff}{"
            ),
            "{text}"
        );
        // The JSON keeps the newline escaped: the message is one line.
        assert!(!text.contains('\n'), "{text}");
        let framed = frame(&text);
        let (len, rest) = framed.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), rest.len());
    }

    #[test]
    fn audit_entries_go_to_the_log_audit_facility() {
        let mut m = message(Source::Audit, None, json!({"action": "token.create"}));
        m.severity = 5;
        let text = format(&m, "");
        assert!(text.starts_with("<109>1 "), "{text}");
        assert!(
            text.contains(" - wardwatch "),
            "an empty hostname is a dash: {text}"
        );
        assert!(
            text.contains(" audit [wardwatch@32473 id=\"alert-7\"] "),
            "{text}"
        );
    }

    #[test]
    fn targets_are_checked() {
        assert_eq!(
            SyslogTarget::parse("tls://loghost.example:6514").unwrap(),
            SyslogTarget {
                tls: true,
                host: "loghost.example".into(),
                port: 6514
            }
        );
        assert_eq!(SyslogTarget::parse("tcp://[::1]:514").unwrap().host, "::1");
        for bad in [
            "udp://h:514",
            "tcp://h",
            "tcp://:514",
            "tcp://u@h:514",
            "tcp://h:99999",
        ] {
            assert!(SyslogTarget::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Which services are risky on a hospital network, why, and what to do about them.

use crate::report::{Finding, Protocol, Service, Severity};

fn finding(severity: Severity, title: &str, reason: &str, remedy: &str) -> Finding {
    Finding {
        severity,
        title: title.to_string(),
        reason: reason.to_string(),
        remedy: remedy.to_string(),
    }
}

/// The findings for one identified service.
pub fn of(service: &Service) -> Vec<Finding> {
    let mut out = Vec::new();
    match service.protocol {
        Protocol::Telnet => out.push(finding(
            Severity::High,
            "Telnet is open",
            "Telnet sends user names and passwords unencrypted; anyone on the segment can read them, and ransomware operators use it to move between machines.",
            "Turn the Telnet server off and use SSH; if a device offers nothing else, allow it only from the one management station by firewall.",
        )),
        Protocol::Ftp if service.detail("anonymous_login") == Some("allowed") => out.push(finding(
            Severity::High,
            "FTP allows anonymous login",
            "Anyone on the network can list and read the files this server shares (scanner and modality exports often hold patient data).",
            "Disable anonymous access (vsftpd: anonymous_enable=NO) or turn the FTP server off and share through SFTP.",
        )),
        Protocol::Ftp => out.push(finding(
            Severity::Medium,
            "FTP sends passwords in clear text",
            "FTP logins and the files sent can be read by anyone on the segment.",
            "Replace FTP with SFTP or FTPS.",
        )),
        Protocol::Vnc if service.detail("password_required") == Some("no") => out.push(finding(
            Severity::Critical,
            "VNC without a password",
            "Anyone on the network can see and control this screen.",
            "Set a VNC password or turn the VNC server off; reach the screen through the remote-support tool the hospital controls.",
        )),
        Protocol::Vnc => out.push(finding(
            Severity::Medium,
            "VNC remote desktop is open",
            "VNC passwords are short (8 characters) and easily guessed; exposed VNC is a common way in.",
            "Allow VNC only from the support network by firewall, or tunnel it through SSH.",
        )),
        Protocol::Redis if service.detail("access") == Some("open") => out.push(finding(
            Severity::Critical,
            "Redis answers without a password",
            "Anyone on the network can read and change its data, and an open Redis can be made to write files on the server.",
            "Set requirepass (or ACL users), bind Redis to localhost, and keep protected-mode on.",
        )),
        Protocol::Postgresql if service.detail("authentication") == Some("none (trust)") => out.push(finding(
            Severity::Critical,
            "PostgreSQL lets anyone in as postgres",
            "The database accepted its superuser without a password (trust in pg_hba.conf): every database on it is open to the network.",
            "Change the pg_hba.conf lines for network addresses from trust to scram-sha-256 and reload PostgreSQL.",
        )),
        Protocol::Dicom if service.detail("accepted_ae_title").is_some() => out.push(finding(
            Severity::Medium,
            "DICOM service accepts an association from an unknown caller",
            "It accepted the calling AE title WARDWATCH, which it has never been told about; a service that accepts any caller may also let anyone query, retrieve or store images.",
            "Configure the archive or modality to accept only the AE titles and addresses of known peers, and restrict port access by firewall.",
        )),
        Protocol::Hl7Mllp => out.push(finding(
            Severity::Medium,
            "HL7 interface answers any host",
            "It took and acknowledged a message from a host that is not its interface engine; HL7 over MLLP is unencrypted and unauthenticated, so admissions and lab results can be read or forged on the network.",
            "Allow the port only from the interface engine by firewall, or carry HL7 over TLS (MLLPS) or a VPN.",
        )),
        Protocol::Mysql if service.detail("refused").is_none() => out.push(finding(
            Severity::Low,
            "MySQL/MariaDB reachable from the network",
            "The database server accepts connections from this segment; weak or default credentials would expose its data.",
            "Bind the server to the addresses of its clients (bind-address) or allow its port only from them.",
        )),
        Protocol::Ssh if service.detail("protocol_version").is_some_and(|v| v.starts_with('1')) => out.push(finding(
            Severity::High,
            "SSH protocol 1 offered",
            "SSH protocol 1 is broken: sessions can be decrypted or hijacked.",
            "Update the device's firmware or SSH server and turn protocol 1 off.",
        )),
        Protocol::Smb => smb(service, &mut out),
        Protocol::Https if service.detail("certificate_expired") == Some("yes") => out.push(finding(
            Severity::Low,
            "HTTPS certificate has expired",
            "Browsers warn on every visit, and staff who learn to click through warnings will click through an attacker's too.",
            "Renew the certificate, from the hospital's own certificate authority where there is one.",
        )),
        Protocol::Rdp if service.detail("nla") == Some("not required") => out.push(finding(
            Severity::High,
            "Remote desktop without Network Level Authentication",
            "The server shows a session to anyone who reaches the port, before any login: the way in for password guessing and for pre-login holes such as BlueKeep.",
            "Require NLA (Windows: 'Require user authentication for remote connections by using Network Level Authentication'; xrdp: security_layer=tls at least), and allow the port only from the support network or a VPN.",
        )),
        _ => {}
    }
    out
}

/// Windows releases past their end of support, as `windows_name` names them.
const END_OF_LIFE_WINDOWS: &[&str] = &[
    "Windows 2000",
    "Windows XP",
    "Windows Vista",
    "Windows 7",
    "Windows 8 ",
    "Windows 8.1",
];

fn smb(service: &Service, out: &mut Vec<Finding>) {
    if service.detail("smb1") == Some("enabled") {
        out.push(finding(
            Severity::High,
            "SMB1 is on",
            "SMB1 is the protocol WannaCry and NotPetya spread through (EternalBlue); nothing current needs it.",
            "Samba: server min protocol = SMB2_02. Windows: Set-SmbServerConfiguration -EnableSMB1Protocol $false, and remove the SMB1 feature.",
        ));
    }
    if service.detail("signing") == Some("not required") {
        out.push(finding(
            Severity::Medium,
            "SMB signing is not required",
            "Without signing, an attacker on the network can relay a user's login to this server and act as that user.",
            "Samba: server signing = mandatory. Windows: the policy 'Microsoft network server: Digitally sign communications (always)'.",
        ));
    }
    if let Some(os) = service.detail("os") {
        if END_OF_LIFE_WINDOWS.iter().any(|w| os.starts_with(w)) {
            out.push(finding(
                Severity::High,
                "End-of-life Windows",
                "This Windows release gets no security updates any more; its known holes stay open.",
                "Upgrade or replace it; until then keep it on an isolated segment with only the connections its device needs.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_services_are_findings_and_protected_ones_are_not() {
        let redis = |access: &str| Service::new(Protocol::Redis).with("access", access);
        assert_eq!(of(&redis("open"))[0].severity, Severity::Critical);
        assert!(of(&redis("password required")).is_empty());
        let ftp = |anon: &str| Service::new(Protocol::Ftp).with("anonymous_login", anon);
        assert_eq!(of(&ftp("allowed"))[0].severity, Severity::High);
        assert_eq!(of(&ftp("refused"))[0].severity, Severity::Medium);
        assert!(of(&Service::new(Protocol::Http)).is_empty());
        assert!(of(&Service::new(Protocol::Ssh).with("protocol_version", "2.0")).is_empty());
        let xp = Service::new(Protocol::Smb)
            .with("smb1", "enabled")
            .with("signing", "required")
            .with("os", "Windows XP (build 2600)");
        let titles: Vec<String> = of(&xp).into_iter().map(|f| f.title).collect();
        assert_eq!(titles, ["SMB1 is on", "End-of-life Windows"]);
        let samba = Service::new(Protocol::Smb)
            .with("smb1", "disabled")
            .with("signing", "required")
            .with("os", "not Windows (reports NT 6.1 build 0, as Samba does)");
        assert!(of(&samba).is_empty());
    }
}

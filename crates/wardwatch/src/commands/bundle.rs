//! `wardwatch bundle …`: signed offline update bundles. Built and signed where there is
//! internet, checked here before anything is installed. The format and every check live
//! in `wardwatch-bundle`, the server's import and trusted keys in
//! `wardwatch_server::bundles`; this module turns arguments into calls.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use wardwatch_bundle::time::OffsetDateTime;
use wardwatch_bundle::{
    format_time, BuildOptions, Kind, Limits, Password, Policy, PublicKey, SecretKeyFile, Signer,
    SigningKey, TrustedKeys,
};
use wardwatch_server::bundles::ImportError;

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum BundleCommand {
    /// Generate a publisher key pair: BASE.pub for the servers, BASE.key (encrypted, 0600)
    /// for the machine that signs. Existing files are never overwritten.
    Keygen {
        /// Base path of the two files, e.g. keys/hospital-2026.
        #[arg(long)]
        out: PathBuf,
        /// Read the new key's password from the first line of this file instead of asking.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Build a bundle of every regular file below a directory.
    ///
    /// The same directory, kind, version, times and key always give the same bytes, so a
    /// second person can rebuild and compare. Without a key (--unsigned) the bundle is
    /// signed later with `wardwatch bundle sign`.
    Build {
        /// vuln-feed, signatures, policies or patches (a `wardwatch patch fetch` folder).
        #[arg(long, value_parser = Kind::parse)]
        kind: Kind,
        /// Higher than every earlier bundle of this kind; terminals refuse anything else.
        #[arg(long)]
        version: u64,
        /// Directory whose files go into the bundle (symbolic links are refused).
        #[arg(long)]
        from: PathBuf,
        /// Secret key (BASE.key) to sign with.
        #[arg(long, required_unless_present = "unsigned")]
        key: Option<PathBuf>,
        /// Build without a signature, to be signed elsewhere with `bundle sign`.
        #[arg(long, conflicts_with_all = ["key", "password_file"])]
        unsigned: bool,
        /// The bundle file to write (replaced atomically).
        #[arg(long)]
        out: PathBuf,
        /// How long after creation the bundle is valid (30m, 24h, 30d).
        #[arg(long, default_value = "30d", value_parser = crate::duration::parse_duration)]
        expires: Duration,
        /// Read the key's password from the first line of this file instead of asking.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Creation time (RFC 3339) instead of now, to reproduce a bundle exactly.
        #[arg(long, value_parser = wardwatch_bundle::parse_time)]
        created: Option<OffsetDateTime>,
    },
    /// Sign, or re-sign, a bundle's manifest (build here, sign on another machine).
    ///
    /// The manifest (kind, version, times, member list) is kept byte for byte: the
    /// signature covers exactly those bytes. Before signing, every member is checked
    /// against the manifest (names, types, sizes, SHA-256), so a signer never vouches for
    /// content that does not match; an expired manifest is refused. A bundle holds one
    /// signature: any earlier one is replaced.
    ///
    /// With --key the signature is made here. With --signature, a minisign signature made
    /// elsewhere is attached instead: extract the manifest with `wardwatch bundle inspect
    /// BUNDLE --manifest-out manifest.json`, sign it with `minisign -S -s KEY -m
    /// manifest.json` (or any tool that writes minisign's prehashed format), and pass
    /// `--signature manifest.json.minisig --public-key KEY.pub`; it is attached only if it
    /// verifies with that public key.
    ///
    /// The result replaces FILE atomically, or goes to --out.
    Sign {
        /// The bundle to sign.
        file: PathBuf,
        /// Secret key (BASE.key) to sign with here.
        #[arg(long, required_unless_present = "signature")]
        key: Option<PathBuf>,
        /// Read the key's password from the first line of this file instead of asking.
        #[arg(long, requires = "key")]
        password_file: Option<PathBuf>,
        /// A minisign signature of the manifest made elsewhere, to attach.
        #[arg(long, conflicts_with = "key", requires = "public_key")]
        signature: Option<PathBuf>,
        /// The public key the attached signature must verify with.
        #[arg(long, requires = "signature")]
        public_key: Option<PathBuf>,
        /// Write the signed bundle here instead of replacing FILE.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a bundle completely: exit status 0 if it may be installed, otherwise 1 with
    /// the reason on stderr. Nothing is installed.
    Verify {
        /// The bundle to check.
        file: PathBuf,
        /// A publisher's public key (BASE.pub) to accept; repeat for several.
        #[arg(long, required = true)]
        trusted: Vec<PathBuf>,
        /// The version installed now: the bundle must be newer (no rollback).
        #[arg(long)]
        installed_version: Option<u64>,
    },
    /// Import a bundle into the server: verify it completely, then install it.
    ///
    /// Runs on the server machine, beside its data directory (the server may be running
    /// or not). The bundle must be signed by a key in DATA/trusted-keys (see `bundle
    /// trust`), newer than the installed version of its kind and than every version
    /// imported before, and unexpired; every member is checked before anything is
    /// installed. It is then installed in DATA/bundles/KIND in one atomic step (the
    /// previous version stays until the new one is in place), recorded in the database
    /// and in the audit record, and offered to the agents. A refused bundle leaves
    /// everything as it was; the refusal and its reason go to the audit record and to
    /// stderr, with exit status 1.
    Import {
        /// The bundle file.
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// The publisher keys the server accepts bundles from (DATA/trusted-keys/*.pub).
    ///
    /// The first key can also be given when the server is installed: `wardwatch server
    /// --trusted-key KEY.pub` (or `wardwatch up --trusted-key KEY.pub`) adds it if it is
    /// not trusted yet. Every change is written to the audit record.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Show a bundle's manifest and who claims to have signed it, without checking
    /// anything (use `verify` for that).
    Inspect {
        /// The bundle to look at.
        file: PathBuf,
        /// Also write the exact manifest bytes here (e.g. to sign with minisign).
        #[arg(long)]
        manifest_out: Option<PathBuf>,
        /// Also write the signature here (e.g. for `minisign -V`).
        #[arg(long)]
        signature_out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Trust a publisher's public key (a minisign BASE.pub file, from `bundle keygen` or
    /// `minisign -G`). Adding the same key again changes nothing.
    Add {
        /// The public key file.
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// List the trusted publisher keys.
    List {
        #[command(flatten)]
        data: DataArg,
    },
    /// Stop trusting a key: bundles it signs are refused from now on (the installed ones
    /// stay).
    Remove {
        /// The key id as `list` prints it, e.g. 0x1A2B3C4D5E6F7081.
        key_id: String,
        #[command(flatten)]
        data: DataArg,
    },
}

pub fn run(command: BundleCommand) -> anyhow::Result<()> {
    match command {
        BundleCommand::Import { file, data } => import(&file, &data),
        BundleCommand::Trust(command) => trust(command),
        BundleCommand::Keygen { out, password_file } => keygen(&out, password_file.as_deref()),
        BundleCommand::Build {
            kind,
            version,
            from,
            key,
            unsigned: _,
            out,
            expires,
            password_file,
            created,
        } => {
            let created = created.unwrap_or_else(OffsetDateTime::now_utc);
            let valid = wardwatch_bundle::time::Duration::try_from(expires)
                .context("--expires is too long")?;
            let options = BuildOptions {
                kind,
                version,
                created,
                expires: created
                    .checked_add(valid)
                    .context("--expires is too long")?,
            };
            let key = key
                .map(|k| load_key(&k, password_file.as_deref()))
                .transpose()?;
            let manifest = wardwatch_bundle::build_file(&from, &options, key.as_ref(), &out)
                .with_context(|| format!("cannot build {}", out.display()))?;
            println!(
                "built {}: {} version {}, {}, {} bytes of content",
                out.display(),
                manifest.kind,
                manifest.version,
                members(manifest.members.len()),
                manifest.total_size()
            );
            println!(
                "valid {} to {}",
                format_time(manifest.created),
                format_time(manifest.expires)
            );
            match key {
                Some(k) => println!("signed by key {}", k.key_id()),
                None => println!("unsigned: sign it with `wardwatch bundle sign`"),
            }
            Ok(())
        }
        BundleCommand::Sign {
            file,
            key,
            password_file,
            signature,
            public_key,
            out,
        } => {
            let out = out.unwrap_or_else(|| file.clone());
            let now = OffsetDateTime::now_utc();
            let limits = Limits::default();
            let (manifest, key_id) = match (key, signature, public_key) {
                (Some(key), _, _) => {
                    let key = load_key(&key, password_file.as_deref())?;
                    wardwatch_bundle::sign_file(&file, Signer::Key(&key), now, &limits, &out)
                }
                (None, Some(sig), Some(public)) => {
                    let signature = std::fs::read(&sig)
                        .with_context(|| format!("cannot read {}", sig.display()))?;
                    let public = PublicKey::from_file(&public)?;
                    let signer = Signer::Detached {
                        signature: &signature,
                        public: &public,
                    };
                    wardwatch_bundle::sign_file(&file, signer, now, &limits, &out)
                }
                _ => anyhow::bail!("give --key, or --signature with --public-key"),
            }
            .with_context(|| format!("cannot sign {}", file.display()))?;
            println!(
                "signed {}: {} version {} by key {}",
                out.display(),
                manifest.kind,
                manifest.version,
                key_id
            );
            Ok(())
        }
        BundleCommand::Verify {
            file,
            trusted,
            installed_version,
        } => {
            let trusted = TrustedKeys::from_files(&trusted)?;
            let input = open(&file)?;
            let policy = Policy::new(&trusted, installed_version, OffsetDateTime::now_utc());
            let verified = wardwatch_bundle::verify(input, &policy)
                .with_context(|| format!("{} must not be installed", file.display()))?;
            let m = &verified.manifest;
            println!(
                "OK: {} may be installed: {} version {}, signed by key {}, {}, {} bytes, expires {}",
                file.display(),
                m.kind,
                m.version,
                verified.key_id,
                members(m.members.len()),
                m.total_size(),
                format_time(m.expires)
            );
            Ok(())
        }
        BundleCommand::Inspect {
            file,
            manifest_out,
            signature_out,
        } => inspect(&file, manifest_out.as_deref(), signature_out.as_deref()),
    }
}

fn open_server_data(data: &DataArg) -> anyhow::Result<wardwatch_server::store::Store> {
    let (store, _) = wardwatch_server::open_data_dir(&data.dir())
        .with_context(|| format!("cannot open the server data in {}", data.dir().display()))?;
    Ok(store)
}

fn import(file: &Path, data: &DataArg) -> anyhow::Result<()> {
    let store = open_server_data(data)?;
    let label = file.display().to_string();
    let outcome =
        match wardwatch_server::bundles::import_file(&store, &data.dir(), file, &label, "cli") {
            Ok(outcome) => outcome,
            Err(e @ ImportError::NotRecorded { .. }) => return Err(e.into()),
            Err(e) if e.is_refusal() => {
                anyhow::bail!("{} was refused, nothing was installed: {e}", file.display())
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot import {}, nothing was installed",
                    file.display()
                )))
            }
        };
    let b = &outcome.bundle;
    println!(
        "imported {}: {} version {}{}, {} bytes, signed by key {}",
        file.display(),
        b.kind,
        b.version,
        match outcome.replaced_version {
            Some(v) => format!(" (replacing version {v})"),
            None => String::new(),
        },
        b.total_size,
        b.key_id
    );
    println!(
        "installed in {} ({}); agents are offered it from now on",
        outcome.installed_in.display(),
        members(usize::try_from(b.member_count).unwrap_or(0))
    );
    Ok(())
}

fn trust(command: TrustCommand) -> anyhow::Result<()> {
    match command {
        TrustCommand::Add { file, data } => {
            let store = open_server_data(&data)?;
            let added =
                wardwatch_server::bundles::add_trusted_key(&store, &data.dir(), &file, "cli")
                    .with_context(|| format!("cannot trust {}", file.display()))?;
            if added.added {
                println!("trusted publisher key {}", added.key_id);
            } else {
                println!("publisher key {} was already trusted", added.key_id);
            }
            Ok(())
        }
        TrustCommand::List { data } => {
            let keys = wardwatch_server::bundles::list_trusted_keys(&data.dir())?;
            if keys.is_empty() {
                println!(
                    "no publisher key is trusted: add one with `wardwatch bundle trust add KEY.pub`"
                );
            }
            for key in keys {
                println!("{}  {}", key.key_id, key.file.display());
            }
            Ok(())
        }
        TrustCommand::Remove { key_id, data } => {
            let store = open_server_data(&data)?;
            let removed =
                wardwatch_server::bundles::remove_trusted_key(&store, &data.dir(), &key_id, "cli")?;
            println!("publisher key {removed} is no longer trusted");
            Ok(())
        }
    }
}

/// Adds the `--trusted-key` files of `wardwatch server` and `wardwatch up` to the data
/// directory's trusted keys, if they are not there yet.
pub fn trust_at_start(data_dir: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let (store, _) = wardwatch_server::open_data_dir(data_dir)
        .with_context(|| format!("cannot open the server data in {}", data_dir.display()))?;
    for file in files {
        let added = wardwatch_server::bundles::add_trusted_key(&store, data_dir, file, "cli")
            .with_context(|| format!("cannot trust {}", file.display()))?;
        if added.added {
            println!(
                "trusted publisher key {} ({})",
                added.key_id,
                file.display()
            );
        }
    }
    Ok(())
}

/// "1 member", "3 members".
fn members(n: usize) -> String {
    format!("{n} member{}", if n == 1 { "" } else { "s" })
}

fn keygen(out: &Path, password_file: Option<&Path>) -> anyhow::Result<()> {
    let password = match password_file {
        Some(f) => Password::from_file(f)?,
        None => Password::prompt_new()?,
    };
    let files = wardwatch_bundle::generate_key_files(out, &password)?;
    println!(
        "public key: {} (give it to the servers: --trusted)",
        files.public.display()
    );
    println!(
        "secret key: {} (encrypted; keep it on the signing machine)",
        files.secret.display()
    );
    println!("key id:     {}", files.key_id);
    Ok(())
}

/// Reads a secret key, asking for its password only if it has one and no file gives it.
fn load_key(path: &Path, password_file: Option<&Path>) -> anyhow::Result<SigningKey> {
    let file = SecretKeyFile::read(path)?;
    let password = match (file.is_encrypted(), password_file) {
        (false, _) => None,
        (true, Some(f)) => Some(Password::from_file(f)?),
        (true, None) => Some(Password::prompt(&format!(
            "Password for {}: ",
            path.display()
        ))?),
    };
    Ok(file.unlock(password.as_ref())?)
}

fn open(file: &Path) -> anyhow::Result<BufReader<File>> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    Ok(BufReader::new(f))
}

fn inspect(
    file: &Path,
    manifest_out: Option<&Path>,
    signature_out: Option<&Path>,
) -> anyhow::Result<()> {
    let found = wardwatch_bundle::inspect(open(file)?, &Limits::default())
        .with_context(|| format!("cannot read {}", file.display()))?;
    println!("signature not checked: this is what the bundle says about itself; `wardwatch bundle verify` decides whether to trust it");
    match &found.manifest {
        Ok(m) => {
            println!("kind:       {}", m.kind);
            println!("version:    {}", m.version);
            println!("created:    {}", format_time(m.created));
            println!("expires:    {}", format_time(m.expires));
            println!("members:    {} ({} bytes)", m.members.len(), m.total_size());
        }
        Err(e) => println!("manifest:   invalid: {e}"),
    }
    match &found.signature {
        None => println!("signature:  none (unsigned)"),
        Some(Ok(sig)) => println!("signature:  key id {} (not checked)", sig.key_id),
        Some(Err(e)) => println!("signature:  unreadable: {e}"),
    }
    println!("manifest.json:");
    let text = String::from_utf8_lossy(&found.manifest_bytes);
    if found.manifest.is_ok() {
        // Valid JSON holds no raw control characters, so it is safe on a terminal.
        print!("{text}");
    } else {
        println!("{}", text.escape_debug());
    }
    if let Some(path) = manifest_out {
        std::fs::write(path, &found.manifest_bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = signature_out {
        let sig = found
            .signature_bytes
            .as_deref()
            .context("the bundle has no signature to write")?;
        std::fs::write(path, sig).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

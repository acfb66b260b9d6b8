//! `wardwatch bench …`.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// What the agent costs an idle terminal: a real agent enrolled with a loopback
    /// server, guarding a copy of a real tree (and scanning it on access with --rules),
    /// left alone; its CPU share and resident memory over a quiet spell, against the
    /// goals of under 1 % and 30 MiB.
    Idle {
        /// The tree copied into the guarded folder.
        #[arg(long, default_value = "/usr/share/doc")]
        tree: PathBuf,
        /// YARA rules to scan the guarded folder with on access (none: no scanning).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Seconds the agent is left to settle before it is measured.
        #[arg(long, default_value_t = 30)]
        settle: u64,
        /// Seconds measured.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// What the agent's background work costs the person at the terminal: a user's
    /// program (tar | xz on every core, of real trees) alone, beside a scheduled scan at
    /// idle priority without a budget, and beside the same scan under the governor's
    /// defaults; the user's time and how far the scan got.
    Background {
        /// The tree the scheduled scan reads.
        #[arg(long, default_value = "/usr/lib")]
        tree: PathBuf,
        /// YARA rules for the scan (none: hash lists only).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// A tree the user's program archives and compresses (repeatable).
        #[arg(long = "user-tree", default_values = ["/usr/share/doc", "/usr/share/man", "/usr/lib/python3"])]
        user_trees: Vec<PathBuf>,
        /// Runs of each variant (median reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Simulated agents against a local server: events per second, latency, server memory.
    Ingest {
        /// Simulated terminals, each with its own enrolled certificate.
        #[arg(long, default_value_t = 100)]
        agents: usize,
        /// Events sent in all.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Events per batch.
        #[arg(long, default_value_t = 100)]
        batch: usize,
    },
    /// Vulnerability matching for a whole fleet: generated hosts against a generated
    /// feed of the real shapes; full re-match time, per-host time and index memory.
    Match {
        #[arg(long, default_value_t = 10_000)]
        hosts: usize,
        #[arg(long, default_value_t = 700)]
        packages: usize,
        /// Advisory ranges in the feed.
        #[arg(long, default_value_t = 100_000)]
        ranges: usize,
    },
    /// Offline bundles: build and import of a bundle of SIZE MiB (time, peak memory), and
    /// the bytes sent to AGENTS agents after a change of 1 % of the members.
    Bundle {
        #[arg(long, default_value_t = 200)]
        size_mib: u64,
        #[arg(long, default_value_t = 1000)]
        members: usize,
        #[arg(long, default_value_t = 1000)]
        agents: u64,
    },
    /// The ransomware guard against simulated encryptors and benign workloads on a
    /// corpus of hospital files in a temporary directory (run as root).
    Ransomware {
        /// Files of each kind in the corpus.
        #[arg(long, default_value_t = 12)]
        per_kind: usize,
        /// Only the scenarios whose name contains this (repeatable).
        #[arg(long)]
        only: Vec<String>,
        /// Runs of each benign workload with and without the guard (median reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Run the guard without its open gate, to see what the gate costs and gives.
        #[arg(long)]
        no_open_gate: bool,
        /// Copies of Debian's installed trees each real-tree workload makes (10 take 10 s
        /// or more on a new file system, long enough for the overhead to stand out of the
        /// noise).
        #[arg(long, default_value_t = 10)]
        wards: usize,
        /// Print the corpus and the outcomes as one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Backups: wardwatch against Debian's `restic` on a data set copied from this
    /// machine's own files (/usr/share, /usr/lib, …) in a temporary directory: backup,
    /// 5 % of the files changed, incremental backup, full restore; throughput,
    /// repository size and peak memory of each (both run as child processes).
    Backup {
        /// Bytes of data to copy into the data set.
        #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
        size: u64,
        /// Keep the temporary directory (data and both repositories).
        #[arg(long)]
        keep: bool,
        /// The restic binary to compare with.
        #[arg(long, default_value = "/usr/bin/restic")]
        restic: PathBuf,
    },
    /// Malware scan: wardwatch against Debian's `yara -r` and `clamscan -r` on the same
    /// tree with the same rules and hash lists: files/s, MB/s, CPU time, peak RSS and
    /// what each found (median of REPEAT runs after one untimed warm-up run of each).
    /// Without --hashes a `.hsb` list is generated: 100,000 synthetic SHA-256 entries
    /// plus the real hash of /usr/bin/true, which the engines given hash lists must then
    /// report when scanning /usr/bin. yara takes no hash lists, so wardwatch also runs
    /// with the rules alone for the like-for-like comparison. A peer that is not
    /// installed is reported as such (apt-get install yara clamav).
    Scan {
        /// A directory of YARA rules (`.yar`, `.yara`), e.g.
        /// crates/wardwatch-bench/bench-data/rules.
        #[arg(long)]
        rules: PathBuf,
        /// The tree to scan.
        #[arg(long)]
        path: PathBuf,
        /// ClamAV `.hdb` / `.hsb` hash lists (repeatable); generated when not given.
        #[arg(long)]
        hashes: Vec<PathBuf>,
        /// Threads for wardwatch and yara (default: one per CPU); clamscan has one.
        #[arg(long)]
        threads: Option<usize>,
        /// Timed runs of each engine (median reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The network screen against `nmap -sT -sV` in one run, on real services started on
    /// 127.0.0.1 (DICOM, HTTP, anonymous FTP, SSH, Samba with and without SMB1, HL7, a
    /// silent one): wall time, open ports and services identified by each (run as root).
    Screen {
        /// More ports screened by both, where mostly nothing listens (e.g. 1-1024).
        #[arg(long, default_value = "1-1024")]
        extra_ports: String,
        /// Seconds wardwatch waits for a connection and a greeting (an answer: twice).
        #[arg(long, default_value_t = 1.5)]
        timeout: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Checking a large audit record: N entries shaped like the server's own, signed
    /// checkpoints over all of them exported to a file, then `wardwatch audit verify`
    /// against that file (time, entries per second, peak memory).
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        entries: usize,
        /// Where to build the data directory (default: a temporary one, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The console at hospital-group scale: a database of N terminals (this machine's
    /// package names, the CISA KEV catalog's CVE ids) and M findings, a real server on
    /// loopback, and the overview, its charts and filtered host lists timed over HTTPS
    /// (median, 95th percentile and slowest of REPEAT requests each).
    Console {
        #[arg(long, default_value_t = 20_000)]
        hosts: usize,
        #[arg(long, default_value_t = 2_000_000)]
        findings: usize,
        #[arg(long, default_value_t = 20)]
        repeat: usize,
        /// Where to build the data directory (default: a temporary one, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Console {
            hosts,
            findings,
            repeat,
            dir,
        } => {
            let exe = std::env::current_exe()?;
            super::bench_console::run(&exe, hosts, findings, repeat, dir.as_deref()).await
        }
        BenchCommand::Audit { entries, dir } => {
            tokio::task::spawn_blocking(move || super::bench_audit::run(entries, dir.as_deref()))
                .await?
        }
        BenchCommand::Idle {
            tree,
            rules,
            settle,
            seconds,
        } => {
            let exe = std::env::current_exe()?;
            let options = wardwatch_bench::idle::IdleOptions {
                tree,
                rules,
                settle: std::time::Duration::from_secs(settle),
                measure: std::time::Duration::from_secs(seconds.max(1)),
            };
            let report = wardwatch_bench::idle::idle(&exe, &options).await?;
            println!("{report}");
            Ok(())
        }
        BenchCommand::Background {
            tree,
            rules,
            user_trees,
            repeat,
        } => {
            let options = wardwatch_bench::background::BackgroundOptions {
                tree,
                rules,
                user_trees,
                repeat,
            };
            let report = tokio::task::spawn_blocking(move || {
                wardwatch_bench::background::background(&options)
            })
            .await??;
            println!("{report}");
            Ok(())
        }
        BenchCommand::Ingest {
            agents,
            events,
            batch,
        } => {
            let exe = std::env::current_exe()?;
            let options = wardwatch_bench::ingest::IngestOptions {
                agents,
                events,
                batch,
            };
            let report = wardwatch_bench::ingest::ingest(&exe, &options).await?;
            println!("{report}");
            Ok(())
        }
        BenchCommand::Match {
            hosts,
            packages,
            ranges,
        } => {
            let report = tokio::task::spawn_blocking(move || {
                wardwatch_bench::matching::bench_fleet(hosts, packages, ranges)
            })
            .await?;
            println!("{report}");
            Ok(())
        }
        BenchCommand::Bundle {
            size_mib,
            members,
            agents,
        } => {
            let import = tokio::task::spawn_blocking(move || {
                wardwatch_bench::bundle::bench_import(size_mib * 1024 * 1024, members)
            })
            .await??;
            println!("{import}");
            let member_size = (size_mib * 1024 * 1024) / members.max(1) as u64;
            let (old, new) = wardwatch_bench::bundle_fetch::synthetic(members, member_size, 1);
            println!(
                "{}",
                wardwatch_bench::bundle_fetch::transfer(&old, &new, agents)
            );
            Ok(())
        }
        BenchCommand::Ransomware {
            per_kind,
            only,
            repeat,
            no_open_gate,
            wards,
            json,
        } => {
            let options = wardwatch_bench::ransomware::BenchOptions {
                exe: std::env::current_exe()?,
                per_kind,
                only,
                repeat,
                no_open_gate,
                wards,
            };
            let report =
                tokio::task::spawn_blocking(move || wardwatch_bench::ransomware::run(&options))
                    .await??;
            if json {
                let json = serde_json::json!({
                    "corpus": report.corpus,
                    "outcomes": report.outcomes,
                    "shared_file_system": report.shared_fs,
                });
                println!("{json}");
            } else {
                println!("{}", wardwatch_bench::ransomware::render(&report));
            }
            Ok(())
        }
        BenchCommand::Backup { size, keep, restic } => {
            let options = wardwatch_bench::backup::BenchOptions {
                exe: std::env::current_exe()?,
                size,
                keep,
                restic,
            };
            let report =
                tokio::task::spawn_blocking(move || wardwatch_bench::backup::run(&options))
                    .await??;
            println!("{report}");
            Ok(())
        }
        BenchCommand::Scan {
            rules,
            path,
            hashes,
            threads,
            repeat,
            json,
        } => {
            let options = wardwatch_bench::scan::BenchOptions {
                exe: std::env::current_exe()?,
                rules,
                path,
                hashes,
                threads,
                repeat,
            };
            let report =
                tokio::task::spawn_blocking(move || wardwatch_bench::scan::run(&options)).await??;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(())
        }
        BenchCommand::Screen {
            extra_ports,
            timeout,
            json,
        } => {
            anyhow::ensure!(
                timeout.is_finite() && timeout > 0.0 && timeout <= 60.0,
                "--timeout must be more than 0 and at most 60 seconds"
            );
            let report = wardwatch_bench::screen::run(
                &extra_ports,
                std::time::Duration::from_secs_f64(timeout),
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", wardwatch_bench::screen::render(&report));
            }
            Ok(())
        }
    }
}

//! `wardwatch simulate …`: simulated ransomware for the guard's tests and benchmark. It
//! refuses any directory that is not a marked simulator corpus under the temporary
//! directory.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use wardwatch_sim::encrypt::{
    attack, attack_process_per_file, checked_root, encrypt_file, Attack, Mode,
};

#[derive(Subcommand, Debug)]
pub enum SimulateCommand {
    /// Build a corpus of hospital file types (PDF, DOCX, DICOM, HL7, CSV, SQLite,
    /// images, text) in a new directory under the temporary directory, for a trial of
    /// the guard by hand.
    Corpus {
        /// The directory to create (must not exist; under the temporary directory).
        #[arg(long)]
        dir: PathBuf,
        /// Files of each kind.
        #[arg(long, default_value_t = 12)]
        per_kind: usize,
    },
    /// Encrypt a simulator corpus the way ransomware does.
    Encrypt {
        /// A corpus made by `wardwatch bench ransomware` (marked, under the temp directory).
        #[arg(long)]
        dir: PathBuf,
        /// in-place, new-file-delete, rename-extension, header-only, intermittent,
        /// encrypt-base64, keep-header
        #[arg(long, default_value = "in-place")]
        mode: Mode,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Pause after each file, in milliseconds.
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Stop after this many files (0: all).
        #[arg(long, default_value_t = 0)]
        max_files: usize,
        /// Start a new process for every file, like a shell loop around openssl.
        #[arg(long)]
        process_per_file: bool,
        /// Only files with these extensions (comma-separated, e.g. png,jpg,docx).
        #[arg(long, value_delimiter = ',')]
        only_ext: Vec<String>,
    },
    /// Encrypt single files of a corpus (what each child of --process-per-file runs).
    EncryptFile {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "in-place")]
        mode: Mode,
        files: Vec<PathBuf>,
    },
}

pub fn run(command: SimulateCommand) -> anyhow::Result<()> {
    match command {
        SimulateCommand::Corpus { dir, per_kind } => {
            anyhow::ensure!(
                !dir.exists(),
                "{} exists already; give a new directory",
                dir.display()
            );
            std::fs::create_dir_all(&dir)?;
            // Refuses anything outside the temporary directory before writing a file.
            let summary = match wardwatch_sim::encrypt::mark(&dir)
                .and_then(|()| wardwatch_sim::corpus::build(&dir, per_kind))
            {
                Ok(s) => s,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            println!(
                "{} files, {} bytes in {}",
                summary.files,
                summary.bytes,
                dir.display()
            );
            Ok(())
        }
        SimulateCommand::Encrypt {
            dir,
            mode,
            threads,
            delay_ms,
            max_files,
            process_per_file,
            only_ext,
        } => {
            let plan = Attack {
                mode,
                threads,
                delay: Duration::from_millis(delay_ms),
                max_files,
                only_extensions: only_ext,
            };
            let done = if process_per_file {
                attack_process_per_file(&dir, &plan, &std::env::current_exe()?)?
            } else {
                attack(&dir, &plan)?
            };
            println!("{done} files encrypted");
            Ok(())
        }
        SimulateCommand::EncryptFile { dir, mode, files } => {
            let root = checked_root(&dir)?;
            for file in files {
                encrypt_file(&root, &file, mode)?;
            }
            Ok(())
        }
    }
}

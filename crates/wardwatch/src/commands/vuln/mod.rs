//! `wardwatch vuln …`: vulnerability tooling. `vercmp` compares versions the way each
//! package manager does, for checking advisory data by hand and for scripts; `scan`
//! matches this machine against feed files, offline.

mod scan;

use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Subcommand;
use wardwatch_vuln::version::Scheme;

#[derive(Subcommand, Debug)]
pub enum VulnCommand {
    /// Compare versions: reads lines "A B" on stdin and prints <, = or > for each.
    ///
    /// A line that cannot be compared prints "error: <reason>" and the others go on;
    /// the exit status is 1 if any line could not be compared.
    Vercmp {
        /// Whose ordering to use.
        #[arg(long, value_parser = scheme_parser())]
        scheme: Scheme,
    },
    /// Scan this machine (or an unpacked file system) against feed files, offline.
    Scan(scan::ScanArgs),
}

/// Lists the schemes in `--help` and in the error for an unknown one.
fn scheme_parser() -> impl TypedValueParser<Value = Scheme> {
    PossibleValuesParser::new(Scheme::ALL.map(Scheme::name)).try_map(|s| s.parse::<Scheme>())
}

pub fn run(command: VulnCommand) -> anyhow::Result<()> {
    match command {
        VulnCommand::Scan(args) => scan::run(args),
        VulnCommand::Vercmp { scheme } => {
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            let tally = vercmp_lines(
                scheme,
                BufReader::new(stdin.lock()),
                BufWriter::new(stdout.lock()),
            )
            .context("cannot read versions from stdin or write results")?;
            anyhow::ensure!(
                tally.errors == 0,
                "{} of {} lines could not be compared",
                tally.errors,
                tally.lines
            );
            Ok(())
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    lines: usize,
    errors: usize,
}

/// One output line per input line, so that results can be pasted next to the input.
/// Output is flushed whenever no more input is waiting, so that a script can also talk
/// to it line by line.
fn vercmp_lines<R: Read>(
    scheme: Scheme,
    mut input: BufReader<R>,
    mut out: impl Write,
) -> std::io::Result<Tally> {
    let mut tally = Tally::default();
    let mut line = Vec::new();
    loop {
        if input.buffer().is_empty() {
            out.flush()?;
        }
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        tally.lines += 1;
        match compare_line(scheme, &line) {
            Ok(symbol) => writeln!(out, "{symbol}")?,
            Err(reason) => {
                tally.errors += 1;
                writeln!(out, "error: {reason}")?;
            }
        }
    }
    out.flush()?;
    Ok(tally)
}

fn compare_line(scheme: Scheme, line: &[u8]) -> Result<&'static str, String> {
    let line = std::str::from_utf8(line).map_err(|_| "the line is not valid UTF-8".to_owned())?;
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let [a, b] = fields[..] else {
        return Err(format!(
            "expected two versions separated by whitespace, found {} field{}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    };
    match scheme.compare(a, b) {
        Ok(std::cmp::Ordering::Less) => Ok("<"),
        Ok(std::cmp::Ordering::Equal) => Ok("="),
        Ok(std::cmp::Ordering::Greater) => Ok(">"),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(scheme: Scheme, input: &[u8]) -> (String, Tally) {
        let mut out = Vec::new();
        let tally = vercmp_lines(scheme, BufReader::new(input), &mut out).expect("in memory");
        (String::from_utf8_lossy(&out).into_owned(), tally)
    }

    #[test]
    fn one_result_per_line_and_errors_do_not_stop_the_rest() {
        let (out, tally) = run_on(
            Scheme::Dpkg,
            b"1.0 1.1\n1:0 2.0\r\n\n1.0 1.0 1.0\nx:1 1\n\xff 1\n1.0~rc1\t1.0",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 7, "{out}");
        assert_eq!(&lines[..2], ["<", ">"]);
        assert!(
            lines[2].starts_with("error: expected two versions")
                && lines[2].ends_with("found 0 fields")
        );
        assert!(lines[3].ends_with("found 3 fields"), "{}", lines[3]);
        assert_eq!(
            lines[4],
            r#"error: dpkg: epoch "x" is not a number in "x:1""#
        );
        assert_eq!(lines[5], "error: the line is not valid UTF-8");
        assert_eq!(lines[6], "<");
        assert_eq!(
            tally,
            Tally {
                lines: 7,
                errors: 4
            }
        );
    }

    #[test]
    fn empty_input_is_no_error() {
        assert_eq!(
            run_on(Scheme::Semver, b""),
            (String::new(), Tally::default())
        );
    }
}

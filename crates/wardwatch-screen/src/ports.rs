//! Port lists: the ports ransomware spreads through or that leak patient data, the
//! hospital's own protocols, and lists an operator writes.

use super::ScreenError;

/// DICOM (104, 11112, Orthanc's 4242), HL7 over MLLP (2575 and the ports interface
/// engines commonly use), and the web front ends of PACS and lab systems.
pub const MEDICAL: &[u16] = &[
    104, 2575, 2576, 4242, 5554, 6661, 6662, 7777, 8042, 11112, 2761, 2762,
];

/// The services worth knowing on any hospital segment: remote access, file sharing,
/// mail, databases, web, printers and the medical ones.
pub const TOP: &[u16] = &[
    21, 22, 23, 25, 53, 80, 88, 104, 110, 111, 135, 139, 143, 389, 443, 445, 465, 515, 548, 587,
    631, 636, 873, 993, 995, 1080, 1433, 1521, 1723, 2049, 2575, 3000, 3306, 3389, 4242, 5000,
    5432, 5900, 5901, 5985, 5986, 6379, 6661, 7001, 8000, 8008, 8042, 8080, 8081, 8443, 8888, 9000,
    9090, 9100, 9200, 9443, 11112, 11211, 27017,
];

/// Most ports one list may name.
const MAX_PORTS: usize = 65_535;

/// Parses `top`, `medical`, or a comma-separated list of ports and ranges (`22,80,8000-8010`),
/// combinable (`top,2575`); distinct ports, in the order given.
pub fn parse(list: &str) -> Result<Vec<u16>, ScreenError> {
    let bad = || ScreenError::BadPorts(list.to_string());
    let mut out = Vec::new();
    let mut seen = [false; 65_536];
    let mut push = |p: u16, out: &mut Vec<u16>| {
        if !seen[usize::from(p)] {
            seen[usize::from(p)] = true;
            out.push(p);
        }
    };
    for item in list.split(',').map(str::trim) {
        match item {
            "top" => TOP.iter().for_each(|p| push(*p, &mut out)),
            "medical" => MEDICAL.iter().for_each(|p| push(*p, &mut out)),
            _ => {
                let (a, b) = item.split_once('-').unwrap_or((item, item));
                let a: u16 = a.trim().parse().map_err(|_| bad())?;
                let b: u16 = b.trim().parse().map_err(|_| bad())?;
                if a == 0 || b < a {
                    return Err(bad());
                }
                (a..=b).for_each(|p| push(p, &mut out));
            }
        }
        if out.len() > MAX_PORTS {
            return Err(bad());
        }
    }
    if out.is_empty() {
        return Err(ScreenError::Empty("no port given"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_lists_ports_and_ranges_combine_without_repeats() {
        assert_eq!(
            parse("22,80,8000-8002,22").unwrap(),
            vec![22, 80, 8000, 8001, 8002]
        );
        let medical = parse("medical").unwrap();
        assert!(medical.contains(&104) && medical.contains(&2575) && medical.contains(&11112));
        let both = parse("top,medical,2575").unwrap();
        assert_eq!(both.len(), {
            let mut all: Vec<u16> = TOP.iter().chain(MEDICAL).copied().collect();
            all.sort_unstable();
            all.dedup();
            all.len()
        });
        assert_eq!(parse("1-65535").unwrap().len(), 65_535);
    }

    #[test]
    fn bad_port_lists_are_refused() {
        for bad in ["", "0", "70000", "10-5", "ssh", "22,,80", "1-2-3"] {
            assert!(parse(bad).is_err(), "{bad:?} was taken");
        }
    }
}

//! Screening targets: single addresses, ranges and networks, expanded to addresses.
//! Everything here comes from an operator's command line or a console form, so every
//! size is checked before anything is allocated for it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ScreenError;

/// Most addresses one run screens: a /16, far more than a ward's segment, and small
/// enough that a typing slip (`/8`) is refused instead of screening a whole network.
pub const MAX_ADDRESSES: usize = 65_536;

/// Expands `specs` (each `a.b.c.d`, `a.b.c.d/n`, `a.b.c.d-e`, `a.b.c.d-a.b.c.e`, or an
/// IPv6 address or `/n` network) into distinct addresses, in the order given.
pub fn expand(specs: &[String]) -> Result<Vec<IpAddr>, ScreenError> {
    let mut out: Vec<IpAddr> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for spec in specs {
        let spec = spec.trim();
        let (first, count) = parse(spec)?;
        let total = (out.len() as u128).saturating_add(count);
        if total > MAX_ADDRESSES as u128 {
            return Err(ScreenError::TooManyAddresses {
                target: spec.to_string(),
                count,
                limit: MAX_ADDRESSES,
            });
        }
        for i in 0..count {
            let addr = offset(first, i);
            if seen.insert(addr) {
                out.push(addr);
            }
        }
    }
    if out.is_empty() {
        return Err(ScreenError::Empty("no target given"));
    }
    Ok(out)
}

/// The first address of a spec and how many follow it (itself included).
fn parse(spec: &str) -> Result<(IpAddr, u128), ScreenError> {
    let bad = || ScreenError::BadTarget(spec.to_string());
    if let Some((addr, bits)) = spec.split_once('/') {
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let bits: u32 = bits.parse().map_err(|_| bad())?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        if bits > width {
            return Err(bad());
        }
        let host_bits = width - bits;
        let count = if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        };
        let base = to_u128(addr) & !(count.wrapping_sub(1));
        return Ok((from_u128(base, addr.is_ipv4()), count));
    }
    if let Some((start, end)) = spec.split_once('-') {
        let start: IpAddr = start.parse().map_err(|_| bad())?;
        let end: IpAddr = match end.parse::<IpAddr>() {
            Ok(end) => end,
            // a.b.c.d-e: the last octet of the end.
            Err(_) => match (start, end.parse::<u8>()) {
                (IpAddr::V4(s), Ok(last)) => {
                    let [a, b, c, _] = s.octets();
                    IpAddr::V4(Ipv4Addr::new(a, b, c, last))
                }
                _ => return Err(bad()),
            },
        };
        if start.is_ipv4() != end.is_ipv4() || to_u128(end) < to_u128(start) {
            return Err(bad());
        }
        return Ok((start, to_u128(end) - to_u128(start) + 1));
    }
    let addr: IpAddr = spec.parse().map_err(|_| bad())?;
    Ok((addr, 1))
}

fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

fn offset(first: IpAddr, i: u128) -> IpAddr {
    from_u128(to_u128(first).wrapping_add(i), first.is_ipv4())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn addresses_ranges_and_networks_expand_in_order_without_repeats() {
        let got = expand(&s(&["127.0.0.1", "127.0.0.0/30", "127.0.0.8-9", "::1"])).unwrap();
        let want: Vec<IpAddr> = [
            "127.0.0.1",
            "127.0.0.0",
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.8",
            "127.0.0.9",
            "::1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            expand(&s(&["10.0.0.250-10.0.1.2"])).unwrap().len(),
            9,
            "a range across an octet"
        );
        // The network's own address is where a /n starts, whatever host was written.
        assert_eq!(
            expand(&s(&["192.168.7.77/29"])).unwrap()[0],
            "192.168.7.72".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn hostile_or_mistyped_targets_are_refused_with_what_is_wrong() {
        for bad in [
            "",
            "host.example",
            "10.0.0.1/33",
            "10.0.0.9-3",
            "10.0.0.1-300",
            "::1-10.0.0.1",
            "1.2.3.4/x",
        ] {
            let err = expand(&s(&[bad])).unwrap_err();
            assert!(matches!(err, ScreenError::BadTarget(_)), "{bad}: {err}");
        }
        let err = expand(&s(&["10.0.0.0/8"])).unwrap_err();
        assert!(err.to_string().contains("16777216 addresses"), "{err}");
        assert!(matches!(
            expand(&s(&["::/0"])).unwrap_err(),
            ScreenError::TooManyAddresses { .. }
        ));
        assert!(matches!(expand(&[]).unwrap_err(), ScreenError::Empty(_)));
    }
}

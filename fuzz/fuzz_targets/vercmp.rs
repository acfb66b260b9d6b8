//! Version comparison of every scheme on arbitrary strings: never panics, and where the
//! versions parse, orders them consistently (reflexive, antisymmetric; transitive for
//! dpkg and semver, whose orders are lexicographic by construction).
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use wardwatch_vuln::version::Scheme;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    let c = parts.next().unwrap_or("");
    for scheme in Scheme::ALL {
        let imp = scheme.scheme();
        for v in [a, b, c] {
            if imp.validate(v).is_ok() {
                assert_eq!(imp.compare(v, v), Ok(Ordering::Equal), "{scheme}: {v:?}");
            }
        }
        let ab = imp.compare(a, b);
        let ba = imp.compare(b, a);
        match (&ab, &ba) {
            (Ok(x), Ok(y)) => assert_eq!(*x, y.reverse(), "{scheme}: {a:?} vs {b:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{scheme}: {a:?} vs {b:?} parses in one order only"),
        }
        if matches!(scheme, Scheme::Dpkg | Scheme::Semver) {
            if let (Ok(ab), Ok(bc), Ok(ac)) = (ab, imp.compare(b, c), imp.compare(a, c)) {
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    assert_ne!(ac, Ordering::Greater, "{scheme}: {a:?} <= {b:?} <= {c:?}");
                }
                if ab == Ordering::Equal && bc == Ordering::Equal {
                    assert_eq!(ac, Ordering::Equal, "{scheme}: {a:?} = {b:?} = {c:?}");
                }
            }
        }
    }
});

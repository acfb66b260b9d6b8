//! Hostile observations for the ransomware scorer, as JSON `Vec<Observation>` (what a
//! confused or compromised monitor could hand it), and the raw bytes as file content for
//! the fingerprint. Neither may panic; the scorer's verdicts must stay well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_detect::behaviour::{Observation, Scorer, ScorerConfig};
use wardwatch_detect::content::{compare, detect_kind, fingerprint, sample_offsets};

fuzz_target!(|data: &[u8]| {
    // The bytes as a file: sample it the way the guard does, fingerprint, compare.
    let _ = detect_kind(data);
    let size = data.len() as u64;
    let blocks: Vec<&[u8]> = sample_offsets(size)
        .into_iter()
        .filter_map(|(offset, len)| {
            let start = usize::try_from(offset).ok()?;
            data.get(start..start.checked_add(len)?)
        })
        .collect();
    let whole = fingerprint(size, &blocks);
    let head = fingerprint(size, &blocks[..blocks.len().min(1)]);
    let _ = compare(&whole, &head);
    let _ = compare(&head, &whole);
    // Arbitrary sizes sample sorted blocks inside the file.
    let claimed = data
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0);
    let offsets = sample_offsets(claimed);
    assert!(offsets.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(offsets
        .iter()
        .all(|(o, l)| o.checked_add(*l as u64).is_some_and(|end| end <= claimed)));

    // The bytes as observations.
    let Ok(observations) = serde_json::from_slice::<Vec<Observation>>(data) else {
        return;
    };
    for config in [
        ScorerConfig::default(),
        ScorerConfig {
            window_ms: 1,
            max_pids: 2,
            rename_min_files: 1,
            note_min_dirs: 1,
            ..ScorerConfig::default()
        },
    ] {
        let mut scorer = Scorer::new(config);
        for (i, observation) in observations.iter().enumerate() {
            for verdict in scorer.observe(observation) {
                assert!(verdict.score.is_finite());
                assert!(
                    verdict.pid == observation.actor.pid
                        || observation.actor.lineage.contains(&verdict.pid)
                );
            }
            if i % 7 == 6 {
                scorer.forget(observation.actor.pid);
            }
        }
    }
});

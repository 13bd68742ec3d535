//! The delay monitor's readings, computed as Node computes them: its ELD
//! histogram's settings and the C `hdr_histogram` library's arithmetic.
//!
//! Node reads its histogram through `deps/histogram` (C), and the
//! `hdrhistogram` crate differs from it in three places that show in the
//! numbers: C rounds a percentile's rank to the nearest sample (the crate
//! takes the ceiling, one sample higher whenever the fraction is under one
//! half), sums the mean in integers and divides once (the crate divides
//! every term), and walks percentiles with its own end rule. The functions
//! here use the crate for storage and C's rules for reading, so a port
//! prints Node's numbers for the same samples. The empty-histogram readings
//! are jsloop's (documented on `EventLoopDelay`), not C's sentinels.

use hdrhistogram::Histogram;

/// Node's ELD histogram (`node_perf.cc`: `Histogram::Options { 1000 }`):
/// 1 µs lowest discernible value, up to `INT64_MAX` ns, 3 significant
/// figures (`kDefaultHistogramFigures`).
pub(super) fn node_eld_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, i64::MAX as u64, 3)
        .expect("Node's histogram bounds are valid")
}

/// The smallest sample, rounded down to its bucket; 0 when empty (C:
/// `INT64_MAX`).
pub(super) fn min(histogram: &Histogram<u64>) -> u64 {
    if histogram.is_empty() { 0 } else { histogram.min() }
}

/// The largest sample, rounded up to its bucket; 0 when empty, as in C.
pub(super) fn max(histogram: &Histogram<u64>) -> u64 {
    // Checked here: after `reset` the crate's `max` of an empty histogram
    // is 511 (its reset max carries the 1 µs unit's mask).
    if histogram.is_empty() { 0 } else { histogram.max() }
}

/// C's `hdr_mean`: bucket medians summed as integers, divided once. NaN
/// when empty, as in Node.
pub(super) fn mean(histogram: &Histogram<u64>) -> f64 {
    let total: u128 = histogram
        .iter_recorded()
        .map(|bucket| {
            let value = histogram.median_equivalent(bucket.value_iterated_to());
            u128::from(value) * u128::from(bucket.count_at_value())
        })
        .sum();
    total as f64 / histogram.len() as f64
}

/// C's `hdr_stddev`: squared deviations of each bucket's median from
/// [`mean`]. NaN when empty, as in Node.
pub(super) fn stddev(histogram: &Histogram<u64>) -> f64 {
    let mean = mean(histogram);
    let total: f64 = histogram
        .iter_recorded()
        .map(|bucket| {
            let dev = histogram.median_equivalent(bucket.value_iterated_to()) as f64 - mean;
            dev * dev * bucket.count_at_value() as f64
        })
        .sum();
    (total / histogram.len() as f64).sqrt()
}

/// C's `hdr_value_at_percentile` for `percentile` in `(0, 100]` (checked
/// by the caller): the rank is `p / 100 * count` rounded half up, at least
/// 1, and the value the highest of that sample's bucket. 0 when empty (C
/// returns 511, the top of the empty first bucket).
pub(super) fn percentile(histogram: &Histogram<u64>, percentile: f64) -> u64 {
    let rank = ((percentile / 100.0 * histogram.len() as f64 + 0.5) as u64).max(1);
    let mut seen = 0;
    for bucket in histogram.iter_recorded() {
        seen += bucket.count_at_value();
        if seen >= rank {
            return histogram.highest_equivalent(bucket.value_iterated_to());
        }
    }
    0
}

/// C's `hdr_iter_percentile_init(.., 1)` walk, as Node's `Percentiles`
/// reads it: `(tick, iter.value)` pairs, the value being the lowest of its
/// bucket. Empty when the histogram is (C: `[(100, 0)]`).
pub(super) fn percentiles(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    let total = histogram.len();
    let mut out = Vec::new();
    let mut tick = 0.0_f64;
    let mut seen = 0;
    let mut value = 0;
    for bucket in histogram.iter_recorded() {
        seen += bucket.count_at_value();
        value = histogram.lowest_equivalent(bucket.value_iterated_to());
        let reached = 100.0 * seen as f64 / total as f64;
        while tick <= reached {
            out.push((tick, value));
            // Ticks halve their step each time half the distance to 100 is
            // covered: 0, 50, 75, 87.5, ... C takes the step as
            // `100 / 2^(floor(log2(100 / (100 - tick))) + 1)` through
            // `log(..) / log(2)`; halving 100 finds the same power of two
            // exactly, where a logarithm one ulp short of an integer would
            // repeat a step (and reach 100, whose step is infinite).
            let remaining = 100.0 - tick;
            let mut step = 100.0_f64;
            while step / 2.0 >= remaining {
                step /= 2.0;
            }
            let next = tick + step / 2.0;
            // In the last bucket C ticks once and then ends at 100; a step
            // too small to move the tick can't happen below 2^52 samples,
            // but must not loop.
            if seen == total || next == tick {
                break;
            }
            tick = next;
        }
    }
    if total > 0 {
        out.push((100.0, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node 20's readings of the same samples, from
    /// `createHistogram({ lowest: 1000n, highest: 2n ** 63n - 1n, figures: 3 })`
    /// (the ELD histogram's options) and `h.record(v)` for each value.
    #[test]
    #[cfg_attr(miri, ignore = "too slow under Miri: every reading scans 46,080 buckets")]
    fn readings_match_node_for_the_same_samples() {
        let mut histogram = node_eld_histogram();
        let mut values: Vec<u64> = (1..=21).map(|i| i * 1_000_000 + i * 1234).collect();
        values.extend([219_938_815, 45_055, 20_135_936, 20_135_936]);
        for value in values {
            histogram.record(value).unwrap();
        }
        let h = &histogram;
        assert_eq!(h.len(), 25);
        assert_eq!((min(h), max(h)), (44_544, 219_938_815));
        assert_eq!(mean(h), 19_659_694.08);
        assert_eq!(stddev(h), 41_382_371.886_184_16);
        // p5 and p41 are where rounding the rank and taking its ceiling part.
        assert_eq!(
            [0.001, 5.0, 10.0, 30.0, 41.0, 50.0, 66.0, 99.0, 100.0].map(|p| percentile(h, p)),
            [
                45_055,
                45_055,
                2_002_943,
                7_012_351,
                9_011_199,
                12_017_663,
                16_023_551,
                219_938_815,
                219_938_815
            ]
        );
        assert_eq!(
            percentiles(h),
            [
                (0.0, 44_544),
                (50.0, 12_009_472),
                (75.0, 18_006_016),
                (87.5, 20_135_936),
                (93.75, 21_020_672),
                (96.875, 219_807_744),
                (100.0, 219_807_744)
            ]
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "too slow under Miri: every reading scans 46,080 buckets")]
    fn an_empty_or_reset_histogram_reads_zero_and_nan() {
        let mut histogram = node_eld_histogram();
        histogram.record(20_000_000).unwrap();
        histogram.reset();
        let h = &histogram;
        assert_eq!((min(h), max(h), percentile(h, 100.0)), (0, 0, 0));
        assert!(mean(h).is_nan() && stddev(h).is_nan());
        assert!(percentiles(h).is_empty());
    }
}

"""Intervals, tests and Holm's correction against scipy and cases worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tasks.reports.significance import (
    NO_TEST,
    PAIRED_BOOTSTRAP,
    WELCH,
    holm,
    paired_bootstrap,
    t_interval,
    welch_test,
)


def test_t_interval_by_hand_and_against_scipy():
    # mean 91, std 1, sem 1/sqrt(3); t(0.975, 2) = 4.302653 -> 91 ± 2.484138.
    low, high = t_interval([90.0, 91.0, 92.0])

    assert (low, high) == pytest.approx((88.515862, 93.484138))
    oracle = stats.ttest_1samp([90.0, 91.0, 92.0], 0.0).confidence_interval(0.95)
    assert (low, high) == pytest.approx((oracle.low, oracle.high))
    assert t_interval([90.0]) is None
    assert t_interval([5.0, 5.0]) == (5.0, 5.0)


def test_welch_by_hand_and_against_scipy():
    # means 2 and 5, variances 1 and 1: t = -3 / sqrt(2/3) = -3.674235, df = 4.
    result = welch_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])

    assert result.test == WELCH
    assert result.difference == -3.0
    assert result.p == pytest.approx(2 * stats.t.sf(3.674235, 4), rel=1e-5)
    assert result.p == pytest.approx(0.021311, abs=1e-6)
    oracle = stats.ttest_ind([1, 2, 3], [4, 5, 6], equal_var=False).confidence_interval(0.95)
    assert result.ci == pytest.approx((oracle.low, oracle.high))


def test_welch_needs_two_seeds_a_side_and_survives_no_spread():
    assert welch_test([1.0], [4.0, 5.0]) == welch_test([1.0], [4.0, 5.0])
    one_seed = welch_test([1.0], [4.0, 5.0])
    assert (one_seed.p, one_seed.ci, one_seed.test) == (None, None, NO_TEST)
    assert one_seed.difference == -3.5
    assert welch_test([2.0, 2.0], [2.0, 2.0]).p == 1.0
    assert welch_test([2.0, 2.0], [3.0, 3.0]).p == 0.0


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.01]) == pytest.approx([0.5, 0.02])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert holm([0.2]) == pytest.approx([0.2])
    assert holm([]) == []


def arrays(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def test_bootstrap_difference_of_seed_means_from_sums_by_hand():
    den = [2.0, 2.0, 1.0]
    # A: seed 0 scores 3/5 = 60, seed 1 scores 2/5 = 40 -> 50; B: 5/5 = 100.
    a = (arrays([2, 0, 1], [1, 0, 1]), arrays(den, den))
    b = (arrays([2, 2, 1]), arrays(den))

    result = paired_bootstrap(a, b, resamples=200)

    assert result.test == PAIRED_BOOTSTRAP
    assert result.difference == pytest.approx(-50.0)


def test_bootstrap_of_identical_systems_has_p_one_and_a_constant_shift_the_smallest_p():
    rng = np.random.default_rng(3)
    num = rng.integers(0, 5, size=(2, 50)).astype(float)
    den = np.full((2, 50), 5.0)

    one_seed = paired_bootstrap((num[:1], den[:1]), (num[:1], den[:1]), resamples=300)
    assert (one_seed.difference, one_seed.p, one_seed.ci) == (0.0, 1.0, (0.0, 0.0))
    # Two seeds: each side's seeds are resampled on their own, so the interval widens.
    two_seeds = paired_bootstrap((num, den), (num, den), resamples=300)
    assert (two_seeds.difference, two_seeds.p) == (0.0, 1.0)
    assert two_seeds.ci[0] < 0.0 < two_seeds.ci[1]

    # Every example: A right, B wrong; every resample differs by exactly 100.
    ones, zeros = np.ones((1, 40)), np.zeros((1, 40))
    shift = paired_bootstrap((ones, ones), (zeros, ones), resamples=300)
    assert shift.difference == 100.0
    assert shift.p == pytest.approx(1 / 301)
    assert shift.ci == pytest.approx((100.0, 100.0))


def test_bootstrap_is_reproducible_and_seeded():
    rng = np.random.default_rng(0)
    a = (rng.integers(0, 2, (3, 200)).astype(float), np.ones((3, 200)))
    b = (rng.integers(0, 2, (3, 200)).astype(float), np.ones((3, 200)))

    assert paired_bootstrap(a, b, resamples=500) == paired_bootstrap(a, b, resamples=500)
    assert paired_bootstrap(a, b, resamples=500, seed=1) != paired_bootstrap(a, b, resamples=500)


def test_bootstrap_over_examples_agrees_with_scipy():
    """One seed a side and den = 1: a paired bootstrap of the mean difference (scipy's) and,
    for the p-value, the paired t-test it approximates on many examples."""
    rng = np.random.default_rng(8)
    shared = rng.random(3000)  # examples easy or hard for both systems: paired
    a = (shared + 0.8 * rng.random(3000) < 1.12).astype(float)
    b = (shared + 0.8 * rng.random(3000) < 1.11).astype(float)

    result = paired_bootstrap((a[None], np.ones((1, 3000))), (b[None], np.ones((1, 3000))))

    oracle = stats.bootstrap(
        (100 * a, 100 * b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=5000,
        random_state=np.random.default_rng(11),
    )
    assert result.difference == pytest.approx(100 * (a.mean() - b.mean()))
    spread = oracle.standard_error
    assert result.ci[0] == pytest.approx(oracle.confidence_interval.low, abs=0.15 * spread)
    assert result.ci[1] == pytest.approx(oracle.confidence_interval.high, abs=0.15 * spread)
    t_test = stats.ttest_rel(a, b)
    assert 0.01 < t_test.pvalue < 0.5  # a case where the p-value says something
    assert result.p == pytest.approx(t_test.pvalue, abs=0.02)


def test_bootstrap_over_seeds_agrees_with_scipy():
    """Every example alike within a seed: only the seeds vary, and the two-level bootstrap is
    scipy's (unpaired) bootstrap of the difference of the seed means."""
    rng = np.random.default_rng(5)
    a_scores, b_scores = rng.normal(71.0, 2.0, 5), rng.normal(68.0, 2.0, 5)
    examples = 20
    a = (np.repeat(a_scores[:, None], examples, 1) / 100, np.ones((5, examples)))
    b = (np.repeat(b_scores[:, None], examples, 1) / 100, np.ones((5, examples)))

    result = paired_bootstrap(a, b)

    oracle = stats.bootstrap(
        (a_scores, b_scores),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        vectorized=True,
        method="percentile",
        n_resamples=5000,
        random_state=np.random.default_rng(11),
    )
    assert result.difference == pytest.approx(a_scores.mean() - b_scores.mean())
    spread = oracle.standard_error
    assert result.ci[0] == pytest.approx(oracle.confidence_interval.low, abs=0.15 * spread)
    assert result.ci[1] == pytest.approx(oracle.confidence_interval.high, abs=0.15 * spread)

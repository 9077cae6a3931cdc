"""Intervals and significance tests for scores over seeds and test examples.

- :func:`t_interval`: the 95% Student-t confidence interval of the mean over seeds,
  ``mean ± t(0.975, n - 1) * std / sqrt(n)`` (``scipy.stats.t``); none for one seed.
- :func:`paired_bootstrap`: two systems scored on the same test examples, each over its own
  seeds. The statistic is the difference of the seed-mean metrics, each seed's metric
  recomputed as ``100 * sum(num) / sum(den)`` over the resampled examples. Each resample
  draws the test examples with replacement (the same indices for both systems: paired)
  and, independently for each system, its seeds with replacement: a two-level bootstrap,
  so the spread covers both the test sample and the training seed. Two-sided p-value
  from the centred bootstrap distribution, ``(1 + #{|d* - d| >= |d|}) / (B + 1)``;
  confidence interval: percentiles of ``d*``.
- :func:`welch_test`: the fallback without per-example scores, Welch's t-test on the seed
  scores (``scipy.stats.ttest_ind(equal_var=False)``); needs two seeds a side.
- :func:`holm`: Holm-Bonferroni adjusted p-values over a family of tests.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # of every confidence interval
ALPHA = 0.05  # significance level, applied to Holm-adjusted p-values
RESAMPLES = 5_000
BOOTSTRAP_SEED = 0
_CHUNK = 1_000  # resamples drawn at once: bounds the (chunk, examples) count matrix

PAIRED_BOOTSTRAP = "paired bootstrap (test examples x seeds)"
WELCH = "Welch t-test over seeds"
NO_TEST = "no test: a side has one seed and no per-example scores"


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of ``a - b``: the observed difference, its interval and p-value."""

    difference: float
    ci: tuple[float, float] | None
    p: float | None
    test: str


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float] | None:
    """The Student-t confidence interval of the mean of ``values``; None for fewer than two."""
    if len(values) < 2:
        return None
    mean = float(np.mean(values))
    sem = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    if sem == 0.0:
        return mean, mean
    low, high = stats.t.interval(level, len(values) - 1, loc=mean, scale=sem)
    return float(low), float(high)


def seed_metric(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``100 * num / den`` where ``den`` > 0, else 0 (a metric over no spans scores 0)."""
    return np.divide(100.0 * num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def paired_bootstrap(
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
) -> TestResult:
    """Two-level paired bootstrap of the difference of seed-mean metrics (module docstring).

    Args:
        a: numerators and denominators of system A, each (seeds of A, examples).
        b: the same for system B, (seeds of B, examples): the same examples in the same order.
        resamples: bootstrap resamples B.
        seed: seeds the random generator, so the same inputs give the same result.
        level: of the percentile interval of the difference.
    """
    (a_num, a_den), (b_num, b_den) = a, b
    n_examples = a_num.shape[1]
    observed = float(
        seed_metric(a_num.sum(1), a_den.sum(1)).mean()
        - seed_metric(b_num.sum(1), b_den.sum(1)).mean()
    )
    # One matrix product per chunk gives every seed's sums: columns A num, A den, B num, B den.
    # float32 is exact for counts and token sums and ample for SQuAD's fractional scores.
    columns = np.concatenate([a_num, a_den, b_num, b_den]).T.astype(np.float32)  # (examples, k)
    splits = np.cumsum([len(a_num), len(a_den), len(b_num)])
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        # How often each example is drawn, per resample: E draws with replacement.
        drawn = rng.integers(0, n_examples, size=(size, n_examples), dtype=np.int32)
        drawn += (np.arange(size, dtype=np.int32) * n_examples)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * n_examples).reshape(size, n_examples)
        sums = counts.astype(np.float32) @ columns  # (size, k)
        sums_a_num, sums_a_den, sums_b_num, sums_b_den = np.split(
            sums.astype(np.float64), splits, axis=1
        )
        means = []
        for num, den in ((sums_a_num, sums_a_den), (sums_b_num, sums_b_den)):
            scores = seed_metric(num, den)  # (size, seeds)
            picked = rng.integers(0, scores.shape[1], size=scores.shape)  # seeds resampled
            means.append(np.take_along_axis(scores, picked, axis=1).mean(axis=1))
        differences.append(means[0] - means[1])
    boot = np.concatenate(differences)  # (resamples,)
    extreme = np.count_nonzero(np.abs(boot - observed) >= abs(observed))
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    p = float((1 + extreme) / (resamples + 1))
    return TestResult(observed, (float(low), float(high)), p, PAIRED_BOOTSTRAP)


def welch_test(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> TestResult:
    """Welch's t-test on seed scores; p and interval None when a side has one seed.

    Two sides with no spread at all and equal means give p = 1; with different means, p = 0.
    """
    difference = float(np.mean(a) - np.mean(b))
    if min(len(a), len(b)) < 2:
        return TestResult(difference, None, None, NO_TEST)
    if np.var(a) == 0 and np.var(b) == 0:  # t is 0/0 or infinite: scipy answers nan
        p = 1.0 if difference == 0 else 0.0
        return TestResult(difference, (difference, difference), p, WELCH)
    with warnings.catch_warnings():
        # One side's seeds scoring alike is exact data, not the precision loss scipy warns of.
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
    interval = result.confidence_interval(level)
    return TestResult(
        difference, (float(interval.low), float(interval.high)), float(result.pvalue), WELCH
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given.

    The i-th smallest of m p-values is multiplied by (m - i + 1), made non-decreasing in
    that order and capped at 1; rejecting where the adjusted p < alpha keeps the
    family-wise error rate at alpha.
    """
    order = np.argsort(pvalues, kind="stable")
    m = len(pvalues)
    scaled = np.asarray(pvalues, dtype=np.float64)[order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    result = np.empty(m)
    result[order] = adjusted
    return result.tolist()

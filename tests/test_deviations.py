"""Tests of chargetransport.deviations: exceedance probabilities and the sup deviation.

Wilson intervals against closed forms and the Gaussian tail; the noise floor and the
bias correction of the sup deviation against pure-noise data and known deviations.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from chargetransport import deviations as dv


def test_exceedance_counts_and_wilson_interval():
    x = np.array([0.0, 0.05, -0.15, 0.3, -0.5])
    p, lo, hi = dv.exceedance_probability(x, 0.0, [0.0, 0.1, 0.2, 1.0])
    assert p.tolist() == [0.8, 0.6, 0.4, 0.0]
    assert np.all(lo <= p) and np.all(p <= hi)
    assert hi[-1] > 0.0 and lo[-1] == 0.0     # k = 0 still has a non-empty interval
    # Wilson's interval for k = 0, z = 1: [0, 1 / (n + 1)]
    assert hi[-1] == pytest.approx(1 / 6, rel=1e-12)


def test_exceedance_probability_of_a_gaussian():
    x = np.random.default_rng(4).standard_normal(100_000)
    p, lo, hi = dv.exceedance_probability(x, 0.0, 1.0, z=4.0)
    assert lo < math.erfc(1 / math.sqrt(2)) < hi      # 4-sigma Wilson interval


def test_exceedance_rejects_bad_input():
    with pytest.raises(ValueError, match="'delta'"):
        dv.exceedance_probability([1.0, 2.0], 0.0, -0.1)
    with pytest.raises(ValueError, match="'samples'"):
        dv.exceedance_probability([[1.0, 2.0]], 0.0, 0.1)
    with pytest.raises(ValueError, match="'z'"):
        dv.exceedance_probability([1.0, 2.0], 0.0, 0.1, z=0.0)


def test_sup_deviation_noise_floor_has_its_nominal_level_and_the_correction_reduces_the_bias():
    # 200 pure-noise data sets: the plain maximum over 40 points is resolved in about 5 %
    # of them (binomial sd ~ 1.5 %), and the bias-corrected value lies closer to the truth.
    rng = np.random.default_rng(11)
    resolved, raw, corrected = [], [], []
    for trial in range(200):
        x = rng.standard_normal((100, 40))
        d = dv.sup_deviation(x, np.zeros(40), num_resamples=200, seed=trial)
        resolved.append(d.resolved)
        raw.append(d.raw)
        corrected.append(d.value)
    assert 0.01 < np.mean(resolved) < 0.11
    assert np.mean(corrected) < np.mean(raw)


def test_sup_deviation_recovers_a_resolved_deviation_within_its_error():
    rng = np.random.default_rng(12)
    errors = []
    for trial in range(100):
        x = rng.standard_normal((400, 30))
        x[:, 3] -= 0.4          # 8 standard errors, at one point, negative sign
        d = dv.sup_deviation(x, np.zeros(30), scale=2.0, num_resamples=200, seed=trial)
        assert d.resolved and d.argmax == (3,)
        errors.append((d.value - 0.2) / d.standard_error)
    # the error bar is honest: the normalised errors have mean ~0 and sd ~1
    assert abs(np.mean(errors)) < 0.35 and 0.7 < np.std(errors) < 1.3


def test_sup_deviation_with_a_noisy_reference_widens_the_error():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((200, 10)) + 1.0
    plain = dv.sup_deviation(x, np.zeros(10), seed=1)
    noisy = dv.sup_deviation(x, np.zeros(10), reference_error=np.full(10, 0.2), seed=1)
    assert noisy.standard_error > 2 * plain.standard_error


def test_sup_deviation_rejects_bad_input():
    x = np.zeros((20, 3))
    with pytest.raises(ValueError, match="at least 16"):
        dv.sup_deviation(x[:5], np.zeros(3))
    with pytest.raises(ValueError, match="observation shape"):
        dv.sup_deviation(x, np.zeros(4))
    with pytest.raises(ValueError, match="'scale' must be positive"):
        dv.sup_deviation(x, np.zeros(3), scale=0.0)

"""Tests of chargetransport.streaming_moments: one-pass moments and their exact merges.

Moment estimators against exact moments of known distributions and against NumPy's
two-pass formulas, Pebay merges against single updates, the state round trip bit for bit.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from chargetransport.streaming_moments import StreamingMoments


# --------------------------------------------------------------------------------------
# Exact moments
# --------------------------------------------------------------------------------------
def gaussian_central_moment(r):
    """E[(X - EX)^r] of N(0, 1): (r - 1)!! for even r, 0 for odd r."""
    return 0.0 if r % 2 else float(math.prod(range(r - 1, 0, -2)))


def uniform_central_moment(r):
    """Of U(0, 1): 2^-r / (r + 1) for even r, 0 for odd r."""
    return 0.0 if r % 2 else 2.0**-r / (r + 1)


def exponential_central_moment(r):
    """Of Exp(1): the subfactorial !r (number of derangements), !0 = 1, !1 = 0."""
    d = 1
    for n in range(1, r + 1):
        d = n * d + (-1) ** n
    return float(d)


def sample_moment_std(mu, r, n):
    """Asymptotic standard deviation of the sample central moment m_r of n draws:
    Var m_r = (mu_2r - mu_r^2 - 2r mu_{r-1} mu_{r+1} + r^2 mu_2 mu_{r-1}^2) / n + O(n^-2)
    (Kendall & Stuart, Advanced Theory of Statistics, vol. 1, eq. 10.13)."""
    var = (mu(2 * r) - mu(r) ** 2 - 2 * r * mu(r - 1) * mu(r + 1)
           + r**2 * mu(2) * mu(r - 1) ** 2)
    return math.sqrt(var / n)


def two_pass_central_moments(x, max_order):
    dev = x - x.mean(axis=0)
    return {r: (dev**r).mean(axis=0) for r in range(2, max_order + 1)}


# --------------------------------------------------------------------------------------
# StreamingMoments
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, draw, mu", [
    ("gaussian", lambda g, n: g.standard_normal(n), gaussian_central_moment),
    ("uniform", lambda g, n: g.random(n), uniform_central_moment),
    ("exponential", lambda g, n: g.exponential(1.0, n), exponential_central_moment),
])
def test_central_moments_match_exact_moments_of_known_distributions(name, draw, mu):
    rng = np.random.default_rng(2024)
    n, batch, max_order = 400_000, 20_000, 6
    acc = StreamingMoments(max_order)
    for _ in range(n // batch):  # 20 Pebay merges of two-pass batches
        acc.extend(draw(rng, batch))
    assert acc.count == n
    for r in range(2, max_order + 1):
        # 5 asymptotic standard deviations of m_r: a 6e-7 chance per check of a false
        # alarm for Gaussian fluctuations; the O(1/n) bias of m_r is < 1e-3 of that.
        tol = 5 * sample_moment_std(mu, r, n)
        assert abs(acc.central_moment(r) - mu(r)) < tol, (name, r)
    # The mean: E X = 0, 1/2, 1 and standard error sqrt(mu_2 / n).
    exact_mean = {"gaussian": 0.0, "uniform": 0.5, "exponential": 1.0}[name]
    assert abs(acc.mean - exact_mean) < 5 * math.sqrt(mu(2) / n)
    assert acc.standard_error == pytest.approx(math.sqrt(mu(2) / n), rel=0.01)


def test_update_agrees_with_numpy_two_pass_to_rounding():
    rng = np.random.default_rng(7)
    n, max_order = 4000, 6
    # One column per law; column 3 is column 0 shifted by 1e3 (cancellation test).
    z = rng.standard_normal(n)
    x = np.stack([z, rng.random(n), rng.exponential(2.0, n), 1e3 + z], axis=1)
    acc = StreamingMoments(max_order)
    for row in x:
        acc.update(row)
    dev = x - x.mean(axis=0)
    exact = {r: (dev**r).mean(axis=0) for r in range(1, max_order + 1)}
    magnitude = {r: (np.abs(dev) ** r).mean(axis=0) for r in range(1, max_order + 1)}
    # The running mean rounds at every update: a random walk of ~sqrt(n) eps |mean|,
    # 7e-12 for the shifted column (the two-pass mean is ~100 times better).
    dmean = np.abs(acc.mean - x.mean(axis=0))
    assert np.all(dmean <= 10 * math.sqrt(n) * np.finfo(float).eps * np.abs(x.mean(axis=0)))
    for r in range(2, max_order + 1):
        # Rounding of the power sums themselves: a few hundred eps of E|X - mean|^r, so
        # 1e-12 relative; plus, to first order, r m_{r-1} times the error of the mean
        # (zero for centred columns, the whole error for the shifted one; factor 2 slack).
        bound = 1e-12 * magnitude[r] + 2 * r * np.abs(exact[r - 1]) * dmean
        assert np.all(np.abs(acc.central_moment(r) - exact[r]) <= bound), r
        assert np.all(np.abs(acc.central_moment(r) - exact[r])[:3] <= 1e-12 * magnitude[r][:3])
    np.testing.assert_allclose(acc.variance, x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(acc.standard_error, x.std(axis=0, ddof=1) / math.sqrt(n),
                               rtol=1e-12)


def test_merge_equals_updating_with_all_data():
    rng = np.random.default_rng(11)
    x = rng.exponential(1.0, size=(900, 4))
    whole = StreamingMoments(6)
    for row in x:
        whole.update(row)
    # Uneven pieces, accumulated by update and by extend, merged in two different trees.
    pieces = [x[:1], x[1:250], x[250:251], x[251:700], x[700:]]
    parts = [StreamingMoments(6).extend(p) if i % 2 else StreamingMoments(6) for i, p in
             enumerate(pieces)]
    for part, piece in zip(parts, pieces):
        if part.count == 0:
            for row in piece:
                part.update(row)
    snapshot = parts[4].copy()
    left = parts[0].copy()
    for part in parts[1:]:
        left.merge(part)
    right = parts[3].copy().merge(parts[4])
    right = parts[2].copy().merge(right)
    right = parts[0].copy().merge(parts[1]).merge(right)
    for merged in (left, right):
        assert merged.count == whole.count
        # Different association of the same sums: rounding ~1e-15 of mu_r ~ r!.
        for r in range(2, 7):
            np.testing.assert_allclose(merged.central_moment(r), whole.central_moment(r),
                                       rtol=1e-12)
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-13)
    # Merging leaves the other accumulator unchanged, and an empty one is neutral.
    assert parts[4].count == snapshot.count
    assert parts[4].central_moment(6).tobytes() == snapshot.central_moment(6).tobytes()
    for neutral in (StreamingMoments(6).merge(left), left.copy().merge(StreamingMoments(6))):
        assert neutral.central_moment(4).tobytes() == left.central_moment(4).tobytes()


def test_merging_a_singleton_is_bitwise_an_update():
    rng = np.random.default_rng(3)
    a, b = StreamingMoments(5), StreamingMoments(5)
    for x in rng.standard_normal((20, 3)):
        a.update(x)
        b.merge(StreamingMoments(5).update(x))
    for r in range(2, 6):
        assert a.central_moment(r).tobytes() == b.central_moment(r).tobytes()


def test_scalar_observations_give_scalars_and_small_counts_give_nan():
    acc = StreamingMoments(4).update(2.5)
    assert isinstance(acc.mean, np.floating) and acc.mean == 2.5
    assert math.isnan(acc.variance) and math.isnan(acc.standard_error)
    assert acc.central_moment(0) == 1.0 and acc.central_moment(1) == 0.0
    acc.update(3.5)
    assert acc.variance == 0.5 and acc.central_moment(4) == 0.0625
    assert acc.central_lp_norm(4) == pytest.approx(0.5, rel=1e-15)
    assert acc.absolute_central_moment(2) == 0.25
    assert acc.skewness == 0.0 and acc.excess_kurtosis == pytest.approx(-2.0)


def test_odd_absolute_central_moments_are_refused_as_not_streamable():
    acc = StreamingMoments(6).extend(np.arange(10.0))
    with pytest.raises(ValueError, match="odd order 3.*one pass"):
        acc.absolute_central_moment(3)
    with pytest.raises(ValueError, match="even"):
        acc.central_lp_norm(1)


def test_state_round_trip_is_bitwise_and_checked():
    acc = StreamingMoments(5).extend(np.random.default_rng(8).exponential(size=(30, 2)))
    again = StreamingMoments.from_state(acc.to_state())
    assert again.count == 30 and again.shape == (2,) and again.max_order == 5
    for r in range(2, 6):
        assert again.central_moment(r).tobytes() == acc.central_moment(r).tobytes()
    assert StreamingMoments.from_state(StreamingMoments(3).to_state()).count == 0
    state = acc.to_state()
    state["power_sums"] = state["power_sums"][:2]
    with pytest.raises(ValueError, match="power_sums"):
        StreamingMoments.from_state(state)
    with pytest.raises(TypeError, match="'state' must be a dict"):
        StreamingMoments.from_state([1, 2])


def test_streaming_moments_reject_bad_input():
    with pytest.raises(ValueError, match="'max_order' must be >= 2"):
        StreamingMoments(1)
    with pytest.raises(ValueError, match="'max_order' must be <= 12"):
        StreamingMoments(13)
    with pytest.raises(TypeError, match="'max_order' must be an integer"):
        StreamingMoments(2.0)
    acc = StreamingMoments(3, shape=(2,))
    with pytest.raises(ValueError, match="no observations"):
        acc.mean
    with pytest.raises(ValueError, match=r"'x' must have shape \(2,\)"):
        acc.update([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'x' must contain only finite"):
        acc.update([1.0, np.nan])
    with pytest.raises(TypeError, match="'x' must be real"):
        acc.update([1j, 0])
    with pytest.raises(ValueError, match="'r' must be <= max_order = 3"):
        acc.update([1.0, 2.0]).central_moment(4)
    with pytest.raises(ValueError, match="'other' must have max_order=3"):
        acc.merge(StreamingMoments(4).update([1.0, 2.0]))
    with pytest.raises(ValueError, match="'other' must hold observations of shape"):
        acc.merge(StreamingMoments(3).update(1.0))
    with pytest.raises(TypeError, match="'other' must be a StreamingMoments"):
        acc.merge([1.0, 2.0])
    with pytest.raises(ValueError, match="'samples' must have shape"):
        acc.extend(np.zeros((4, 3)))

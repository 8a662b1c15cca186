"""Tests for chargetransport.strip_transfer_matrix: Lyapunov spectra of strips and bars."""
import math
from fractions import Fraction

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import strip_transfer_matrix as stm
from chargetransport import transfer_matrix as tm


# ------------------------------------------------------------------------------ strips
def _clean_strip_exponents(E, M, d):
    modes = 2 * np.cos(2 * np.pi * np.arange(M) / M)
    if d == 3:
        modes = (modes[:, None] + modes[None, :]).ravel()
    x = np.abs(E - modes) / 2
    return np.sort(np.where(x > 1, np.arccosh(np.maximum(x, 1)), 0.0))[::-1]


@pytest.mark.parametrize("E, M, d", [(4.5, 5, 2), (0.5, 4, 2), (7.0, 3, 3), (1.0, 4, 3)])
def test_clean_strip_exponents_are_the_transverse_modes(E, M, d):
    r = stm.strip_lyapunov_exponents(E, M, 20_000, d=d, eta=0.0)
    # the frame converges to the transverse eigenmodes; the start-up transient
    # contributes O(log(cond)/n) ~ 1e-4 for n = 2e4
    np.testing.assert_allclose(r.exponents, _clean_strip_exponents(E, M, d), atol=1e-3)


def _exact_volume_logs(E, eta, w, M, d):
    """log of the k-volume of the first k columns of T_n...T_1 [I; 0], in exact integers."""
    nbr = stm._transverse_neighbours(M, d)
    N = nbr.shape[0]
    # columns: (psi_n, psi_{n-1}) for each initial unit vector, integer arithmetic
    cols = [([int(i == k) for i in range(N)], [0] * N) for k in range(N)]
    for wn in w:
        new = []
        for a, b in cols:
            c = [(E - eta * int(wn[s])) * a[s] - b[s] - sum(a[q] for q in nbr[s]) for s in range(N)]
            new.append((c, a))
        cols = new
    vecs = [a + b for a, b in cols]
    out = []
    for k in range(1, N + 1):
        G = [[Fraction(sum(x * y for x, y in zip(vecs[i], vecs[j]))) for j in range(k)]
             for i in range(k)]
        det = Fraction(1)
        for p in range(k):  # Gaussian elimination in exact rationals
            piv = G[p][p]
            det *= piv
            for r_ in range(p + 1, k):
                f = G[r_][p] / piv
                for c_ in range(p, k):
                    G[r_][c_] -= f * G[p][c_]
        out.append(0.5 * (math.log(det.numerator) - math.log(det.denominator)))
    return np.array(out)


@pytest.mark.parametrize("M, d, reorth", [(3, 2, 1), (4, 2, 5), (3, 3, 4)])
def test_strip_gram_schmidt_matches_exact_integer_transfer_product(M, d, reorth):
    # Bernoulli disorder with eta = 1 and integer E: the transfer matrices are integer
    # matrices, so the product is exact in Python integers and the volume growth
    # sum_{i<=k} log R_ii = (1/2) log det Gram_k is exact; only rounding remains.
    n = 60
    rng = np.random.default_rng(4)
    N = M ** (d - 1)
    w = np.where(rng.random((n, N)) < 0.5, -1.0, 1.0)
    E = 1.0
    nbr = stm._transverse_neighbours(M, d)
    A, B = np.eye(N), np.zeros((N, N))
    block_logs, logs = np.zeros((N, 1)), np.zeros(N)
    stm._strip_chunk(E, 1.0, w, nbr, A, B, reorth, 0, n, block_logs, logs)
    cumulative = np.cumsum(block_logs[:, 0])
    exact = _exact_volume_logs(1, 1, w, M, d)
    # double-precision Gram-Schmidt vs exact arithmetic: relative 1e-10 is generous
    np.testing.assert_allclose(cumulative, exact, rtol=1e-10, atol=1e-9)


def test_strip_default_reorthogonalisation_agrees_with_every_slice():
    # the default interval (growth spread < e^18 between steps) must not bias the
    # exponents: compare with Gram-Schmidt after every slice on the same realization
    kw = dict(d=3, box_width=16.5, seed=2, num_blocks=10)
    a = stm.strip_lyapunov_exponents(0.0, 4, 3000, reorth_every=1, **kw)
    b = stm.strip_lyapunov_exponents(0.0, 4, 3000, **kw)
    assert b.reorth_every > 1 and a.n_steps == b.n_steps
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-9)


def test_strip_box_width_is_uniform_with_eta_w_over_sqrt12():
    a = stm.strip_lyapunov_exponents(0.0, 4, 2000, box_width=6.0, seed=1)
    b = stm.strip_lyapunov_exponents(0.0, 4, 2000, eta=6.0 / math.sqrt(12),
                                      distribution="uniform", seed=1)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    assert tm.box_disorder_eta(12.0) == pytest.approx(math.sqrt(12.0))


def test_strip_exponents_are_sorted_with_small_block_errors():
    # strong disorder d = 2 strip: the smallest exponent's block error is a few per cent
    # and the normalised length is consistent with xi_M / M
    r = stm.strip_lyapunov_exponents(0.0, 6, 20_000, eta=3.0, seed=3)
    assert np.all(np.diff(r.exponents) <= 1e-12)  # sorted, largest first
    assert r.smallest_exponent_error < 0.05 * r.smallest_exponent
    assert r.normalized_length == pytest.approx(1 / (6 * r.smallest_exponent))


def test_strip_is_deterministic_in_the_seed():
    a = stm.strip_lyapunov_exponents(0.3, 4, 1000, eta=1.0, seed=8)
    b = stm.strip_lyapunov_exponents(0.3, 4, 1000, eta=1.0, seed=8)
    c = stm.strip_lyapunov_exponents(0.3, 4, 1000, eta=1.0, seed=9)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    assert not np.array_equal(a.exponents, c.exponents)


@pytest.mark.parametrize("kwargs, exc", [
    (dict(eta=None), TypeError),
    (dict(eta=1.0, box_width=2.0), TypeError),
    (dict(eta=1.0, width=2), ValueError),
    (dict(eta=1.0, d=1), ValueError),
    (dict(eta=1.0, d=4), ValueError),
    (dict(eta=-1.0), ValueError),
    (dict(box_width=-1.0, eta=None), ValueError),
    (dict(eta=1.0, reorth_every=0), ValueError),
    (dict(eta=1.0, distribution="cauchy"), ValueError),
    (dict(eta=1.0, width=100, d=3), ValueError),
])
def test_strip_bad_input(kwargs, exc):
    args = dict(E=0.0, width=4, n_steps=100)
    args.update(kwargs)
    with pytest.raises(exc):
        stm.strip_lyapunov_exponents(**args)


# ------------------------------------------------------------------------------ scans
def test_strip_scan_is_the_table_of_single_strips_and_independent_of_the_workers():
    kwargs = dict(etas=[1.0, 3.0], seed=11)
    serial = stm.strip_lyapunov_scan(1.0, [3, 5], {3: 1500, 5: 2000}, max_workers=1, **kwargs)
    threads = stm.strip_lyapunov_scan(1.0, [3, 5], {3: 1500, 5: 2000}, max_workers=3, **kwargs)
    assert list(serial) == [(1.0, 3), (1.0, 5), (3.0, 3), (3.0, 5)]
    seeds = ct.realization_seeds(11, 4)
    for k, ((eta, M), res) in enumerate(serial.items()):
        single = stm.strip_lyapunov_exponents(1.0, M, {3: 1500, 5: 2000}[M], eta=eta,
                                              seed=seeds[k])
        assert np.array_equal(res.exponents, single.exponents)
        assert np.array_equal(res.exponents, threads[(eta, M)].exponents)


def test_strip_scan_box_disorder_and_bad_input():
    scan = stm.strip_lyapunov_scan(0.0, [3], 1000, d=3, box_widths=[16.5], seed=2, max_workers=1)
    single = stm.strip_lyapunov_exponents(0.0, 3, 1000, d=3, box_width=16.5,
                                          seed=ct.realization_seeds(2, 1)[0])
    assert np.array_equal(scan[(16.5, 3)].exponents, single.exponents)
    with pytest.raises(TypeError):
        stm.strip_lyapunov_scan(0.0, [3], 1000)
    with pytest.raises(TypeError):
        stm.strip_lyapunov_scan(0.0, [3], 1000, etas=[1.0], box_widths=[1.0])
    with pytest.raises(ValueError):
        stm.strip_lyapunov_scan(0.0, [3, 4], {3: 1000}, etas=[1.0])
    with pytest.raises(ValueError):
        stm.strip_lyapunov_scan(0.0, [], 1000, etas=[1.0])
    with pytest.raises(ValueError):
        stm.strip_lyapunov_scan(0.0, [3], 1000, etas=[-1.0])
    with pytest.raises(ValueError):
        stm.strip_lyapunov_scan(0.0, [3], 1000, etas=[1.0], max_workers=0)


def test_clean_strip_has_no_finite_localization_length():
    """At eta = 0 the smallest exponent of a strip inside the band is exactly zero; its
    estimate is rounding noise, so the localization length is infinite, never a large
    (or negative) number."""
    clean = stm.strip_lyapunov_exponents(1.0, 4, 1000, eta=0.0, seed=0)
    assert not clean.resolved
    assert clean.localization_length == math.inf
    assert clean.localization_length_error == math.inf
    disordered = stm.strip_lyapunov_exponents(1.0, 4, 20_000, eta=1.5, seed=0)
    assert disordered.resolved
    assert disordered.localization_length == pytest.approx(1 / disordered.smallest_exponent)

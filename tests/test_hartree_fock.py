"""Unit tests for chargetransport.hartree_fock (paper section 6)."""
import math

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import fermions as fm
from chargetransport import hartree_fock as hf
from chargetransport.fermions import (fermi_sea, gibbs_distribution,
                                     one_particle_density_matrix)


def fourier_matrix(lat):
    """Unitary F with (F psi)(p) = L^{-d/2} sum_x exp(-2 pi i p.x) psi(x), C order."""
    N = lat.num_sites
    cols = np.eye(N).reshape((N,) + lat.shape)
    axes = tuple(range(1, lat.d + 1))
    return np.fft.fftn(cols, axes=axes, norm="ortho").reshape(N, N).T


def symmetric_distribution(lat, seed):
    """A random translation-invariant momentum distribution with mu(-p) = mu(p)."""
    mu = ct.as_generator(seed).uniform(0.0, 1.0, lat.shape)
    return 0.5 * (mu + hf._reflect(mu))


# --------------------------------------------------------------------------------------
# The Hartree-Fock operator (6.2) and the cancellation for translation-invariant averages
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, L", [(1, 9), (2, 6), (3, 4)])
def test_dense_operator_of_6_2_is_direct_constant_minus_exchange_multiplier(d, L):
    lat = ct.Lattice(d, L)
    v = hf.gaussian_pair_potential(lat, strength=0.7, range_=0.5)
    mu = symmetric_distribution(lat, 3)
    W = hf.hartree_fock_matrix(v, one_particle_density_matrix(lat, mu))
    F = fourier_matrix(lat)
    W_hat = F @ W @ F.conj().T
    expected = hf.direct_constant(v, mu) - hf.exchange_multiplier(v, mu).ravel()
    # The dense matrix is built site by site from (6.2), kappa by FFT: they agree to
    # rounding (sums of ~L^d terms of size <= 1): 1e-12.
    np.testing.assert_allclose(np.diag(W_hat).real, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(W_hat - np.diag(np.diag(W_hat)), 0, atol=1e-12)


def test_exchange_multiplier_is_the_convolution_v_hat_star_mu():
    lat = ct.Lattice(2, 8)
    v = hf.gaussian_pair_potential(lat, 1.3, 1.0)
    mu = symmetric_distribution(lat, 5)
    vh = hf.pair_potential_symbol(v)
    k = np.indices(lat.shape).reshape(2, -1).T
    direct = np.array([np.mean(vh[tuple(((p - k) % 8).T)] * mu[tuple(k.T)]) for p in k])
    # brute-force (1/N) sum_u v_hat(p - u) mu(u) vs FFT: rounding only
    np.testing.assert_allclose(hf.exchange_multiplier(v, mu).ravel(), direct, atol=1e-12)


def test_hartree_fock_terms_cancel_for_translation_invariant_density_matrices():
    lat = ct.Lattice(2, 6)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    mu = symmetric_distribution(lat, 7)
    gamma = one_particle_density_matrix(lat, mu)
    W = hf.hartree_fock_matrix(v, gamma)
    # [W, gamma] = 0: a Fourier multiplier commutes with a translation-invariant gamma
    np.testing.assert_allclose(W @ gamma - gamma @ W, 0, atol=1e-12)
    # For any other density matrix (one realization's gamma_t is not translation
    # invariant), W still drops out of d/dt <p|gamma|p> = -i <p|[W, gamma]|p>.
    rng = ct.as_generator(8)
    A = rng.standard_normal((36, 36)) + 1j * rng.standard_normal((36, 36))
    other = A @ A.conj().T / 100
    F = fourier_matrix(lat)
    comm_hat = F @ (W @ other - other @ W) @ F.conj().T
    np.testing.assert_allclose(np.diag(comm_hat), 0, atol=1e-12)
    # ... but not its off-diagonal elements (the HF terms act on the coherences)
    assert np.abs(comm_hat).max() > 1e-3


def test_momentum_distribution_is_frozen_without_disorder():
    lat = ct.Lattice(2, 16)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.5)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=3.0)
    run = hf.evolve_hartree_fock(J, v, lam=5.0, eta=0.0, t_final=3.0, dt=0.25,
                                 num_realizations=2, seed=1, vectors_per_realization=2)
    # |psi_hat(p)|^2 is multiplied by |phase|^2 = 1 each step: rounding only
    np.testing.assert_allclose(run.mu, np.broadcast_to(J, run.mu.shape), rtol=0, atol=1e-13)


def test_every_step_conserves_the_particle_number():
    lat = ct.Lattice(2, 12)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = gibbs_distribution(lat, 2.0, -0.5)
    run = hf.evolve_hartree_fock(J, v, lam=3.0, eta=0.5, t_final=4.0, dt=0.2,
                                 num_realizations=3, seed=2, vectors_per_realization=2)
    # unitary Strang steps: the norm of each vector, hence int mu_t, is conserved to rounding
    np.testing.assert_allclose(run.mu.mean(axis=(1, 2)), J.mean(), rtol=1e-13)
    assert run.mu.shape == (21, 12, 12) and run.times[-1] == pytest.approx(4.0)
    assert run.state_bytes == (16 * 3 + 8) * 3 * 144


def test_lambda_zero_realization_matches_chebyshev_propagation():
    """One realization, one plane wave, lambda = 0: Strang vs ct.evolve, error O(dt^2)."""
    lat = ct.Lattice(2, 10)
    seed = ct.realization_seeds(11, 1)[0]
    state = hf._init_realization(seed, 10, 2, np.ones(lat.shape), 1, 0.05, 0.4, "gaussian")
    psi0_hat = state["psi_hat"][0].copy()
    V = ct.random_potential(lat, "gaussian", seed=ct.as_generator(seed))
    H = ct.AndersonHamiltonian(lat, 0.4, V)
    exact = np.fft.fftn(ct.evolve(H, np.fft.ifftn(psi0_hat, norm="ortho"), t=2.0),
                        norm="ortho")
    e = lat.dispersion()
    errors = []
    for dt in (0.1, 0.05):
        st = hf._init_realization(seed, 10, 2, np.ones(lat.shape), 1, dt, 0.4, "gaussian")
        for _ in range(round(2.0 / dt)):
            st, _ = hf._lockstep_step(st, (True, e, dt, False, False))
        errors.append(np.abs(st["psi_hat"][0] - exact).max())
    # Strang splitting is second order: halving dt divides the error by ~4 (3.5-4.5)
    assert 3.5 < errors[0] / errors[1] < 4.5
    assert errors[1] < 1e-3


# --------------------------------------------------------------------------------------
# The time integrator
# --------------------------------------------------------------------------------------
def test_integrator_orders_in_the_self_consistent_coupling():
    lat = ct.Lattice(2, 12)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.5)
    J = fermi_sea(lat, 0.5, shift=(0.15, 0.05), beta=3.0)
    kw = dict(lam=4.0, eta=0.5, t_final=2.0, num_realizations=3, seed=4,
              vectors_per_realization=2)
    ref = hf.evolve_hartree_fock(J, v, dt=1 / 320, **kw).mu[-1]
    dts = np.array([0.2, 0.1, 0.05])
    for method, order in hf.METHODS.items():
        errors = np.array([np.abs(hf.evolve_hartree_fock(J, v, dt=dt, method=method,
                                                         **kw).mu[-1] - ref).max()
                           for dt in dts])
        slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
        # measured 2.01-2.04 (midpoint methods) and 0.83-0.96 (frozen): the reference
        # has error (1/320 / 0.05)^2 ~ 0.4% of the smallest, the pre-asymptotic
        # O(dt^3) / O(dt^2) terms move the fitted slope by < 0.2
        assert abs(slope - order) < 0.2, (method, errors, slope)


# --------------------------------------------------------------------------------------
# Independence from the executor and the split across workers
# --------------------------------------------------------------------------------------
def _small_run(**kwargs):
    lat = ct.Lattice(2, 8)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = fermi_sea(lat, 0.0, shift=(0.1, 0.0), beta=2.0)
    return hf.evolve_hartree_fock(J, v, 2.0, 0.4, 1.0, 0.1, 5, 17,
                                  vectors_per_realization=2, **kwargs)


def _current(lat):
    return -2 * np.sin(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)


def test_result_is_bitwise_independent_of_the_worker_split():
    tests = {"current": _current(ct.Lattice(2, 8))}
    serial = _small_run(block_size=1, test_functions=tests)
    for workers in (1, 2):
        other = _small_run(block_size=1, executor="processes", max_workers=workers,
                           test_functions=tests)
        assert other.num_workers == workers and other.executor == "processes"
        assert other.mu.tobytes() == serial.mu.tobytes()
        assert other.mu_standard_error.tobytes() == serial.mu_standard_error.tobytes()
        assert (other.pairing_samples["current"].tobytes()
                == serial.pairing_samples["current"].tobytes())


def test_result_is_bitwise_identical_on_dask():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask = _small_run(executor=client)
    assert dask.executor == "dask"
    assert dask.mu.tobytes() == _small_run().mu.tobytes()


# --------------------------------------------------------------------------------------
# The renormalized dispersion (6.39)
# --------------------------------------------------------------------------------------
def test_renormalized_dispersion_sign_and_lambda_zero():
    lat = ct.Lattice(2, 16)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = gibbs_distribution(lat, 1.0, 0.0)
    np.testing.assert_array_equal(hf.renormalized_dispersion(J, v, 0.0), lat.dispersion())
    kappa = hf.exchange_multiplier(v, J)
    np.testing.assert_allclose(hf.renormalized_dispersion(J, v, 2.0),
                               lat.dispersion() - 2.0 * kappa, atol=1e-14)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------
def test_bad_input_is_rejected_with_named_parameters():
    lat = ct.Lattice(2, 16)
    v = hf.gaussian_pair_potential(lat)
    J = gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(TypeError, match="'lattice'"):
        hf.gaussian_pair_potential(16)
    with pytest.raises(ValueError, match="'range_'"):
        hf.gaussian_pair_potential(lat, range_=5.0)
    odd = v.copy()
    odd[1, 0] += 0.1
    with pytest.raises(ValueError, match="'v' must be even"):
        hf.exchange_multiplier(odd, J)
    with pytest.raises(ValueError, match="'mu' must have the shape"):
        hf.exchange_multiplier(v, J[:8, :8])
    with pytest.raises(ValueError, match="'J' must satisfy 0 <= J <= 1"):
        hf.evolve_hartree_fock(J + 0.5, v, 1.0, 0.1, 1.0, 0.1, 1, 0)
    with pytest.raises(ValueError, match="'F' must have the shape"):
        hf.renormalized_dispersion(J[:8, :8], v, 1.0)
    with pytest.raises(ValueError, match="'dt' must be <= 1"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.1, 1.0, 2.0, 1, 0)
    with pytest.raises(ValueError, match="'eta' must be >= 0"):
        hf.evolve_hartree_fock(J, v, 1.0, -0.1, 1.0, 0.1, 1, 0)
    with pytest.raises(ValueError, match="'method' must be one of"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.1, 1.0, 0.1, 1, 0, method="euler")
    with pytest.raises(TypeError, match="'num_realizations' must be an integer"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.1, 1.0, 0.1, 1.5, 0)
    with pytest.raises(ValueError, match="'t_final' must be > 0"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.1, 0.0, 0.1, 1, 0)
    with pytest.raises(ValueError, match="'gamma' must have shape"):
        hf.hartree_fock_matrix(v, np.eye(3))


def test_test_function_pairings_are_the_grid_pairings_of_mu():
    lat = ct.Lattice(2, 12)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=2.0)
    f = -2 * np.sin(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)
    run = hf.evolve_hartree_fock(J, v, 1.0, 0.5, 2.0, 0.2, 4, 3, vectors_per_realization=2,
                                 test_functions={"current": f})
    # the mean of per-realization pairings is the pairing of the mean: rounding only
    np.testing.assert_allclose(run.pairings["current"], (run.mu * f).mean(axis=(1, 2)),
                               atol=1e-14)
    assert np.all(run.pairing_standard_errors["current"][1:] > 0)
    assert run.pairing_standard_errors["current"][0] < 1e-15  # |psi_hat_0|^2 = J exactly
    with pytest.raises(ValueError, match="keys must be strings other than 'mu'"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.5, 2.0, 0.2, 1, 3, test_functions={"mu": f})
    with pytest.raises(ValueError, match="must have shape"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.5, 2.0, 0.2, 1, 3, test_functions={"f": f[:3]})


# --------------------------------------------------------------------------------------
# Steps, per-realization samples, the displaced-sea current and its Boltzmann limit
# --------------------------------------------------------------------------------------
def test_num_steps_and_t_final_give_the_same_run():
    lat = ct.Lattice(2, 8)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=2.0)
    kw = dict(lam=1.0, eta=0.4, dt=0.2, num_realizations=2, seed=3, vectors_per_realization=2)
    a = hf.evolve_hartree_fock(J, v, t_final=1.0, **kw)
    b = hf.evolve_hartree_fock(J, v, num_steps=5, **kw)
    assert a.mu.tobytes() == b.mu.tobytes() and b.times[-1] == pytest.approx(1.0)
    # 4 / 0.3^2 = 44.4...: 223 steps of 0.2 cover it; 4 / 0.4^2 = 25 (to rounding): 125
    assert hf.steps_to_reach(4 / 0.3**2, 0.2) == 223 == math.ceil(4 / 0.09 / 0.2)
    assert hf.steps_to_reach(4 / 0.4**2, 0.2) == 125
    assert hf.steps_to_reach(0.05, 0.2) == 1
    with pytest.raises(TypeError, match="exactly one of 't_final' and 'num_steps'"):
        hf.evolve_hartree_fock(J, v, t_final=1.0, num_steps=5, **kw)
    with pytest.raises(TypeError, match="exactly one of 't_final' and 'num_steps'"):
        hf.evolve_hartree_fock(J, v, **kw)
    with pytest.raises(TypeError, match="needs 'seed'"):
        hf.evolve_hartree_fock(J, v, 1.0, 0.4, 1.0, 0.2, 2)
    with pytest.raises(ValueError, match="'num_steps' must be >= 1"):
        hf.evolve_hartree_fock(J, v, num_steps=0, **kw)
    with pytest.raises(ValueError, match="steps_to_reach"):
        hf.evolve_hartree_fock(J, v, t_final=1.1, **{**kw, "dt": 0.25})


def test_pairing_samples_are_the_realizations_pairings():
    lat = ct.Lattice(2, 12)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=2.0)
    f = _current(lat)
    run = hf.evolve_hartree_fock(J, v, 1.0, 0.5, dt=0.2, num_steps=7, num_realizations=5,
                                 seed=3, vectors_per_realization=2, record_every=3,
                                 test_functions={"current": f, "one": np.ones(lat.shape)})
    samples = run.pairing_samples["current"]
    assert samples.shape == (5, 4)                        # steps 0, 3, 6 and the last, 7
    np.testing.assert_allclose(run.times, [0.0, 0.6, 1.2, 1.4])
    # their mean and standard error are the streamed ones (rounding of two summations)
    np.testing.assert_allclose(samples.mean(axis=0), run.pairings["current"], atol=1e-15)
    np.testing.assert_allclose(samples[:, 1:].std(axis=0, ddof=1) / np.sqrt(5),
                               run.pairing_standard_errors["current"][1:], rtol=1e-9)
    # unitary steps: every realization keeps its particle number <1, mu> = <1, J>
    np.testing.assert_allclose(run.pairing_samples["one"], J.mean(), rtol=1e-13)
    # at t = 0 every vector has |psi_hat|^2 = J: each realization's pairing is <f, J>
    np.testing.assert_allclose(samples[:, 0], (J * f).mean(), rtol=1e-13)


def test_displaced_sea_current_is_the_ensemble_of_evolve_hartree_fock():
    out = hf.displaced_sea_current(4, d=2, L=12, eta=0.5, lam=0.25, T_final=1.0,
                                   record_every=2, num_realizations=3,
                                   vectors_per_realization=2)
    lat = ct.Lattice(2, 12)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=3.0)
    f = _current(lat)
    run = hf.evolve_hartree_fock(J, hf.gaussian_pair_potential(lat, 1.0, 1.5), 0.25, 0.5,
                                 dt=0.2, num_steps=20, num_realizations=3, seed=4,
                                 vectors_per_realization=2, record_every=2,
                                 test_functions={"current": f})
    j0 = (J * f).mean()
    assert out["current"].tobytes() == (run.pairing_samples["current"] / j0).tobytes()
    np.testing.assert_allclose(out["kinetic_time"], 0.25 * run.times)


def test_boltzmann_current_agrees_with_the_closed_form_on_the_grid():
    # Independent computation: the full homogeneous solution F_T of (6.32)
    # (boltzmann.homogeneous_solution: shell projection by energy bins of width w, rates
    # 2 pi rho averaged over each bin) paired with v_1, on an odd grid (no momentum has
    # e = 0 exactly). The two differ by the bin averaging of the rate, O(w rho'/rho) near
    # the logarithmic peak of rho at e = 0: measured 1e-4 at w = 0.01 and 1e-5 at
    # w = 0.005 (L = 129), asserted < 1e-4.
    from chargetransport import boltzmann as bz
    T = np.array([0.0, 0.5, 2.0])
    lat = ct.Lattice(2, 129)
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=3.0)
    f = _current(lat)
    F = bz.homogeneous_solution(J, T, bin_width=0.005)
    theirs = (F * f).sum(axis=(1, 2)) / (J * f).sum()
    ours = hf.displaced_sea_boltzmann_current(2, 129, T)
    assert ours[0] == 1.0
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    # the twisted grid (1/2, 1/4) / L converges to the same integral: the grid error
    # falls like 1/L (log singularity of rho at e = 0): refining 128 -> 256 -> 512 halves
    # the change (measured ratio 2.2); at L = 128 it is 6e-4 from the 129-grid
    twisted = [hf.displaced_sea_boltzmann_current(2, L, T, twist=(0.5, 0.25))
               for L in (128, 256, 512)]
    d1, d2 = np.abs(twisted[1] - twisted[0]).max(), np.abs(twisted[2] - twisted[1]).max()
    assert 1.6 < d1 / d2 < 2.6
    np.testing.assert_allclose(twisted[0], ours, atol=2e-3)


def test_boltzmann_current_is_the_fermi_gas_reference_in_blocks_of_times(monkeypatch):
    # one implementation: the normalized fermions.boltzmann_observable of the same sea;
    # splitting the times into blocks (memory bound) changes nothing beyond rounding
    T = np.linspace(0.0, 3.0, 7)
    lat = ct.Lattice(2, 48, twist=(0.5, 0.25))
    J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=3.0)
    direct = fm.boltzmann_observable(lat, J, "current", T)
    whole = hf.displaced_sea_boltzmann_current(2, 48, T, twist=(0.5, 0.25))
    np.testing.assert_allclose(whole, direct / direct[0], rtol=1e-14, atol=1e-15)
    monkeypatch.setattr(hf, "_REFERENCE_BLOCK", 2 * lat.num_sites)   # two times a block
    blocked = hf.displaced_sea_boltzmann_current(2, 48, T, twist=(0.5, 0.25))
    np.testing.assert_allclose(blocked, whole, rtol=1e-14, atol=1e-15)
    assert hf.displaced_sea_boltzmann_current(2, 48, 1.5, twist=(0.5, 0.25)) == \
        pytest.approx(whole[3], rel=1e-14)


def test_time_average_and_its_standard_error():
    lat = ct.Lattice(2, 10)
    v = hf.gaussian_pair_potential(lat, 1.0, 1.0)
    J = gibbs_distribution(lat, 2.0, 0.5)
    for average_from in (0.0, 1.0):
        run = hf.evolve_hartree_fock(J, v, 2.0, 0.5, dt=0.2, num_steps=20, num_realizations=6,
                                     seed=9, vectors_per_realization=2,
                                     average_from=average_from)
        window = run.times >= average_from - 1e-12
        # record_every = 1: the window average is the mean of the recorded mu_t
        np.testing.assert_allclose(run.time_average, run.mu[window].mean(axis=0), atol=1e-14)
        # the sample standard deviation over realizations is a seminorm of the
        # per-realization values: the error of the window mean is at most the window
        # mean of the errors (triangle inequality), momentum by momentum
        se = run.time_average_standard_error
        assert se.shape == lat.shape and np.all(se > 0)
        assert np.all(se <= run.mu_standard_error[window].mean(axis=0) * (1 + 1e-12))

"""Unit tests for chargetransport.hartree_fock_terms: the Hartree-Fock terms (6.2)."""
import numpy as np
import pytest

import chargetransport as ct
from chargetransport import hartree_fock_terms as hft
from chargetransport.quasi_free_states import gibbs_distribution, one_particle_density_matrix
from chargetransport.shells import _reflect


def fourier_matrix(lat):
    """Unitary F with (F psi)(p) = L^{-d/2} sum_x exp(-2 pi i p.x) psi(x), C order."""
    N = lat.num_sites
    cols = np.eye(N).reshape((N,) + lat.shape)
    axes = tuple(range(1, lat.d + 1))
    return np.fft.fftn(cols, axes=axes, norm="ortho").reshape(N, N).T


def symmetric_distribution(lat, seed):
    """A random translation-invariant momentum distribution with mu(-p) = mu(p)."""
    mu = ct.as_generator(seed).uniform(0.0, 1.0, lat.shape)
    return 0.5 * (mu + _reflect(mu))


# --------------------------------------------------------------------------------------
# The Hartree-Fock operator (6.2) and the cancellation for translation-invariant averages
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, L", [(1, 9), (2, 6), (3, 4)])
def test_dense_operator_of_6_2_is_direct_constant_minus_exchange_multiplier(d, L):
    lat = ct.Lattice(d, L)
    v = hft.gaussian_pair_potential(lat, strength=0.7, range_=0.5)
    mu = symmetric_distribution(lat, 3)
    W = hft.hartree_fock_matrix(v, one_particle_density_matrix(lat, mu))
    F = fourier_matrix(lat)
    W_hat = F @ W @ F.conj().T
    expected = hft.direct_constant(v, mu) - hft.exchange_multiplier(v, mu).ravel()
    # The dense matrix is built site by site from (6.2), kappa by FFT: they agree to
    # rounding (sums of ~L^d terms of size <= 1): 1e-12.
    np.testing.assert_allclose(np.diag(W_hat).real, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(W_hat - np.diag(np.diag(W_hat)), 0, atol=1e-12)


def test_exchange_multiplier_is_the_convolution_v_hat_star_mu():
    lat = ct.Lattice(2, 8)
    v = hft.gaussian_pair_potential(lat, 1.3, 1.0)
    mu = symmetric_distribution(lat, 5)
    vh = hft.pair_potential_symbol(v)
    k = np.indices(lat.shape).reshape(2, -1).T
    direct = np.array([np.mean(vh[tuple(((p - k) % 8).T)] * mu[tuple(k.T)]) for p in k])
    # brute-force (1/N) sum_u v_hat(p - u) mu(u) vs FFT: rounding only
    np.testing.assert_allclose(hft.exchange_multiplier(v, mu).ravel(), direct, atol=1e-12)


def test_hartree_fock_terms_cancel_for_translation_invariant_density_matrices():
    lat = ct.Lattice(2, 6)
    v = hft.gaussian_pair_potential(lat, 1.0, 1.0)
    mu = symmetric_distribution(lat, 7)
    gamma = one_particle_density_matrix(lat, mu)
    W = hft.hartree_fock_matrix(v, gamma)
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


# --------------------------------------------------------------------------------------
# The renormalized dispersion (6.39)
# --------------------------------------------------------------------------------------
def test_renormalized_dispersion_sign_and_lambda_zero():
    lat = ct.Lattice(2, 16)
    v = hft.gaussian_pair_potential(lat, 1.0, 1.0)
    J = gibbs_distribution(lat, 1.0, 0.0)
    np.testing.assert_array_equal(hft.renormalized_dispersion(J, v, 0.0), lat.dispersion())
    kappa = hft.exchange_multiplier(v, J)
    np.testing.assert_allclose(hft.renormalized_dispersion(J, v, 2.0),
                               lat.dispersion() - 2.0 * kappa, atol=1e-14)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------
def test_bad_input_is_rejected_with_named_parameters():
    lat = ct.Lattice(2, 16)
    v = hft.gaussian_pair_potential(lat)
    J = gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(TypeError, match="'lattice'"):
        hft.gaussian_pair_potential(16)
    with pytest.raises(ValueError, match="'range_'"):
        hft.gaussian_pair_potential(lat, range_=5.0)
    odd = v.copy()
    odd[1, 0] += 0.1
    with pytest.raises(ValueError, match="'v' must be even"):
        hft.exchange_multiplier(odd, J)
    with pytest.raises(ValueError, match="'mu' must have the shape"):
        hft.exchange_multiplier(v, J[:8, :8])
    with pytest.raises(ValueError, match="'F' must have the shape"):
        hft.renormalized_dispersion(J[:8, :8], v, 1.0)
    with pytest.raises(ValueError, match="'gamma' must have shape"):
        hft.hartree_fock_matrix(v, np.eye(3))

"""Kernel polynomial method: the density of states of a disordered ``H``."""
from __future__ import annotations

import numpy as np

from . import _kernels
from ._validation import check_bool, check_instance, check_int, check_memory, check_real_array
from .hamiltonian import AndersonHamiltonian, as_3d
from .rng import as_generator

__all__ = ["kpm_density_of_states", "jackson_kernel"]

# Keep the rescaled spectrum inside [-1 + eps, 1 - eps]: the Jackson-smoothed
# expansion then stays away from the endpoint singularities of the weight
# 1 / sqrt(1 - x^2) (Weisse et al. 2006, sec. II.C).
_KPM_MARGIN = 0.01


def jackson_kernel(num_moments):
    """Jackson damping factors ``g_n``, ``n = 0, ..., N-1`` (Weisse et al. eq. (71)).

    They turn the truncated Chebyshev series into a positive approximation
    whose resolution is about ``pi / N`` in the rescaled energy.

    Parameters
    ----------
    num_moments : int
        ``N >= 1``.

    Returns
    -------
    numpy.ndarray, shape (N,)
        ``g_n = [(N - n + 1) cos(q n) + sin(q n) cot(q)] / (N + 1)``, ``q = pi / (N + 1)``;
        ``g_0 = 1``, decreasing to near 0.

    Examples
    --------
    >>> jackson_kernel(4).round(4)
    array([1.    , 0.809 , 0.4472, 0.1382])
    """
    N = check_int("num_moments", num_moments, minimum=1)
    # n, q n, cos, sin, tan and the result: six arrays of N numbers
    check_memory("num_moments", 6 * 8 * N, f"the Jackson factors of {N} moments")
    n = np.arange(N)
    q = np.pi / (N + 1)
    return ((N - n + 1) * np.cos(q * n) + np.sin(q * n) / np.tan(q)) / (N + 1)


def _vdot(x, y):
    """Re <x|y>, summed over fixed blocks (the same for any number of threads)."""
    return _kernels.vdot(as_3d(x), as_3d(y)).real


def _moments(H, num_moments, num_vectors, rng, a, b):
    """Stochastic-trace Chebyshev moments mu_n = Tr T_n(Ht) / N for each random vector."""
    shape = H.lattice.shape
    mu = np.zeros((num_vectors, num_moments))
    half = (num_moments + 1) // 2
    for r in range(num_vectors):
        # random phase vector: E[r r^dagger] = identity / N after normalisation
        phases = rng.uniform(0.0, 2.0 * np.pi, size=shape)
        a0 = np.exp(1j * phases) / np.sqrt(H.lattice.num_sites)
        a1 = H.apply_affine(a0, np.empty_like(a0), 1.0 / a, -b / a)
        mu0 = _vdot(a0, a0)
        mu1 = _vdot(a0, a1)
        m = np.zeros(2 * half + 2)
        m[0], m[1] = mu0, mu1
        # doubling: mu_{2n} = 2 <a_n|a_n> - mu_0, mu_{2n+1} = 2 <a_{n+1}|a_n> - mu_1
        prev, curr = a0, a1
        for n in range(1, half + 1):
            m[2 * n] = 2.0 * _vdot(curr, curr) - mu0
            nxt = prev  # overwrite a_{n-1} with a_{n+1}
            H.chebyshev_step(curr, nxt, 2.0 / a, -2.0 * b / a)
            m[2 * n + 1] = 2.0 * _vdot(nxt, curr) - mu1
            prev, curr = curr, nxt
        mu[r] = m[:num_moments]
    return mu


def kpm_density_of_states(hamiltonian, energies, num_moments=256, num_vectors=8, seed=0,
                          return_error=False):
    """Density of states per site of a (disordered) Hamiltonian, by the KPM.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
    energies : array_like of float
        Where to evaluate the density (1D).
    num_moments : int, default 256
        Chebyshev moments ``N`` (>= 2). Energy resolution about
        ``pi a / N`` with ``a ~ 2d + eta max|V|`` the spectral half-width.
    num_vectors : int, default 8
        Random-phase vectors of the stochastic trace (>= 1). The statistical
        error falls like ``1 / sqrt(num_vectors L^d)``.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator, default 0
        Source of the random vectors (an estimate with its error: reproducible by
        default, see :mod:`chargetransport.rng`).
    return_error : bool, default False
        Also return the standard error over the random vectors (zero when
        ``num_vectors == 1`` is not enough to estimate it: then NaN).

    Returns
    -------
    rho : numpy.ndarray
        Density of states at ``energies``, normalised so that its integral
        over the spectrum is 1 (for ``eta = 0`` it approximates
        :func:`density_of_states`).
    error : numpy.ndarray, only if ``return_error``

    Notes
    -----
    ``rho(E) = [g_0 mu_0 + 2 sum_{n>=1} g_n mu_n T_n(x)] / (pi a sqrt(1 - x^2))``
    with ``x = (E - b)/a``, Jackson factors ``g_n`` and moments
    ``mu_n = Tr T_n((H - b)/a) / L^d`` estimated with random-phase vectors;
    ``N/2`` stencil sweeps per vector thanks to the doubling identities.

    References
    ----------
    A. Weisse, G. Wellein, A. Alvermann, H. Fehske, "The kernel polynomial
    method", Rev. Mod. Phys. 78, 275 (2006).

    Examples
    --------
    The clean square lattice against its exact density of states (the KPM
    value differs by the Jackson broadening and the stochastic error, ~2%):

    >>> import numpy as np, chargetransport as ct
    >>> H = ct.AndersonHamiltonian(ct.Lattice(d=2, L=64), eta=0.0)
    >>> rho = kpm_density_of_states(H, [1.0, 2.0], num_moments=128, num_vectors=4, seed=0)
    >>> bool(np.allclose(rho, ct.density_of_states([1.0, 2.0], 2), rtol=0.05))
    True
    """
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    energies = check_real_array("energies", energies, ndim=1)
    num_moments = check_int("num_moments", num_moments, minimum=2)
    num_vectors = check_int("num_vectors", num_vectors, minimum=1)
    return_error = check_bool("return_error", return_error)
    # moments (num_vectors x N, twice), T_n(x) at the energies and its temporary (N x E twice)
    check_memory("num_moments", 8 * (2 * num_vectors * num_moments + 2 * num_moments * energies.size
                                     + num_vectors * energies.size),
                 f"the KPM sums of {num_moments} moments at {energies.size} energies")
    a, b = hamiltonian.spectral_rescaling(margin=0.0)
    a /= 1.0 - _KPM_MARGIN
    mu = _moments(hamiltonian, num_moments, num_vectors, as_generator(seed), a, b)
    g = jackson_kernel(num_moments)
    x = (energies - b) / a
    inside = np.abs(x) < 1.0
    xs = x[inside]
    Tn = np.cos(np.outer(np.arange(num_moments), np.arccos(xs)))   # (N, E)
    weights = g * mu                                                # (R, N)
    weights[:, 1:] *= 2.0
    per_vector = np.zeros((num_vectors, energies.size))
    per_vector[:, inside] = (weights @ Tn) / (np.pi * a * np.sqrt(1.0 - xs**2))
    rho = per_vector.mean(axis=0)
    if not return_error:
        return rho
    if num_vectors < 2:
        return rho, np.full_like(rho, np.nan)
    return rho, per_vector.std(axis=0, ddof=1) / np.sqrt(num_vectors)

"""The ideal Fermi gas in a random medium: evolved quasi-free states, disorder experiments (sec. 5).

The states are translation-invariant quasi-free states, fixed by their momentum
distribution ``J`` (one-particle density matrix ``gamma = F^* diag(J) F``); they, their
conventions (``e(p) = sum_i 2 cos(2 pi p_i)``, every energy, ``mu`` and ``beta`` refer to
``e``) and the ordering of their 2r-point functions are in
:mod:`chargetransport.quasi_free_states`.

Dynamics. The many-body Hamiltonian is the second quantisation ``dGamma(h)`` of
the one-particle Anderson Hamiltonian ``h = Delta + eta V``; the Heisenberg
evolution maps ``a(f) -> a(f_t)`` with ``f_t = exp(i t h) f`` (eqs. (5.25)-(5.29)),
so the evolved state is quasi-free with ::

    gamma_t = U_t gamma U_t^*,     U_t = exp(-i t h),

and every correlation function at time t is a determinant of
``<g_i, gamma_t f_j> = <U_t^* g_i, gamma U_t^* f_j>``: two one-particle
propagations per test function, whatever the number of particles.
The exact many-body evolution on a few sites, against which this reduction and Wick's
rule are checked, is :class:`chargetransport.fock_space.FockSpace`.

Boxes. Every function here works on the periodic box and on a twisted one
(``Lattice(d, L, twist=theta)``). :func:`momentum_distribution_realization` can draw a
twist per realization (twist averaging), with the Boltzmann prediction of each
observable on the realization's own grid
(:func:`chargetransport.fermi_kinetics.boltzmann_observable`).

Disorder experiments. :func:`momentum_distribution_realization` and
:func:`two_point_realization` are functions of one realization's seed (for
:func:`chargetransport.ensemble.ensemble_average` and :mod:`chargetransport.studies`);
:func:`quasi_free_deviation` measures how far the averaged state is from quasi-free
(Theorem 5.2).
"""
from __future__ import annotations

import numpy as np

from ._validation import check_bool, check_instance, check_int, check_real, check_real_array
from .fermi_kinetics import MOMENTUM_OBSERVABLES, boltzmann_observable
from .hamiltonian import AndersonHamiltonian
from .lattice import Lattice
from .propagation import trajectory
from .quasi_free_states import (_from_momentum, _stack, _to_momentum, as_momentum_distribution,
                                fermi_sea, wick_determinant)
from .rng import Realization, as_generator, check_seed, realization_seeds

__all__ = ["evolved_two_point_matrix", "evolved_momentum_distribution",
           "momentum_distribution_realization", "two_point_realization", "quasi_free_deviation"]


# --------------------------------------------------------------------------------------
# Time evolution (one-particle reduction (5.26)-(5.30))
# --------------------------------------------------------------------------------------
def _check_hamiltonian(H):
    return check_instance("hamiltonian", H, AndersonHamiltonian)


def evolved_two_point_matrix(hamiltonian, J, f, g, times, *, tol=1e-10):
    """``<g_i, gamma_t f_j>`` at several times, for one realization.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
        The one-particle ``h = Delta + eta V``.
    J : array_like, shape ``lattice.shape``
        Momentum distribution of the initial translation-invariant quasi-free state.
    f, g : array_like, shape ``(r, *lattice.shape)`` (or one field)
    times : array_like of float
        Microscopic times t.
    tol : float, default 1e-10
        Propagation accuracy (l2, relative).

    Returns
    -------
    numpy.ndarray of complex128, shape ``(len(times), r_g, r_f)``

    Notes
    -----
    ``rho_t(a^+(f) a(g)) = rho_0(a^+(f_t) a(g_t))`` with ``f_t = exp(i t h) f``
    (eq. (5.30)), i.e. ``<g, gamma_t f> = <g_t, gamma f_t>``: each test function
    is propagated backwards once (``trajectory`` with times ``-t``) and ``gamma``
    is applied by FFT. No many-body object and no dense matrix is formed.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(1, 16)
    >>> H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=2))
    >>> J = ct.gibbs_distribution(lat, 2.0, 0.0)
    >>> f = np.zeros(lat.shape, complex); f[8] = 1.0          # a_x at one site
    >>> M = evolved_two_point_matrix(H, J, f, f, [0.0, 3.0])
    >>> bool(np.isclose(M[0, 0, 0].real, J.mean()))           # density rho(a_x^+ a_x)
    True
    """
    H = _check_hamiltonian(hamiltonian)
    lat = H.lattice
    J = as_momentum_distribution(lat, J)
    f = _stack(lat, f, "f")
    g = _stack(lat, g, "g")
    times = check_real_array("times", times, ndim=1)
    ft = np.empty((len(times),) + f.shape, dtype=np.complex128)
    gt = np.empty((len(times),) + g.shape, dtype=np.complex128)
    for src, dst in ((f, ft), (g, gt)):
        for j, psi0 in enumerate(src):
            for i, psi in trajectory(H, np.ascontiguousarray(psi0), -times, tol=tol):
                dst[i, j] = psi
    N = lat.num_sites
    F = _to_momentum(lat, ft).reshape(len(times), len(f), N)
    G = _to_momentum(lat, gt).reshape(len(times), len(g), N)
    return np.einsum("tip,p,tjp->tij", G.conj(), J.ravel(), F) / N


def _unitary_fft(psi, lattice):
    return _to_momentum(lattice, psi) / np.sqrt(lattice.num_sites)


def evolved_momentum_distribution(hamiltonian, J, times, *, method="auto", num_vectors=16,
                                  seed=None, tol=1e-10):
    """``n_t(p) = <phi_p, gamma_t phi_p> = sum_q J(q) |<phi_p, U_t phi_q>|^2`` for one realization.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
    J : array_like, shape ``lattice.shape``
        Initial momentum distribution.
    times : array_like of float
        Microscopic times.
    method : {"auto", "dense", "plane_waves", "random_phase"}
        * ``"dense"``: diagonalise ``h`` (``L^d <= 4096``); ``n_t = |M_t|^2 J``
          with ``M_t = F U_t F^*``, exact.
        * ``"plane_waves"``: propagate every plane wave ``phi_q`` in the support
          of ``J`` (or of ``1 - J``, whichever is smaller, using
          ``sum_q |<p|U|q>|^2 = 1``) with Chebyshev, exact to ``tol``; cost
          ``min(#supp J, #supp(1 - J))`` propagations.
        * ``"random_phase"``: an unbiased estimate from ``num_vectors``
          random-phase vectors ``xi = sum_q sqrt(w_q) e^{i theta_q} phi_q``
          (``w = J`` or ``1 - J``): ``E_theta |<p|U xi>|^2 = sum_q w_q |<p|U|q>|^2``.
          Cost ``num_vectors`` propagations, independent of the volume.
        * ``"auto"``: dense for ``L^d <= 1024``, else plane waves.
    num_vectors : int, default 16
        Random-phase vectors (``"random_phase"`` only).
    seed : int, SeedSequence or Generator
        Phases of ``"random_phase"`` (required for that method; unused by the others).
    tol : float, default 1e-10

    Returns
    -------
    numpy.ndarray of float64, shape ``(len(times), *lattice.shape)``
        In numpy.fft order of the momenta.

    Notes
    -----
    Since ``gamma`` is diagonal in momentum, ``n_t(p) = sum_q J(q) K_t(p, q)``
    with the transition probabilities ``K_t(p, q) = |<p|U_t|q>|^2`` of single
    plane waves: the averaged momentum distribution ``E[n_t]`` is the average
    of ``K_t`` (the quantity of the plane-wave experiments of the Boltzmann
    chapter, :func:`chargetransport.kinetic_limit.plane_wave_relaxation`)
    weighted by ``J``. Exactness for one realization needs one propagation per
    occupied (or empty) momentum. The disorder average is a Monte Carlo
    estimate anyway; the random-phase estimator adds its own zero-mean noise at
    the cost of one propagation per vector, which is the cheapest unbiased
    route on large boxes (stochastic trace estimation, Weisse et al., Rev. Mod. Phys. 78, 275 (2006)).

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(2, 8)
    >>> H = ct.AndersonHamiltonian(lat, 0.5, ct.random_potential(lat, seed=0))
    >>> J = ct.fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    >>> n = evolved_momentum_distribution(H, J, [0.0, 5.0], method="dense")
    >>> bool(np.allclose(n[0], J)), bool(np.isclose(n[1].sum(), J.sum()))  # N conserved
    (True, True)
    """
    H = _check_hamiltonian(hamiltonian)
    lat = H.lattice
    J = as_momentum_distribution(lat, J)
    times = check_real_array("times", times, ndim=1)
    if method not in ("auto", "dense", "plane_waves", "random_phase"):
        raise ValueError(f"'method' must be 'auto', 'dense', 'plane_waves' or 'random_phase', "
                         f"got {method!r}")
    N = lat.num_sites
    if method == "auto":
        method = "dense" if N <= 1024 else "plane_waves"
    if method == "random_phase":
        num_vectors = check_int("num_vectors", num_vectors, minimum=1)
        rng = as_generator(check_seed(seed, allow_generator=True))
    complement = J.sum() > (1.0 - J).sum()
    w = (1.0 - J) if complement else J
    out = np.zeros((len(times),) + lat.shape)
    if method == "dense":
        if N > 4096:
            raise ValueError(f"method='dense' needs L^d <= 4096, got {N}")
        lam, Q = np.linalg.eigh(H.to_sparse().toarray())
        A = _unitary_fft(Q.T.reshape((N,) + lat.shape), lat).reshape(N, N).T  # A[p, n] = <p|n>
        for i, t in enumerate(times):
            M = (A * np.exp(-1j * t * lam)) @ A.conj().T
            out[i] = ((np.abs(M) ** 2) @ w.ravel()).reshape(lat.shape)
    elif method == "plane_waves":
        for flat in np.flatnonzero(w.ravel()):
            delta = np.zeros(N, dtype=np.complex128)
            delta[flat] = 1.0
            phi = _from_momentum(lat, delta.reshape(lat.shape)) * np.sqrt(N)
            for i, psi in trajectory(H, phi, times, tol=tol):
                out[i] += w.flat[flat] * np.abs(_unitary_fft(psi, lat)) ** 2
    else:
        amp = np.sqrt(w)
        for _ in range(num_vectors):
            phases = np.exp(2j * np.pi * rng.random(lat.shape))
            xi = _from_momentum(lat, amp * phases) * np.sqrt(N)
            for i, psi in trajectory(H, xi, times, tol=tol):
                out[i] += np.abs(_unitary_fft(psi, lat)) ** 2
        out /= num_vectors
    return 1.0 - out if complement else out


# --------------------------------------------------------------------------------------
# The disorder experiments: one realization, and the deviation from quasi-free
# --------------------------------------------------------------------------------------
def _initial_distribution(lattice, J):
    """``J`` as an array on ``lattice``: an array (periodic box), or the keyword
    arguments of :func:`chargetransport.quasi_free_states.fermi_sea` evaluated on the box's
    grid."""
    if isinstance(J, dict):
        allowed = {"mu", "shift", "beta", "anisotropy"}
        if not set(J) <= allowed:
            raise ValueError(f"'J' as a dict takes the keywords {sorted(allowed)} of fermi_sea, "
                             f"got {sorted(J)}")
        if "mu" not in J:
            raise ValueError("'J' as a dict needs the Fermi energy 'mu'")
        return fermi_sea(lattice, **J)
    if lattice.is_twisted:
        raise ValueError("with twist=True the grid changes from realization to realization: "
                         "give 'J' as a dict of fermi_sea keywords (mu, shift, beta, "
                         "anisotropy), not as an array")
    return as_momentum_distribution(lattice, J)


def _observable_weights(lattice, observables):
    """``{name: (weight, named)}``: arrays given by the caller, or named observables."""
    if observables is None:
        return {}
    if isinstance(observables, str):
        observables = (observables,)
    out = {}
    if isinstance(observables, dict):
        if lattice.is_twisted:
            raise ValueError("with twist=True give 'observables' as names of "
                             f"MOMENTUM_OBSERVABLES ({sorted(MOMENTUM_OBSERVABLES)}), not arrays "
                             "on one grid")
        for name, w in observables.items():
            if name == "distribution" or name.endswith("_boltzmann"):
                raise ValueError(f"'observables' must not use the key {name!r}")
            w = check_real_array(f"observables[{name!r}]", w)
            if w.shape != lattice.shape:
                raise ValueError(f"observables[{name!r}] must have the lattice shape "
                                 f"{lattice.shape}, got {w.shape}")
            out[name] = (w, False)
        return out
    for name in observables:
        if name not in MOMENTUM_OBSERVABLES:
            raise ValueError(f"'observables' must be a dict of arrays or names among "
                             f"{sorted(MOMENTUM_OBSERVABLES)}, got {name!r}")
        if name == "quadrupole" and lattice.d < 2:
            raise ValueError("the quadrupole needs d >= 2")
        weight = MOMENTUM_OBSERVABLES[name][0]
        out[name] = (np.broadcast_to(weight(lattice.momenta()), lattice.shape), True)
    return out


def momentum_distribution_realization(seed, *, d, L, eta, J, T, method="auto", num_vectors=16,
                                      observables=None, twist=False, distribution="gaussian",
                                      tol=1e-10):
    """One realization of :func:`evolved_momentum_distribution` at kinetic times ``T``.

    For :func:`chargetransport.ensemble.ensemble_average` (pass a
    ``functools.partial``) and :mod:`chargetransport.studies`. The seed contract of
    :mod:`chargetransport.rng`: the potential is drawn from ``seed`` itself (the same
    potential as every other observable of this realization), the phases of
    ``"random_phase"`` from its ``phases`` stream, the twist from its ``twist`` stream.

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
    d, L : int
    eta : float
        Disorder strength, > 0.
    J : array_like, shape ``(L,) * d``, or dict
        Initial momentum distribution: an array on the periodic grid, or the keyword
        arguments of :func:`chargetransport.quasi_free_states.fermi_sea` (``mu``, and
        optionally ``shift``, ``beta``, ``anisotropy``; JSON data, for studies), evaluated
        on this realization's box.
    T : array_like of float
        Kinetic times; microscopic ``t = T / eta^2``.
    method, num_vectors, tol
        As in :func:`evolved_momentum_distribution`.
    observables : dict of str to array_like, or sequence of str, optional
        Momentum-space weights ``w(p)``: for each, the key ``name`` of the result holds
        ``L^{-d} sum_p w(p) n_t(p)`` per time, so that its standard error over
        realizations is available. Either arrays of the lattice shape (periodic box
        only), or names of :data:`chargetransport.fermi_kinetics.MOMENTUM_OBSERVABLES`;
        for a name, the key ``name + "_boltzmann"`` also holds the Boltzmann prediction on
        this realization's grid (:func:`chargetransport.fermi_kinetics.boltzmann_observable`),
        so that the deviation is paired realization by realization.
    twist : bool, default False
        Twisted boundary conditions with the realization's own twist ``theta``
        (:meth:`Realization.twist`, uniform in ``[0, 1)^d``): the grid
        ``(m + theta) / L`` moves from realization to realization, which lifts the
        degeneracies of the periodic grid's energy shells, and the average over
        twists of a grid sum is the integral over the torus.
    distribution : str, default "gaussian"
        Of the site potential (:func:`chargetransport.random_potential`).

    Returns
    -------
    dict
        ``"distribution"``: array ``(len(T), L, ..., L)``, ``n_t(p)`` on this
        realization's grid; one ``(len(T),)`` array per observable (and per
        Boltzmann prediction).

    Examples
    --------
    >>> import numpy as np
    >>> out = momentum_distribution_realization(
    ...     7, d=2, L=16, eta=0.5, J={"mu": -1.0, "shift": [0.1, 0.0]}, T=[0.0, 0.5],
    ...     method="random_phase", num_vectors=2, observables=["current"], twist=True)
    >>> bool(np.isclose(out["current"][0], out["current_boltzmann"][0]))   # exact at T = 0
    True
    """
    real = Realization(seed)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    twist = check_bool("twist", twist)
    d = check_int("d", d, minimum=1, maximum=3)
    lat = Lattice(d, L, twist=real.twist(d) if twist else None)
    J = _initial_distribution(lat, J)
    weights = _observable_weights(lat, observables)
    H = real.hamiltonian(lat, eta, distribution)
    n = evolved_momentum_distribution(H, J, T / eta**2, method=method, num_vectors=num_vectors,
                                      seed=real.stream("phases"), tol=tol)
    out = {"distribution": n}
    for name, (w, named) in weights.items():
        out[name] = (n * w).reshape(len(T), -1).sum(axis=1) / lat.num_sites
        if named:
            out[name + "_boltzmann"] = boltzmann_observable(lat, J, name, T)
    return out


def two_point_realization(seed, *, d, L, eta, J, f, g, T, distribution="gaussian", tol=1e-10):
    """One realization of the two-point matrix and of its determinant at kinetic times ``T``.

    Returns
    -------
    dict of real arrays
        ``"re"``, ``"im"`` (nT, r, r): ``<g_i, gamma_t f_j>``; ``"det_re"``, ``"det_im"``
        (nT,): its determinant, the 2r-point function
        ``rho_t(a^+(f_1)...a^+(f_r) a(g_r)...a(g_1))`` of this realization.
    """
    real = Realization(seed)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    H = real.hamiltonian(Lattice(d, L), eta, distribution)
    M = evolved_two_point_matrix(H, J, f, g, T / eta**2, tol=tol)
    det = wick_determinant(M)
    return {"re": M.real, "im": M.imag, "det_re": det.real, "det_im": det.imag}


def quasi_free_deviation(num_realizations, seed, *, d, L, eta, J, f, g, T,
                         distribution="gaussian", tol=1e-10, progress=False):
    """How far the disorder-averaged state is from quasi-free (Theorem 5.2), with error bars.

    For each realization the state is quasi-free, so its 2r-point function is
    ``det M_t`` with ``M_t = [<g_i, gamma_t f_j>]``; the average of the
    determinants is in general not the determinant of the averages.

    Parameters
    ----------
    num_realizations : int
        ``R >= 2`` (the jackknife needs two).
    seed : int or numpy.random.SeedSequence
        Realization ``r`` uses ``realization_seeds(seed, R)[r]``.
    d, L, eta, J, f, g, T, distribution, tol
        As in :func:`two_point_realization` (``T`` kinetic times).
    progress : bool, default False
        tqdm bar over realizations.

    Returns
    -------
    dict
        ``"two_point"`` (nT, r, r) complex: ``E M_t``; ``"correlation"`` (nT,)
        complex: ``E det M_t``, the averaged 2r-point function
        ``E rho_t(a^+(f_1)...a^+(f_r) a(g_r)...a(g_1))``; ``"deviation"`` (nT,)
        complex: ``E det M_t - det E M_t``; ``"deviation_se"`` (nT,): its
        jackknife standard error; ``"two_point_se"`` (nT, r, r): standard errors
        of ``E M_t`` (modulus of the complex error).

    Notes
    -----
    The plug-in ``det(mean M)`` is biased at order ``1/R``; the jackknife
    estimate ``R D - (R - 1) mean_i D_(i)`` removes that bias and is the value
    returned, ``D_(i)`` being the estimate without realization i.
    """
    from tqdm import tqdm

    R = check_int("num_realizations", num_realizations, minimum=2)
    progress = check_bool("progress", progress)
    seeds = realization_seeds(seed, R)
    Ms = []
    for s in tqdm(seeds, disable=not progress, desc="realizations"):
        out = two_point_realization(s, d=d, L=L, eta=eta, J=J, f=f, g=g, T=T,
                                    distribution=distribution, tol=tol)
        Ms.append(out["re"] + 1j * out["im"])
    Ms = np.array(Ms)                       # (R, nT, r, r)
    dets = np.linalg.det(Ms)                # (R, nT)
    mean_M = Ms.mean(axis=0)
    full = dets.mean(axis=0) - np.linalg.det(mean_M)
    loo_M = (Ms.sum(axis=0)[None] - Ms) / (R - 1)
    loo_det = (dets.sum(axis=0)[None] - dets) / (R - 1)
    loo = loo_det - np.linalg.det(loo_M)    # (R, nT)
    jack_mean = loo.mean(axis=0)
    se = np.sqrt((R - 1) / R * (np.abs(loo - jack_mean) ** 2).sum(axis=0))
    se_M = np.sqrt(Ms.real.var(axis=0, ddof=1) + Ms.imag.var(axis=0, ddof=1)) / np.sqrt(R)
    return {"two_point": mean_M, "two_point_se": se_M, "correlation": dets.mean(axis=0),
            "deviation": R * full - (R - 1) * jack_mean, "deviation_se": se}

"""Fermions with dynamical Hartree-Fock interactions: the self-consistent dynamics (section 6).

The Hamiltonian (6.1) is ``H(t) = T + eta V_omega + lambda W(t)``, with the
Hartree-Fock interaction (6.2) built from the ensemble-averaged one-particle density
matrix. For a translation-invariant average its one-particle operator is a constant
(direct term) plus the Fourier multiplier ``-kappa_t = -v_hat * mu_t`` (exchange term,
(6.16)), ``mu_t`` the ensemble-mean momentum distribution (6.10); these terms are in
:mod:`chargetransport.hartree_fock_terms`.

So each realization's one-particle evolution is (6.8),
``i d/dt f_t = (e(p) - lambda kappa_t(p)) f_t + eta V_omega f_t`` (up to the
constant), and the realizations are coupled only through ``kappa_t``, which needs
the ensemble mean ``mu_t``: :func:`evolve_hartree_fock` runs the ensemble in lock-step.

Numerical formulation (random-phase vectors). The initial state is translation
invariant and quasi-free, with one-particle density matrix ``gamma_0 = J(-i grad)``.
With ``xi`` a vector of independent uniform phases in momentum space,
``E_xi |J^{1/2} xi><J^{1/2} xi| = gamma_0`` exactly. Given ``mu`` the evolution of
each realization is linear, ``gamma_t = U_t gamma_0 U_t^*``, hence
``mu_t(p) = E_{omega, xi} |(U_t J^{1/2} xi)^(p)|^2``: a realization of the ensemble
is a pair (potential, phase vectors), its state ``M`` vectors, and ``mu_t`` is
their mean ``|psi_hat|^2``. Each vector costs two FFTs per time step, instead of
the ``L^d`` vectors of the full density matrix.

Conventions. The book's dispersion is ``e(p) = sum_i 2 cos(2 pi p_i)``; section 6
of the paper writes ``E(p) = sum_i cos(2 pi p_i)``. The book's dynamics at
``(t, eta, lambda)`` is the paper's at ``(2 t, eta / 2, lambda / 2)``. Nothing below
depends on the sign of ``lambda``.

The experiment of Theorem 6.1, the current of a displaced Fermi sea
(:func:`displaced_sea_current`), is here; its linear Boltzmann limit is
:func:`chargetransport.fermi_kinetics.displaced_sea_boltzmann_current`. The stationary
solutions (6.43) of the regime ``lambda = O(1)``, functions of the renormalized
dispersion, are in :mod:`chargetransport.hartree_fock_stationary`.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import time

import numpy as np
import scipy.fft
from tqdm import tqdm

from ._validation import check_bool, check_int, check_memory, check_real, check_real_array
from .disorder import DISTRIBUTIONS
from .fermi_kinetics import MOMENTUM_OBSERVABLES
from .hartree_fock_terms import (_check_distribution, _check_potential, _exchange,
                                 _grid_dispersion, gaussian_pair_potential)
from .lattice import Lattice
from .lockstep import LockstepEnsemble
from .quasi_free_states import fermi_sea
from .rng import Realization

__all__ = ["HartreeFockRun", "evolve_hartree_fock", "steps_to_reach", "METHODS",
           "displaced_sea_current"]

# t_final / dt may differ from a whole number of steps by this much (rounding of t_final).
_STEP_TOLERANCE = 1e-9

#: Time integrators of :func:`evolve_hartree_fock` and their order in ``dt``.
METHODS = {"extrapolated-midpoint": 2, "predictor-corrector": 2, "frozen": 1}

# --------------------------------------------------------------------------------------
# Self-consistent dynamics
# --------------------------------------------------------------------------------------
def _init_realization(seed_sequence, L, d, J, vectors, dt, eta, distribution, test_functions=None,
                      window=False):
    """State of one realization: potential phase exp(-i dt eta V) and M random-phase vectors.

    Seed contract (:mod:`chargetransport.rng`): the potential from the seed itself, the
    phases from its ``phases`` stream.
    """
    real = Realization(seed_sequence)
    lat = Lattice(d, L)
    V = real.potential(lat, distribution)
    theta = real.generator("phases").uniform(0.0, 2.0 * np.pi, size=(vectors,) + lat.shape)
    psi_hat = np.sqrt(J) * np.exp(1j * theta)
    state = {"potential_phase": np.exp(-1j * dt * eta * V), "psi_hat": psi_hat,
             "test_functions": test_functions or {}, "pairings": [], "window": None}
    contribution = _contribution(state, psi_hat)
    _record_pairings(state, contribution)
    if window:
        _accumulate_window(state, contribution)
    return state


def _strang(state, kinetic_half_phase):
    """One Strang step: half kinetic (multiplier), full potential, half kinetic."""
    d = kinetic_half_phase.ndim
    axes = tuple(range(1, d + 1))
    psi_hat = state["psi_hat"] * kinetic_half_phase
    psi = scipy.fft.ifftn(psi_hat, axes=axes, norm="ortho", overwrite_x=True)
    psi *= state["potential_phase"]
    psi_hat = scipy.fft.fftn(psi, axes=axes, norm="ortho", overwrite_x=True)
    psi_hat *= kinetic_half_phase
    return psi_hat


def _contribution(state, psi_hat):
    density = np.mean(psi_hat.real**2 + psi_hat.imag**2, axis=0)
    out = {"mu": density}
    for name, f in state["test_functions"].items():
        out[name] = float(np.mean(f * density))
    return out


def _record_pairings(state, contribution):
    """Keep this realization's own test-function pairings (for per-realization samples)."""
    if state["test_functions"]:
        state["pairings"].append([contribution[name] for name in state["test_functions"]])


def _accumulate_window(state, contribution):
    """Add this realization's density to its own sum over the time-average window."""
    if state["window"] is None:
        state["window"] = contribution["mu"].copy()
    else:
        state["window"] += contribution["mu"]


def _window_mean(state, count):
    return state["window"] / count


def _lockstep_step(state, shared):
    """LockstepEnsemble step: shared = (advance, kinetic symbol K = e - lambda kappa, dt,
    record, window), or ``None`` at the end of a run: drop the vectors, keep the
    pairings. ``record``: keep this step's pairings; ``window``: add this step's density
    to the realization's time-average window."""
    if shared is None:
        return {"pairings": state["pairings"]}, 0.0
    advance, symbol, dt, record, window = shared
    psi_hat = _strang(state, np.exp(-0.5j * dt * symbol))
    contribution = _contribution(state, psi_hat)
    if advance:
        state = dict(state, psi_hat=psi_hat)
        if record:
            _record_pairings(state, contribution)
        if window:
            _accumulate_window(state, contribution)
    return state, contribution


def _momentum_density(state):
    return _contribution(state, state["psi_hat"])


@dataclasses.dataclass(frozen=True)
class HartreeFockRun:
    """Result of :func:`evolve_hartree_fock`.

    Attributes
    ----------
    times : numpy.ndarray, shape (n,)
        Recorded times ``t_0 = 0, ...``.
    mu : numpy.ndarray, shape ``(n,) + (L,) * d``
        Ensemble-mean momentum distribution ``mu_t`` (6.10) at those times.
    mu_standard_error : numpy.ndarray, same shape
        Standard error of ``mu_t`` over the realizations (NaN for one).
    kappa : numpy.ndarray, same shape
        Exchange symbol ``v_hat * mu_t`` at those times.
    pairings : dict of str to numpy.ndarray, shape (n,)
        ``<f, mu_t> = L^{-d} sum_p f(p) mu_t(p)`` for each test function ``f``.
    pairing_standard_errors : dict of str to numpy.ndarray, shape (n,)
        Their standard errors over the realizations.
    pairing_samples : dict of str to numpy.ndarray, shape (R, n)
        The pairings of each realization (its ``M`` vectors averaged), whose mean
        over the first axis is :attr:`pairings`: for statistics beyond the standard
        error, such as :func:`chargetransport.deviations.sup_deviation`. The
        realizations share the mean field ``kappa_t``, an average over all ``R M``
        vectors that a single realization moves by ``O(1 / R)``: they are
        independent up to that coupling.
    time_average : numpy.ndarray, shape ``(L,) * d``
        ``mu_t`` averaged over the steps with ``t >= average_from``.
    time_average_standard_error : numpy.ndarray, shape ``(L,) * d``
        Its standard error over the realizations (from each realization's own time
        average; NaN for one realization): smaller than :attr:`mu_standard_error`
        at one time, since the noise decorrelates over the window.
    dt, method, num_realizations, vectors_per_realization, executor, num_workers,
    wall_time :
        How it was computed (``wall_time`` in seconds).
    state_bytes : int
        Memory of the states of all realizations (the dominant allocation).
    """

    times: np.ndarray
    mu: np.ndarray
    mu_standard_error: np.ndarray
    kappa: np.ndarray
    pairings: dict
    pairing_standard_errors: dict
    pairing_samples: dict
    time_average: np.ndarray
    time_average_standard_error: np.ndarray
    dt: float
    method: str
    num_realizations: int
    vectors_per_realization: int
    executor: str
    num_workers: int
    wall_time: float
    state_bytes: int


def steps_to_reach(t, dt):
    """The least number of steps ``n`` with ``n dt >= t`` (up to rounding of ``t / dt``).

    Parameters
    ----------
    t : float
        A time ``> 0``, such as ``T / eta^2`` for a kinetic time ``T``.
    dt : float
        Time step ``> 0``.

    Returns
    -------
    int
        ``ceil(t / dt)``, where a ``t / dt`` within ``1e-9`` of an integer counts as
        that integer (so that ``t = 25.000000000000004`` and ``dt = 0.2`` give 125
        steps, not 126). Pass it as ``num_steps`` to :func:`evolve_hartree_fock`.

    Examples
    --------
    >>> steps_to_reach(4.0 / 0.4**2, 0.2), steps_to_reach(4.0 / 0.3**2, 0.2)
    (125, 223)
    """
    t = check_real("t", t, minimum=0.0, strict_minimum=True)
    dt = check_real("dt", dt, minimum=0.0, strict_minimum=True)
    steps = t / dt
    return max(1, math.ceil(steps - _STEP_TOLERANCE))


def evolve_hartree_fock(J, v, lam, eta, t_final=None, dt=None, num_realizations=None,
                        seed=None, *, num_steps=None,
                        vectors_per_realization=4, method="extrapolated-midpoint",
                        record_every=1, average_from=None, test_functions=None,
                        distribution="gaussian",
                        executor="serial", max_workers=None, block_size=1, progress=False):
    """Self-consistent Hartree-Fock dynamics (6.3)/(6.8) of a disorder ensemble, in lock-step.

    Parameters
    ----------
    J : numpy.ndarray, shape ``(L,) * d``
        Initial momentum distribution ``mu_0 = J`` (6.12)-(6.13), values in [0, 1]
        (e.g. a Fermi-Dirac distribution of the free gas).
    v : numpy.ndarray, shape ``(L,) * d``
        Pair potential (:func:`chargetransport.hartree_fock_terms.gaussian_pair_potential`).
    lam : float
        Interaction strength ``lambda`` (any sign).
    eta : float
        Disorder strength ``eta >= 0``; ``H = Delta + eta V``.
    t_final : float, optional
        Final microscopic time ``> 0``, a whole number of steps ``n dt``: a
        ``t_final`` more than ``1e-9`` of a step away from a multiple of ``dt``
        is an error. Give either ``t_final`` or ``num_steps``.
    dt : float
        Time step ``0 < dt <= 1`` (required).
    num_realizations : int
        Number of disorder realizations ``R >= 1`` (required).
    seed : int or numpy.random.SeedSequence
        Master seed (required); realization ``r`` comes from its ``r``-th spawned
        child, whatever the executor: its potential from that child itself, its
        random phases from the child's ``phases`` stream (the seed contract of
        :mod:`chargetransport.rng`).
    num_steps : int, optional
        Number of time steps ``>= 1`` instead of ``t_final``; the run ends at
        ``num_steps * dt``. :func:`steps_to_reach` gives the steps that cover a
        time.
    vectors_per_realization : int, default 4
        Random-phase vectors ``M`` per realization (see the module notes).
    method : {"extrapolated-midpoint", "predictor-corrector", "frozen"}
        How ``kappa`` is chosen on each step ``[t_n, t_n + dt]`` of the Strang
        splitting ``exp(-i dt K/2) exp(-i dt eta V) exp(-i dt K/2)``,
        ``K = e - lambda kappa``: at the midpoint, from ``(3 mu_n - mu_{n-1}) / 2``
        (one ensemble reduction per step; the first step uses a predictor); at the
        midpoint from ``(mu_n + mu*_{n+1}) / 2`` with a predictor step
        ``mu*_{n+1}`` (two reductions per step); or frozen at ``mu_n`` (first
        order, for comparison). Every step is unitary for every realization.
    record_every : int, default 1
        Record ``mu`` every so many steps (and at the end).
    average_from : float, optional
        Start of the window of :attr:`HartreeFockRun.time_average` (default
        ``t_final / 2``).
    test_functions : dict of str to numpy.ndarray, optional
        Real functions ``f`` on the momentum grid; their pairings ``<f, mu_t>``
        (the quantities of Theorems 6.1-6.2, with ``f = g``-type products) are
        accumulated per realization, so that they come with standard errors, and
        kept per realization (:attr:`HartreeFockRun.pairing_samples`).
    distribution : str, default "gaussian"
        Law of the random potential (:func:`chargetransport.random_potential`).
    executor, max_workers, block_size :
        As for :class:`chargetransport.LockstepEnsemble`. The result is bit-for-bit
        the same for every executor and split of the realizations.
    progress : bool, default False
        Show a tqdm bar over the time steps.

    Returns
    -------
    HartreeFockRun

    Notes
    -----
    Each step sends the symbol ``K`` (one real array) to the workers and merges
    the per-block means of ``|psi_hat|^2`` back, in block order. Memory: the
    states, ``R (16 (M + 1) + 8) L^d`` bytes (vectors, potential phase, time-average
    window), plus the records, ``24 n L^d`` bytes.

    References
    ----------
    Paper eqs. (6.2), (6.3), (6.8), (6.10), (6.16).

    Examples
    --------
    Without disorder the Hartree-Fock terms leave a translation-invariant state
    alone, however strong the coupling:

    >>> from chargetransport.quasi_free_states import fermi_sea
    >>> lat = Lattice(2, 8)
    >>> J = fermi_sea(lat, 0.5, shift=(0.1, 0.0), beta=3.0)
    >>> v = gaussian_pair_potential(lat, 1.0, 1.0)
    >>> run = evolve_hartree_fock(J, v, lam=4.0, eta=0.0, dt=0.25, num_steps=8,
    ...                           num_realizations=2, seed=1)
    >>> float(run.times[-1]), bool(np.abs(run.mu[-1] - J).max() < 1e-13)
    (2.0, True)
    """
    t_start = time.perf_counter()
    for name, value in (("dt", dt), ("num_realizations", num_realizations), ("seed", seed)):
        if value is None:
            raise TypeError(f"evolve_hartree_fock() needs '{name}'")
    if (t_final is None) == (num_steps is None):
        raise TypeError("evolve_hartree_fock() needs exactly one of 't_final' and 'num_steps', "
                        f"got t_final={t_final!r}, num_steps={num_steps!r}")
    v = _check_potential(v)
    J = _check_distribution("J", J, v.shape)
    lam = check_real("lam", lam)
    eta = check_real("eta", eta, minimum=0.0)
    dt = check_real("dt", dt, minimum=0.0, strict_minimum=True, maximum=1.0)
    num_realizations = check_int("num_realizations", num_realizations, minimum=1)
    vectors = check_int("vectors_per_realization", vectors_per_realization, minimum=1)
    if method not in METHODS:
        raise ValueError(f"'method' must be one of {sorted(METHODS)}, got {method!r}")
    record_every = check_int("record_every", record_every, minimum=1)
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"'distribution' must be one of {DISTRIBUTIONS}, got {distribution!r}")
    progress = check_bool("progress", progress)
    tests = {}
    if test_functions is not None:
        if not isinstance(test_functions, dict):
            raise TypeError("'test_functions' must be a dict of name to array, got "
                            f"{type(test_functions).__name__}")
        for name, f in test_functions.items():
            if not isinstance(name, str) or name == "mu":
                raise ValueError("'test_functions' keys must be strings other than 'mu', "
                                 f"got {name!r}")
            f = check_real_array(f"test_functions[{name!r}]", f)
            if f.shape != v.shape:
                raise ValueError(f"'test_functions[{name!r}]' must have shape {v.shape}, "
                                 f"got {f.shape}")
            tests[name] = f
    if num_steps is not None:
        num_steps = check_int("num_steps", num_steps, minimum=1)
    else:
        t_final = check_real("t_final", t_final, minimum=0.0, strict_minimum=True)
        steps = t_final / dt
        num_steps = max(1, round(steps))
        if abs(steps - num_steps) > _STEP_TOLERANCE:
            whole = steps_to_reach(t_final, dt)
            raise ValueError(f"'t_final' = {t_final!r} is not a whole number of steps 'dt' = "
                             f"{dt!r} ({steps:.6g} steps); pass num_steps = "
                             f"steps_to_reach(t_final, dt) = {whole} (t = {whole * dt!r}) "
                             "or a dt that divides it")
    if average_from is None:
        average_from = 0.5 * num_steps * dt
    average_from = check_real("average_from", average_from, minimum=0.0,
                              maximum=num_steps * dt)
    L, d = v.shape[0], v.ndim
    state_bytes = num_realizations * (16 * (vectors + 1) + 8) * v.size
    num_records = num_steps // record_every + 2
    check_memory("num_realizations", state_bytes + 24 * num_records * v.size,
                 f"{num_realizations} realizations of {vectors} vectors and {num_records} records",
                 hint="lower 'num_realizations', 'vectors_per_realization' or raise 'record_every'")
    e = _grid_dispersion(v)

    def symbol(mu):
        return e - lam * _exchange(v, mu)

    def recorded(n):
        return n % record_every == 0 or n == num_steps

    def in_window(n):
        return n * dt >= average_from - 1e-9 * dt

    init = functools.partial(_init_realization, L=L, d=d, J=J, vectors=vectors, dt=dt,
                             eta=eta, distribution=distribution, test_functions=tests,
                             window=in_window(0))

    times, mus, ses = [], [], []
    pairs = {name: [] for name in tests}
    pair_ses = {name: [] for name in tests}
    avg, avg_count = np.zeros(v.shape), 0

    def record(n, moments):
        nonlocal avg, avg_count
        t = n * dt
        if recorded(n):
            times.append(t)
            mus.append(moments["mu"].mean)
            ses.append(moments["mu"].standard_error)
            for name in tests:
                pairs[name].append(float(moments[name].mean))
                pair_ses[name].append(float(moments[name].standard_error))
        if in_window(n):
            avg += moments["mu"].mean
            avg_count += 1

    with LockstepEnsemble(init, _lockstep_step, num_realizations, seed, executor=executor,
                          max_workers=max_workers, block_size=block_size) as ens:
        moments = ens.reduce(_momentum_density)
        mu_prev, mu = None, moments["mu"].mean
        record(0, moments)
        for n in tqdm(range(num_steps), desc="time steps", unit="step", disable=not progress):
            if method == "frozen":
                mu_mid = mu
            elif method == "predictor-corrector" or mu_prev is None:
                predicted = ens.step((False, symbol(mu), dt, False, False))["mu"].mean
                mu_mid = 0.5 * (mu + predicted)
            else:
                mu_mid = 1.5 * mu - 0.5 * mu_prev
            moments = ens.step((True, symbol(mu_mid), dt, bool(tests) and recorded(n + 1),
                                in_window(n + 1)))
            mu_prev, mu = mu, moments["mu"].mean
            record(n + 1, moments)
        window = ens.reduce(functools.partial(_window_mean, count=avg_count))
        samples = {}
        if tests:  # the vectors are done with: drop them before the pairings travel back
            ens.step(None)
            per_realization = np.array([state["pairings"] for state in ens.states()])
            samples = {name: per_realization[:, :, k] for k, name in enumerate(tests)}
        executor_name, workers = ens.executor, ens.num_workers
    mu_arr = np.array(mus)
    return HartreeFockRun(
        times=np.array(times), mu=mu_arr, mu_standard_error=np.array(ses),
        kappa=np.array([_exchange(v, m) for m in mu_arr]),
        pairings={name: np.array(val) for name, val in pairs.items()},
        pairing_standard_errors={name: np.array(val) for name, val in pair_ses.items()},
        pairing_samples=samples,
        time_average=avg / avg_count, time_average_standard_error=window.standard_error,
        dt=dt, method=method,
        num_realizations=num_realizations, vectors_per_realization=vectors,
        executor=executor_name, num_workers=workers,
        wall_time=time.perf_counter() - t_start, state_bytes=state_bytes)


# --------------------------------------------------------------------------------------
# The current of a displaced Fermi sea: one ensemble
# --------------------------------------------------------------------------------------
def displaced_sea_current(ensemble_seed, *, d, L, eta, lam, T_final, dt=0.2, record_every=5,
                          num_realizations=4, vectors_per_realization=4, mu=0.5,
                          shift=None, beta=3.0, pair_strength=1.0, pair_range=1.5):
    """The current of a displaced Fermi sea under Hartree-Fock dynamics: one lock-step ensemble.

    The observable of Theorem 6.1 in the book (``book/hartree_fock.md``), as a
    function of one seed, so that :mod:`chargetransport.studies` can store many
    independent ensembles of it: ``J = fermi_sea(mu, shift, beta)`` evolved by
    :func:`evolve_hartree_fock` with the Gaussian pair potential, and the current
    ``j_t = int v_1(p) mu_t(p) dp`` (``v_1 = -2 sin(2 pi p_1)``) of each realization.

    Parameters
    ----------
    ensemble_seed : int or numpy.random.SeedSequence
        Seed of the whole ensemble: its realization ``r`` is the ``r``-th spawned child
        (as in :func:`evolve_hartree_fock`), so this is not a per-realization function
        of the seed contract but one realization of an ensemble *of ensembles*.
    d, L : int
        Dimension and box side.
    eta : float
        Disorder strength ``> 0``.
    lam : float
        Coupling ``lambda``.
    T_final : float
        Last kinetic time ``T = eta^2 t > 0``; the run takes
        ``steps_to_reach(T_final / eta^2, dt)`` steps.
    dt : float, default 0.2
    record_every : int, default 5
        Steps between recorded currents.
    num_realizations, vectors_per_realization : int, default 4
        The lock-step ensemble (``R`` realizations of ``M`` random-phase vectors)
        that defines the mean field.
    mu, beta : float, default 0.5, 3.0
        Fermi energy and inverse temperature of the sea.
    shift : sequence of d floats, optional
        Displacement of the sea (default ``(0.1, 0, ...)``).
    pair_strength, pair_range : float, default 1.0, 1.5
        The pair potential :func:`chargetransport.hartree_fock_terms.gaussian_pair_potential`.

    Returns
    -------
    dict
        ``"kinetic_time"``: shape (n,), the recorded ``T = eta^2 t``;
        ``"current"``: shape (R, n), ``j_t / j_0`` of each realization (``j_0`` the
        initial current on the grid).

    Examples
    --------
    >>> out = displaced_sea_current(5, d=2, L=16, eta=0.5, lam=0.25, T_final=0.5,
    ...                             num_realizations=2, vectors_per_realization=2)
    >>> out["current"].shape, float(out["kinetic_time"][-1])
    ((2, 3), 0.5)
    >>> bool(np.allclose(out["current"][:, 0], 1.0, rtol=1e-14))  # |psi_hat_0|^2 = J
    True
    """
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T_final = check_real("T_final", T_final, minimum=0.0, strict_minimum=True)
    lat = Lattice(check_int("d", d, minimum=1, maximum=3), check_int("L", L, minimum=3))
    shift = [0.1] + [0.0] * (lat.d - 1) if shift is None else shift
    J = fermi_sea(lat, mu, shift=shift, beta=beta)
    velocity = MOMENTUM_OBSERVABLES["current"][0](lat.momenta()) * np.ones(lat.shape)   # v_1
    j0 = float(np.mean(J * velocity))
    v = gaussian_pair_potential(lat, pair_strength, pair_range)
    run = evolve_hartree_fock(J, v, lam, eta, dt=dt, num_steps=steps_to_reach(T_final / eta**2, dt),
                              num_realizations=num_realizations, seed=ensemble_seed,
                              vectors_per_realization=vectors_per_realization,
                              record_every=record_every, test_functions={"current": velocity})
    return {"kinetic_time": eta**2 * run.times, "current": run.pairing_samples["current"] / j0}

"""The WKB experiment of Theorem 2.1: the initial state (2.6) and one realization's pairings.

The state is the WKB state (2.6) with ``mu = eta^2``, a Gaussian amplitude and a
linear phase (:func:`gaussian_wkb_state`); :class:`GaussianWKBWigner` is its
Wigner function at finite ``eta``, the initial density of the Boltzmann side;
:func:`wkb_wigner_pairings` runs one realization of the dynamics at the
kinetic times ``t = T / eta^2`` and pairs ``W_T^(eta^2)`` with test functions
(a module-level function of a ``SeedSequence``, for
:func:`chargetransport.ensemble.ensemble_average`); :class:`WKBExperiment` is
the set-up of the book's "Theorem 2.1 in numbers". The mean-square
displacement of the same state is
:func:`chargetransport.kinetic_limit.wkb_mean_square_displacement`.
"""
from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np

from ._validation import _check_momentum, check_instance, check_int, check_real, check_real_array
from .lattice import Lattice
from .observables import boundary_weight
from .propagation import trajectory
from .rng import Realization
from .states import wkb_state
from .wigner import SeparableTestFunction, wigner_pairing

__all__ = ["gaussian_wkb_state", "GaussianWKBWigner", "wkb_wigner_pairings", "WKBExperiment",
           "WKB_DEFAULT_MOMENTA"]


class _GaussianAmplitude:
    # picklable h(X) = exp(-|X|^2 / (4 w^2)), so |h|^2 has standard deviation w per axis
    def __init__(self, width):
        self.width = width

    def __call__(self, *X):
        return np.exp(-sum(x**2 for x in X) / (4.0 * self.width**2))


class _LinearPhase:
    # picklable S(X) = p . X: constant local momentum p
    def __init__(self, momentum):
        self.momentum = np.asarray(momentum, dtype=float)

    def __call__(self, *X):
        return sum(pi * x for pi, x in zip(self.momentum, X))


def gaussian_wkb_state(lattice, eta, momentum, width):
    """The WKB state (2.6) with ``mu = eta^2``, ``h`` Gaussian and ``S(X) = p . X``.

    Its kinetic limit is ``F_0(X, V) = N(0, width^2)^{(x) d}(X) delta(V - p)``.
    """
    check_instance("lattice", lattice, Lattice)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    p = _check_momentum(momentum, lattice.d)
    width = check_real("width", width, minimum=0.0, strict_minimum=True)
    return wkb_state(lattice, _GaussianAmplitude(width), _LinearPhase(p), mu=eta**2)


@dataclasses.dataclass(frozen=True)
class GaussianWKBWigner:
    """The Wigner function of :func:`gaussian_wkb_state` at finite ``eta``.

    For ``psi_0(x) = C h(mu x) exp(2 pi i p.x)`` with ``h(X) = exp(-|X|^2 / (4 w^2))``
    and ``mu = eta^2``, the rescaled Wigner transform ``W^(mu)_0`` (see
    :mod:`chargetransport.wigner`) paired with a test function that is smooth on the
    lattice scale ``mu`` in ``X`` equals, up to terms of order ``exp(-2 pi^2 w^2 / mu^2)``, the pairing
    with the probability density

        F_0^eta(X, V) = prod_i N(0, w^2)(X_i) g_s(V_i - p_i),
        g_s(u) = sum_{j in Z} exp(-(u - j)^2 / (2 s^2)) / (sqrt(2 pi) s),
        s = mu / (4 pi w):

    positions and momenta independent, a Gaussian of variance ``w^2`` per axis in
    ``X``, a periodised Gaussian of standard deviation ``s`` about ``p`` in ``V``.
    Theorem 2.1's ``F_0 = N(0, w^2)(X) delta(V - p)`` is its limit ``s -> 0``.
    Started from ``F_0^eta`` instead, the Boltzmann solution separates the error of
    the initial state (order ``s^2``) from that of the dynamics.

    Parameters
    ----------
    eta : float
        ``eta > 0``; the WKB scale is ``mu = eta^2``.
    momentum : sequence of d floats
        ``p``, ``1 <= d <= 3``.
    width : float
        ``w > 0``: standard deviation of ``|h|^2`` per axis (macroscopic units).

    Notes
    -----
    Per axis, with ``y = x + n/2``, ``z = x - n/2`` (``n = y - z`` has the parity
    of ``2x``), ``conj(psi(y)) psi(z) = C^2 exp(-mu^2 x^2 / (2 w^2))
    exp(-mu^2 n^2 / (8 w^2)) exp(-2 pi i p n)``. Poisson summation over ``n`` of
    one parity gives Gaussians of standard deviation ``s`` at ``p + j/2``, all
    positive on the integer sublattice of ``x`` and with sign ``(-1)^j`` on the
    half-integer one. A test function smooth on the scale ``mu`` sums the two
    sublattices alike, so the images at ``p + 1/2`` cancel and those at
    ``p + j`` add up to ``g_s`` (the lattice Wigner transform's aliasing).
    With ``C^2 = mu / (sqrt(2 pi) w)`` the mass is 1.

    Examples
    --------
    >>> F = GaussianWKBWigner(eta=0.4, momentum=(0.125, 0.25), width=0.5)
    >>> round(F.momentum_spread, 6)          # 0.16 / (2 pi)
    0.025465
    >>> X, V = F.sample(100_000, np.random.default_rng(0))
    >>> bool(abs(X[:, 0].std() - 0.5) < 0.01), bool(abs(V[:, 1].std() - 0.025465) < 0.001)
    (True, True)
    """

    eta: float
    momentum: tuple
    width: float

    def __post_init__(self):
        p = check_real_array("momentum", self.momentum, ndim=1)
        if not 1 <= p.size <= 3:
            raise ValueError(f"'momentum' must have d = 1, 2 or 3 components, got {p.size}")
        object.__setattr__(self, "eta", check_real("eta", self.eta, minimum=0.0,
                                                   strict_minimum=True))
        object.__setattr__(self, "momentum", tuple(float(x) for x in p))
        object.__setattr__(self, "width", check_real("width", self.width, minimum=0.0,
                                                     strict_minimum=True))

    @property
    def d(self):
        """Dimension (the length of ``momentum``)."""
        return len(self.momentum)

    @property
    def momentum_spread(self):
        """``s = eta^2 / (4 pi w)``: standard deviation of the momentum per axis."""
        return self.eta**2 / (4.0 * np.pi * self.width)

    def density(self, X, V):
        """``F_0^eta(X, V)`` at positions ``X`` and momenta ``V`` (arrays of shape (..., d)).

        The periodised Gaussian keeps the images ``|j| <= 3``, exact to rounding
        for ``s <= 0.25``.
        """
        X = np.asarray(X, dtype=float)
        V = np.asarray(V, dtype=float)
        w, s = self.width, self.momentum_spread
        j = np.arange(-3, 4)
        out = 1.0
        for i, p in enumerate(self.momentum):
            out = out * np.exp(-X[..., i] ** 2 / (2.0 * w**2)) / (np.sqrt(2.0 * np.pi) * w)
            u = (V[..., i] - p)[..., None] + j
            out = out * np.exp(-u**2 / (2.0 * s**2)).sum(axis=-1) / (np.sqrt(2.0 * np.pi) * s)
        return out

    def sample(self, num, rng):
        """``num`` samples ``(X, V)`` of ``F_0^eta``, for :func:`~chargetransport.boltzmann.kinetic_monte_carlo`.

        ``X`` first (normal draws of shape (num, d)), then ``V`` likewise; ``V`` is
        reduced to the torus ``[0, 1)^d``.
        """
        num = check_int("num", num, minimum=0)
        X = rng.normal(0.0, self.width, size=(num, self.d))
        V = (np.asarray(self.momentum) + rng.normal(0.0, self.momentum_spread,
                                                    size=(num, self.d))) % 1.0
        return X, V


def _check_fits(psi, lattice, eta, margin_macro):
    """Weight within ``margin_macro`` macroscopic units of the box boundary."""
    return boundary_weight(psi, margin_macro / eta**2)


def wkb_wigner_pairings(seed, *, d, L, eta, momentum, width, T, test_functions,
                        distribution="gaussian", boundary_margin=0.5, tol=1e-8):
    """``<J, W_T^(eta^2)>`` of the WKB initial state (Theorem 2.1), for one realization.

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
    d, L : int
        The box must hold the macroscopic motion: side ``L eta^2`` in units of X.
    eta : float
        Disorder strength; also the WKB scale ``mu = eta^2`` (eq. (2.9)).
    momentum : sequence of d floats
        ``p = grad S``.
    width : float
        Standard deviation of ``|h|^2`` per axis, in macroscopic units.
    T : array_like of float
        Macroscopic times.
    test_functions : sequence of SeparableTestFunction
        ``J(X, V)`` (picklable, e.g. from :func:`gaussian_test_function`).
    boundary_margin : float, default 0.5
        Width (macroscopic units) of the boundary layer whose weight is reported.

    Returns
    -------
    dict
        ``"pairings"`` (nT, nJ): ``Re <J, W_T^(eta^2)>``;
        ``"boundary_weight"`` (nT,): weight of the state within the boundary layer,
        to check that it does not wrap around the periodic box.
    """
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    test_functions = list(test_functions)
    if not all(isinstance(J, SeparableTestFunction) for J in test_functions):
        raise TypeError("'test_functions' must be SeparableTestFunction instances")
    boundary_margin = check_real("boundary_margin", boundary_margin, minimum=0.0)
    real = Realization(seed)
    lat = Lattice(d, L)
    psi0 = gaussian_wkb_state(lat, eta, momentum, width)
    H = real.hamiltonian(lat, eta, distribution)   # the seed contract (rng)
    pairings = np.empty((len(T), len(test_functions)))
    edge = np.empty(len(T))
    for i, psi in trajectory(H, psi0, T / eta**2, tol=tol):
        pairings[i] = [wigner_pairing(psi, J, scale=eta**2).real for J in test_functions]
        edge[i] = _check_fits(psi, lat, eta, boundary_margin)
    return {"pairings": pairings, "boundary_weight": edge}


#: Default momentum ``p`` of :class:`WKBExperiment` by dimension (generic points of the
#: band: no component 0 or 1/2; in d = 3 the energy e(p) = 0 is the band centre).
WKB_DEFAULT_MOMENTA = {2: (0.125, 0.25), 3: (0.125, 0.25, 0.375)}


@dataclasses.dataclass(frozen=True)
class WKBExperiment:
    """The phase-space set-up of the book's "Theorem 2.1 in numbers" experiment.

    A WKB state (2.6) with ``mu = eta^2``, Gaussian amplitude and linear phase
    ``S(X) = p . X``, so that ``F_0(X, V) = N(0, width^2)^{(x) d}(X) delta(V - p)``,
    and three Gaussian test functions: ``J_1`` around the unscattered particles at
    ``X = v(p) T_1``, ``V = p``; ``J_2`` around ``X = 0``, ``V = q`` (weight
    scattered to the momentum ``q`` on the shell of ``p``); ``J_3`` the density
    near ``X = 0`` whatever the momentum. The dimension is the length of ``momentum``;
    :meth:`in_dimension` gives the set-up with the default momentum of ``d = 2`` or
    ``d = 3`` (Theorems 2.1 and 3.1 are proven on ``Z^3``).

    Parameters
    ----------
    momentum : tuple of float, default (1/8, 1/4)
        ``p = grad S``, with ``d = len(momentum)`` components, ``1 <= d <= 3``.
    scattered_momentum : tuple of float, optional
        ``q``, on the energy shell of ``p``. Default: ``p`` with its first two
        components swapped (on the shell, since ``e`` is symmetric under
        permutations of the components): ``(1/4, 1/8)`` for the default ``p``;
        ``-p`` in ``d = 1``.
    width : float, default 0.5
        Standard deviation of ``|h|^2`` per axis (macroscopic units).
    unscattered_time : float, default 1
        ``T_1``: ``J_1`` is centred where the unscattered packet is at ``T = T_1``.

    Examples
    --------
    >>> exp = WKBExperiment()
    >>> [round(float(x), 3) for x in exp.velocity]
    [-1.414, -2.0]
    >>> exp.box_side(0.2, half_width=5.0)
    250
    >>> exp3 = WKBExperiment.in_dimension(3, unscattered_time=0.5)
    >>> exp3.d, exp3.momentum, exp3.scattered_momentum
    (3, (0.125, 0.25, 0.375), (0.25, 0.125, 0.375))
    """

    momentum: tuple = WKB_DEFAULT_MOMENTA[2]
    scattered_momentum: tuple = None
    width: float = 0.5
    unscattered_time: float = 1.0

    def __post_init__(self):
        p = check_real_array("momentum", self.momentum, ndim=1)
        if not 1 <= p.size <= 3:
            raise ValueError(f"'momentum' must have d = 1, 2 or 3 components, got {p.size}")
        if self.scattered_momentum is None:
            q = (-p) % 1.0 if p.size == 1 else p[[1, 0] + list(range(2, p.size))]
        else:
            q = _check_momentum(self.scattered_momentum, p.size, "scattered_momentum")
        # frozen dataclass: store the validated values as tuples of floats
        object.__setattr__(self, "momentum", tuple(float(x) for x in p))
        object.__setattr__(self, "scattered_momentum", tuple(float(x) for x in q))
        object.__setattr__(self, "width", check_real("width", self.width, minimum=0.0,
                                                     strict_minimum=True))
        object.__setattr__(self, "unscattered_time",
                           check_real("unscattered_time", self.unscattered_time, minimum=0.0))

    @classmethod
    def in_dimension(cls, d, **parameters):
        """The set-up in dimension ``d`` (2 or 3) with that dimension's default momentum.

        Parameters
        ----------
        d : int
            2 or 3; the momentum defaults to ``WKB_DEFAULT_MOMENTA[d]``.
        **parameters
            Further fields (``scattered_momentum``, ``width``, ``unscattered_time``,
            or a ``momentum`` with ``d`` components).

        Examples
        --------
        >>> WKBExperiment.in_dimension(2) == WKBExperiment()
        True
        """
        d = check_int("d", d, minimum=2, maximum=3)
        parameters.setdefault("momentum", WKB_DEFAULT_MOMENTA[d])
        setup = cls(**parameters)
        if setup.d != d:
            raise ValueError(f"'momentum' must have d = {d} components, got {setup.d}")
        return setup

    @property
    def d(self):
        """Dimension (the length of ``momentum``)."""
        return len(self.momentum)

    @property
    def velocity(self):
        """Group velocity ``v(p) = grad e(p) / (2 pi)``."""
        return -2.0 * np.sin(2.0 * np.pi * np.asarray(self.momentum, dtype=float))

    @property
    def labels(self):
        """Short names of the three test functions (for plots)."""
        return [r"$J_1$: unscattered", r"$J_2$: scattered to $q$", r"$J_3$: near the origin"]

    def test_functions(self):
        """``[J_1, J_2, J_3]`` as picklable :class:`~chargetransport.wigner.SeparableTestFunction`."""
        from .wigner import gaussian_test_function
        origin = (0.0,) * self.d
        return [gaussian_test_function(self.velocity * self.unscattered_time, self.momentum,
                                       width=0.5, momentum_width=0.05),
                gaussian_test_function(origin, self.scattered_momentum, width=1.5,
                                       momentum_width=0.05),
                gaussian_test_function(origin, None, width=1.0)]

    def initial_samples(self, num, rng):
        """``num`` samples ``(X, V)`` of ``F_0``, for :func:`~chargetransport.boltzmann.kinetic_monte_carlo`."""
        X = rng.normal(0.0, self.width, size=(num, self.d))
        return X, np.tile(np.asarray(self.momentum, dtype=float), (num, 1))

    def box_side(self, eta, half_width):
        """Even box side holding ``[-half_width, half_width]^d`` in macroscopic units: ``2 ceil(half_width / eta^2)``."""
        eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
        half_width = check_real("half_width", half_width, minimum=0.0, strict_minimum=True)
        return 2 * int(np.ceil(half_width / eta**2))

    def observable(self, eta, T, half_width, **kwargs):
        """One-realization observable: ``partial(wkb_wigner_pairings, ...)`` on the box of :meth:`box_side`.

        Further keyword arguments go to :func:`wkb_wigner_pairings`. Being a
        ``functools.partial`` of a module-level function with picklable arguments,
        it runs on worker processes and Dask clusters.
        """
        return partial(wkb_wigner_pairings, d=self.d, L=self.box_side(eta, half_width), eta=eta,
                       momentum=np.asarray(self.momentum, dtype=float), width=self.width,
                       T=np.atleast_1d(np.asarray(T, dtype=float)),
                       test_functions=self.test_functions(), **kwargs)

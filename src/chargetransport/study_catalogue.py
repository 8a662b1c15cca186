"""The catalogue of production studies: the definition of every registered study.

Each study extends an experiment of a chapter beyond what the book can spend when it is
built (more realizations, smaller ``eta``, ``d = 3``): Theorem 2.1 of Chen's lectures
(section 2, the Boltzmann limit: plane-wave relaxation, the WKB pairings of Experiment 2,
diffusion), Theorem 3.1 (section 3, convergence in higher mean), the spreading functional
of section 4 (localization), the ideal Fermi gas of section 5 and the Hartree-Fock
dynamics of section 6 (Theorem 6.1).

A definition is the keyword arguments of :class:`chargetransport.studies.Study`;
:data:`DEFINITIONS` lists them in order and :mod:`chargetransport.studies` registers every
one when it is imported (``Study`` stays there, since stored provenance names its
observable ``chargetransport.studies._observe``; this module imports nothing of it, so
there is no import cycle).
The studies' parameters live here, and only here. Stored results (``data/studies/<name>/``)
belong to one definition: changing its function, parameters, keys, seed, ``chunk_size`` or
``max_order`` orphans them, so a changed study needs a new name.

The chapters' in-book runs of Experiment 1 in twisted boxes use
:func:`twisted_relaxation_parameters` and :data:`RELAXATION_TARGETS`, so that a stored
study and an in-book point differ only in ``(d, L, eta)``.
"""
from __future__ import annotations

import math

import numpy as np

from . import fermions, fluctuations, hartree_fock, kinetic_limit, localization, wkb_experiment

__all__ = ["DEFINITIONS", "RELAXATION_TARGETS", "twisted_relaxation_parameters"]

#: The registered studies, as keyword arguments of :class:`chargetransport.studies.Study`.
DEFINITIONS: list = []


def _define(**definition):
    """Add a study's definition (the keyword arguments of ``Study``) to the catalogue."""
    DEFINITIONS.append(definition)


def _relaxation_parameters(d, L, eta):
    """The parameters of Experiment 1 of the Boltzmann chapter (book/boltzmann_limit.md)
    at one ``(d, eta)``: the generic momentum rounded to the box's grid, two momentum
    bumps at generic points of its shell, ``T = 0, 0.25, ..., 2``."""
    target = {2: [0.11, 0.23], 3: [0.11, 0.23, 0.37]}[d]
    momentum = np.round(np.array(target) * L) / L
    bumps = kinetic_limit.generic_shell_points(momentum, 2)
    return dict(d=d, L=L, eta=eta, momentum=momentum.tolist(),
                T=np.linspace(0.0, 2.0, 9).tolist(), bump_centers=[q.tolist() for q in bumps],
                bump_width=0.03)


_define(
    name="relaxation_2d_eta0.2",
    function=kinetic_limit.plane_wave_relaxation,
    parameters=_relaxation_parameters(2, 512, 0.2),
    keys=("survival", "current", "speed_squared", "kinetic_energy", "bumps"),
    seed=2010, num_realizations=32,
    extends="boltzmann_limit: Experiment 1 (d = 2, eta = 0.2; the book averages 8 realizations)",
    description="Plane-wave relaxation in a 512^2 box at eta = 0.2 over 32 realizations, four "
                "times the book's; realizations 0-7 are the book's own (same seed).")


def _diffusion_parameters(eta):
    """The parameters of Experiment 3 of the Boltzmann chapter (book/boltzmann_limit.md) at
    one ``eta``: the WKB state of Experiment 2 (``p = (1/8, 1/4)``, ``w = 0.5``) in d = 2,
    followed to ``T = 8`` in the box ``[-20, 20]^2`` (macroscopic units)."""
    return dict(d=2, L=2 * math.ceil(20.0 / eta**2), eta=eta, momentum=[0.125, 0.25],
                width=0.5, T=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0])


for _eta in (0.3, 0.25, 0.2):
    _define(
        name=f"diffusion_2d_eta{_eta}",
        function=kinetic_limit.wkb_mean_square_displacement,
        parameters=_diffusion_parameters(_eta),
        keys=("msd", "boundary_weight"),
        seed=2012, num_realizations=16,
        extends=f"boltzmann_limit: Experiment 3 (d = 2, eta = {_eta}; the book runs eta = 0.4)",
        description=f"Mean-square displacement of the WKB state up to T = 8 at eta = {_eta} "
                    f"(box side {_diffusion_parameters(_eta)['L']}), 16 realizations.")


def _wigner_parameters(d, eta):
    """The parameters of Experiment 2 of the Boltzmann chapter (book/boltzmann_limit.md) at
    one ``(d, eta)``: the default :class:`~chargetransport.wkb_experiment.WKBExperiment` of
    dimension d (``w = 0.5``), in d = 2 with ``T = 0, 0.25, ..., 2`` in the box
    ``[-6.5, 6.5]^2``, in d = 3 with ``T = 0, 0.25, ..., 1``, ``J_1`` at ``T_1 = 1/2`` and
    the box ``[-4.5, 4.5]^3``."""
    if d == 2:
        return dict(eta=eta, T=np.linspace(0.0, 2.0, 9).tolist(), half_width=6.5,
                    momentum=list(wkb_experiment.WKB_DEFAULT_MOMENTA[2]))
    return dict(eta=eta, T=np.linspace(0.0, 1.0, 5).tolist(), half_width=4.5,
                momentum=list(wkb_experiment.WKB_DEFAULT_MOMENTA[3]), unscattered_time=0.5)


for _d, _eta, _num in ((2, 0.2, 128), (2, 0.14, 64), (2, 0.1, 128), (3, 0.4, 32), (3, 0.35, 32),
                       (3, 0.3, 32), (3, 0.25, 32), (3, 0.2, 32)):
    _define(
        name=f"wigner_{_d}d_eta{_eta}",
        function=fluctuations.wkb_experiment_pairings,
        parameters=_wigner_parameters(_d, _eta),
        keys=("pairings", "boundary_weight"),
        seed=2011 if _d == 2 else 2014, num_realizations=_num,
        extends=f"boltzmann_limit: Experiment 2 (Theorem 2.1, d = {_d}, eta = {_eta}; the book "
                f"runs eta = {'0.4, 0.34, 0.28' if _d == 2 else '0.5'})",
        description=f"Pairings <J_j, W_T> of the WKB state with the three test functions of "
                    f"Experiment 2 in d = {_d} at eta = {_eta}, {_num} realizations.")

# Convergence in higher mean (Theorem 3.1): the chapter's WKB pairings with many more
# realizations; realizations 0, 1, ... of each are the book's own (same seed).
_HIGHER_MEAN = {
    2: dict(momentum=[0.125, 0.25], T=[1.0], half_width=5.0, seed=3101,
            realizations={0.4: 10_000, 0.3: 4800, 0.2: 800, 0.15: 400}),
    3: dict(momentum=[0.125, 0.25, 0.375], T=[0.5], half_width=3.5, unscattered_time=0.5,
            seed=3103, realizations={0.5: 2000, 0.42: 1000, 0.35: 480, 0.3: 200, 0.25: 100}),
}
for _d, _setup in _HIGHER_MEAN.items():
    _fixed = {k: v for k, v in _setup.items() if k not in ("seed", "realizations")}
    for _eta, _R in _setup["realizations"].items():
        _define(
            name=f"higher_mean_{_d}d_eta{_eta}",
            function=fluctuations.wkb_experiment_pairings,
            parameters=dict(eta=_eta, **_fixed),
            keys=("pairings", "boundary_weight"), seed=_setup["seed"], num_realizations=_R,
            chunk_size=100 if _R >= 1000 else 20, max_order=6,
            extends=f"convergence_in_higher_mean: Experiment 2 (d = {_d}, eta = {_eta})",
            description=(f"Wigner pairings of the WKB state in d = {_d} at eta = {_eta}, "
                         f"{_R} realizations: the tails of the distribution (r = 6 norms, "
                         "kurtosis) need more than the book can afford."))

# Localization lengths: the 3D spreading functional at eta = 0.1 in a box of side 232,
# which keeps the Born term box-free (its loops last at most t, and 232 > 2t at t = 100);
# the ballistic front itself (|x_i| <= 2t) passes the half-side, so higher orders may
# wind (the chapter says so). The exact first-order (Born) term of each realization is
# the control variate.
_define(
    name="spreading_3d_eta0.1",
    function=localization.spreading_distance,
    parameters=dict(d=3, L=232, eta=0.1, times=[25.0, 50.0, 100.0], tol=1e-8, born_term=True),
    keys=("distance", "born_term"), seed=4100, num_realizations=16,
    extends="localization_lengths: the 3D spreading functional (box-free, eta = 0.1)",
    description="||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2 in d = 3 at eta = 0.1 up to "
                "T = 1 in a box that keeps the Born term box-free (side 232 > 2t; the "
                "ballistic front passes the half-side), with the Born term of each "
                "realization.")


def _fermi_current_parameters(d, L, eta):
    """The parameters of Experiment 1 of the Fermi-gas chapter (book/fermi_gas.md) at one
    ``(d, L, eta)``: the Fermi sea ``e < -1`` displaced by ``0.08`` along axis 1, four
    random-phase vectors, a twist per realization, ``T = 0, 0.25, ..., 2``."""
    return dict(d=d, L=L, eta=eta, J={"mu": -1.0, "shift": [0.08] + [0.0] * (d - 1)},
                T=np.linspace(0.0, 2.0, 9).tolist(), method="random_phase", num_vectors=4,
                observables=["current", "kinetic_energy"], twist=True)


def _define_fermi_current(name, d, L, eta, num_realizations, extends, description):
    """A study of Experiment 1 of the Fermi-gas chapter: the book's seed (51), so that
    realizations 0, 1, ... at the book's (d, L, eta) would be the book's own."""
    _define(
        name=name, function=fermions.momentum_distribution_realization,
        parameters=_fermi_current_parameters(d, L, eta),
        keys=("current", "current_boltzmann", "kinetic_energy"), seed=51,
        num_realizations=num_realizations, extends=f"fermi_gas: Experiment 1 ({extends})",
        description=description)


# The book's own runs at its smallest eta, 0.2 (d = 2, L = 256; d = 3, L = 40), with the
# quadrupole the chapter plots: about 60% of the experiment's work, computed once, off the
# build; the chapter checks that these are its own parameters and seed.
for _d, _L in ((2, 256), (3, 40)):
    _define(
        name=f"fermi_current_{_d}d_eta0.2", function=fermions.momentum_distribution_realization,
        parameters={**_fermi_current_parameters(_d, _L, 0.2),
                    "observables": ["current", "quadrupole", "kinetic_energy"]},
        keys=("current", "current_boltzmann", "quadrupole", "quadrupole_boltzmann",
              "kinetic_energy"), seed=51, num_realizations=32,
        extends=f"fermi_gas: Experiment 1 (d = {_d}, eta = 0.2, the book's own run)",
        description=f"Current and quadrupole of a displaced Fermi sea against their Boltzmann "
                    f"predictions in twisted {_L}^{_d} boxes at eta = 0.2: the chapter's "
                    f"in-book point, 32 realizations with the book's seed.")
_define_fermi_current(
    "fermi_current_2d_eta0.14", 2, 362, 0.14, 64,
    "d = 2, eta = 0.14, beyond the book's eta = 0.4-0.2",
    "Current of a displaced Fermi sea against its Boltzmann prediction in a twisted 362^2 box "
    "at eta = 0.14 (L^d rho Gamma = 330 levels in the decay width), 64 realizations.")
_define_fermi_current(
    "fermi_current_3d_eta0.14", 3, 50, 0.14, 32,
    "d = 3, eta = 0.14, beyond the book's eta = 0.4-0.2",
    "Current of a displaced Fermi sea against its Boltzmann prediction in a twisted 50^3 box "
    "at eta = 0.14 (L^d rho Gamma = 316 levels in the decay width), 32 realizations.")
_define_fermi_current(
    "fermi_current_3d_eta0.28_L48", 3, 48, 0.28, 32,
    "d = 3, eta = 0.28: box-size check of the book's L = 32",
    "The book's d = 3, eta = 0.28 run in a 48^3 box instead of 32^3 (3.4 times the levels in "
    "the decay width), 32 realizations: the finite-box part of the deviation.")
_define_fermi_current(
    "fermi_current_2d_eta0.28_L256", 2, 256, 0.28, 32,
    "d = 2, eta = 0.28: box-size check of the book's L = 180",
    "The book's d = 2, eta = 0.28 run in a 256^2 box instead of 180^2 (twice the levels in the "
    "decay width), 32 realizations: the finite-box part of the deviation.")


def _hartree_fock_current_parameters(d, L, eta, record_every):
    """Experiment "Regime lambda <= C eta^2" of the Hartree-Fock chapter (book/hartree_fock.md)
    at one ``(d, L, eta)``: the displaced sea (mu = 0.5, shift 0.1, beta = 3), lambda = eta^2,
    T <= 4; each realization of the study is a lock-step ensemble of 2 disorder
    realizations of 4 random-phase vectors (their own mean field)."""
    return dict(d=d, L=L, eta=eta, lam=round(eta**2, 12), T_final=4.0, dt=0.2,
                record_every=record_every, num_realizations=2, vectors_per_realization=4)


for _d, _L, _eta, _every, _seed in [(3, 32, 0.4, 5, 6140), (3, 32, 0.3, 10, 6130),
                                    (3, 32, 0.2, 20, 6120), (2, 128, 0.2, 20, 6220),
                                    (2, 128, 0.14, 40, 6214)]:
    _define(
        name=f"hf_current_{_d}d_L{_L}_eta{_eta}",
        function=hartree_fock.displaced_sea_current,
        parameters=_hartree_fock_current_parameters(_d, _L, _eta, _every),
        keys=("kinetic_time", "current"), seed=_seed, num_realizations=32,
        extends=f"hartree_fock: Regime lambda <= C eta^2 (Theorem 6.1), d = {_d}, L = {_L}, "
                f"eta = {_eta}",
        description=f"Current of the displaced Fermi sea under Hartree-Fock dynamics with "
                    f"lambda = eta^2 = {_eta**2:.4g}, d = {_d}, L = {_L}, up to T = 4: 32 "
                    f"independent lock-step ensembles of 2 x 4 vectors (64 disorder "
                    f"realizations).")


#: Experiment 1 in twisted boxes (book/boltzmann_limit.md): the target momenta, and the
#: keys stored per realization (observables, their Boltzmann values, control variates).
RELAXATION_TARGETS = {2: [0.11, 0.23], 3: [0.11, 0.23, 0.37]}
_TWISTED_KEYS = tuple(f"{name}{suffix}" for name in ("survival", "current", "bumps")
                      for suffix in ("", "_boltzmann", "_born", "_cv")) + ("momentum",)


def twisted_relaxation_parameters(d, L, eta, T_max=2.0):
    """Parameters of Experiment 1 of the Boltzmann chapter in a twisted box: the plane wave
    starts at the grid momentum nearest the target (per realization), two momentum bumps
    of width 0.03 at generic points of the target's shell, ``T = 0, 0.25, ..., T_max``,
    with the first-order control variates. The chapter's in-book runs use the same
    function, so that a stored study and an in-book point differ only in ``(d, L, eta)``.

    Examples
    --------
    >>> twisted_relaxation_parameters(2, 276, 0.4)["T"][-1]
    2.0
    """
    target = RELAXATION_TARGETS[d]
    bumps = kinetic_limit.generic_shell_points(np.array(target), 2)
    return dict(d=d, L=L, eta=eta, momentum=list(target),
                T=np.linspace(0.0, T_max, int(round(4 * T_max)) + 1).tolist(),
                bump_centers=[q.tolist() for q in bumps], bump_width=0.03, twist=True,
                control_variates=True)


def _born_parameters(relaxation):
    """The twist average's parameters for a twisted-relaxation study (same box, times, bumps)."""
    return {key: relaxation[key] for key in ("d", "L", "eta", "momentum", "T", "bump_centers",
                                             "bump_width")}


def _define_twisted(d, L, eta, R, T_max=2.0, label="", born=True, note="", born_twists=4096):
    """A study of Experiment 1 in twisted boxes at one ``(d, L, eta)`` (seed 2010, chunks
    of 8) and, if ``born``, the twist average of its first-order terms over ``born_twists``
    twists (seed 4040)."""
    name = f"relaxation_twisted_{d}d_eta{eta}{label}"
    parameters = twisted_relaxation_parameters(d, L, eta, T_max)
    window = f"T <= {T_max:g}" if T_max < 2.0 else "T in [0, 2]"
    _define(
        name=name, function=kinetic_limit.plane_wave_relaxation, parameters=parameters,
        keys=_TWISTED_KEYS, seed=2010, num_realizations=R, chunk_size=8,
        extends=f"boltzmann_limit: Experiment 1, d = {d}, eta = {eta} (twisted boxes)",
        description=f"Plane-wave relaxation in twisted {L}^{d} boxes at eta = {eta}, {window}, "
                    f"{R} realizations, each with its own twist; first-order control "
                    f"variates stored with the observables.{note}")
    if born:
        _define(
            name=f"relaxation_born_{d}d_eta{eta}{label}",
            function=kinetic_limit.plane_wave_born_terms,
            parameters=_born_parameters(parameters), seed=4040, num_realizations=born_twists,
            chunk_size=min(512, born_twists),
            extends=f"boltzmann_limit: Experiment 1, study {name}",
            description=f"Twist average of the box's first-order terms (the mean of the "
                        f"control variate *_born) for {name}: {born_twists} independent "
                        f"twists.")


# The book's own series (1000 levels in the decay width, 32 realizations, 1024 twists in the
# d = 3 twist average, the book's seeds) at its most expensive point, eta = 0.2 (sides 552
# and 58): computed once, off the build, since the cost grows like eta^-4 and this point is
# three quarters of the series; the chapter checks that these are its own parameters.
for _d, _L in ((2, 552), (3, 58)):
    _define_twisted(_d, _L, 0.2, 32, born=_d == 3, born_twists=1024,
                    note=" The in-book series' point at eta = 0.2, with the book's seeds.")
# d = 3, the theorem's dimension: the full window down to eta = 0.1, the early window at 0.07
_define_twisted(3, 74, 0.14, 128)
_define_twisted(3, 92, 0.1, 128)
_define_twisted(3, 117, 0.07, 32, T_max=0.5)
# the box-size check at eta = 0.1 (L = 64 vs 92), and the same box without a twist: the
# 48 exact symmetry images of p on the grid of a periodic cubic box
_define_twisted(3, 64, 0.1, 32, label="_L64")
# and a larger box at eta = 0.1 (about 2700 levels in the decay width instead of 1000): does
# the late-time deviation of the full window depend on the box?
_define_twisted(3, 128, 0.1, 64, label="_L128")
# ... and the same level count at eta = 0.14 (side 103 instead of 74)
_define_twisted(3, 103, 0.14, 64, label="_L103")
# ... and at the book's eta = 0.4, 0.28, 0.2 (the book's boxes hold 1000 levels): the full
# window in d = 3 at one level count, about 2700, from eta = 0.4 down to 0.1
for _eta, _L in ((0.4, 51), (0.28, 65), (0.2, 81)):
    _define_twisted(3, _L, _eta, 64, label=f"_L{_L}")
_define(
    name="relaxation_periodic_3d_eta0.1_L64", function=kinetic_limit.plane_wave_relaxation,
    parameters={**twisted_relaxation_parameters(3, 64, 0.1), "twist": False,
                "momentum": (np.round(np.array(RELAXATION_TARGETS[3]) * 64) / 64).tolist()},
    keys=_TWISTED_KEYS, seed=2010, num_realizations=32, chunk_size=8,
    extends="boltzmann_limit: Experiment 1, d = 3, eta = 0.1, periodic box (no twist)",
    description="Plane-wave relaxation in the periodic 64^3 box at eta = 0.1 (p on the grid, "
                "with its 48 exact symmetry images), 32 realizations: the reference for the "
                "twisted box of relaxation_twisted_3d_eta0.1_L64.")
# d = 2: the full window down to eta = 0.1, the early window at 0.07 and 0.05 (the twist
# part of the control variate is negligible in d = 2: no twist averages). The late-time
# speckle of the mean velocity does not shrink with eta at a fixed level count while the
# deviation does (like eta^2): eta = 0.1 needs 256 realizations for a resolved full window
# (64 left it below its noise floor), the early window at eta = 0.05 needs 64 (16 did not).
_define_twisted(2, 789, 0.14, 64, born=False)
_define_twisted(2, 1104, 0.1, 256, born=False)
_define_twisted(2, 1577, 0.07, 32, T_max=0.5, born=False)
_define_twisted(2, 2208, 0.05, 64, T_max=0.5, born=False)

"""Tests of chargetransport.rng: seeds, generators and per-realization seed sequences.

The reference for "realization r" is NumPy's own ``SeedSequence(seed).spawn(n)[r]``,
which the module documents as the r-th spawned child of the master sequence.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chargetransport as ct


def _state(seq):
    return seq.generate_state(8, dtype=np.uint64)


def test_as_generator_from_int_is_reproducible_pcg64():
    a, b = ct.as_generator(42), ct.as_generator(42)
    assert isinstance(a, np.random.Generator)
    assert isinstance(a.bit_generator, np.random.PCG64)
    np.testing.assert_array_equal(a.random(5), b.random(5))
    # the same stream as NumPy's default_rng of the same seed (both PCG64(SeedSequence(42)))
    np.testing.assert_array_equal(ct.as_generator(42).random(5), np.random.default_rng(42).random(5))


def test_as_generator_returns_a_given_generator_itself():
    rng = np.random.default_rng(0)
    assert ct.as_generator(rng) is rng


def test_as_generator_accepts_seed_sequence_and_numpy_integers():
    ss = np.random.SeedSequence(123)
    np.testing.assert_array_equal(ct.as_generator(ss).random(3), ct.as_generator(123).random(3))
    np.testing.assert_array_equal(ct.as_generator(np.int64(123)).random(3),
                                  ct.as_generator(123).random(3))


def test_as_generator_none_draws_fresh_entropy():
    # two fresh 128-bit entropies coincide with probability 2^-128
    assert not np.array_equal(ct.as_generator(None).random(4), ct.as_generator().random(4))


def test_different_integer_seeds_give_different_streams():
    assert not np.array_equal(ct.as_generator(1).random(4), ct.as_generator(2).random(4))


@given(seed=st.integers(0, 2**64), n=st.integers(1, 12), data=st.data())
@settings(max_examples=30, deadline=None)
def test_realization_r_is_the_rth_spawned_child_whatever_the_start(seed, n, data):
    r = data.draw(st.integers(0, n - 1))
    spawned = np.random.SeedSequence(seed).spawn(n)
    all_of_them = ct.realization_seeds(seed, n)
    alone = ct.realization_seeds(seed, 1, start=r)
    assert len(all_of_them) == n and len(alone) == 1
    np.testing.assert_array_equal(_state(all_of_them[r]), _state(spawned[r]))
    np.testing.assert_array_equal(_state(alone[0]), _state(spawned[r]))


def test_realization_block_reproduces_the_same_realizations_of_a_longer_run():
    full = ct.realization_seeds(7, 200)
    block = ct.realization_seeds(7, 100, start=100)
    lat = ct.Lattice(1, 16)
    for r in (0, 37, 99):
        np.testing.assert_array_equal(ct.random_potential(lat, seed=block[r]),
                                      ct.random_potential(lat, seed=full[100 + r]))


def test_realizations_are_distinct_streams():
    seeds = ct.realization_seeds(3, 50)
    states = {tuple(_state(s)) for s in seeds}
    assert len(states) == 50
    # and distinct from the master stream itself
    assert tuple(_state(np.random.SeedSequence(3))) not in states


def test_realization_seeds_of_a_child_sequence_match_its_spawn():
    child = np.random.SeedSequence(5).spawn(3)[2]
    mine = ct.realization_seeds(child, 4)
    ref = np.random.SeedSequence(child.entropy, spawn_key=child.spawn_key).spawn(4)
    for a, b in zip(mine, ref):
        np.testing.assert_array_equal(_state(a), _state(b))


def test_realization_seeds_of_zero_realizations_is_empty():
    assert ct.realization_seeds(1, 0) == []
    assert ct.realization_seeds(1, 0, start=5) == []


def test_realization_seeds_do_not_depend_on_earlier_draws():
    # drawing from realization 0's generator must not shift realization 1
    a = ct.realization_seeds(9, 2)
    ct.as_generator(a[0]).random(1000)
    b = ct.realization_seeds(9, 2)
    np.testing.assert_array_equal(ct.as_generator(a[1]).random(3), ct.as_generator(b[1]).random(3))


# ----------------------------------------------------------------------------------------
# The seed contract: one realization, one potential, named child streams
# ----------------------------------------------------------------------------------------
import importlib
import inspect
import pkgutil

from scipy import stats

from chargetransport import fluctuations
from chargetransport import fermions as fm
from chargetransport import quasi_free_states as qfs
from chargetransport import hartree_fock as hf
from chargetransport import kinetic_limit as kl
from chargetransport import localization as loc
from chargetransport import studies
from chargetransport import wkb_experiment as wkb
from chargetransport.rng import STREAMS, Realization, check_seed


def test_named_streams_have_fixed_distinct_child_indices():
    # the table of the rng docstring: changing an index changes every realization's draws
    assert STREAMS == {"phases": 1, "twist": 2, "monte_carlo": 3}
    ss = ct.realization_seeds(12, 3)[2]
    real = Realization(ss)
    for name, index in STREAMS.items():
        child = real.stream(name)
        assert child.spawn_key == ss.spawn_key + (index,) and child.entropy == ss.entropy
        fresh = np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key)   # spawn() mutates
        np.testing.assert_array_equal(_state(child), _state(fresh.spawn(index + 1)[index]))
    states = {tuple(_state(real.stream(n))) for n in STREAMS} | {tuple(_state(ss))}
    assert len(states) == len(STREAMS) + 1          # all distinct from the potential's stream
    with pytest.raises(ValueError, match="'name'"):
        real.stream("potential")


def test_realization_potential_is_drawn_from_the_seed_itself():
    lat = ct.Lattice(2, 8)
    ss = ct.realization_seeds(3, 5)[4]
    for dist in ct.DISTRIBUTIONS:
        np.testing.assert_array_equal(Realization(ss).potential(lat, dist),
                                      ct.random_potential(lat, dist, seed=ss))
    # an integer seed is its SeedSequence
    np.testing.assert_array_equal(Realization(9).potential(lat),
                                  ct.random_potential(lat, seed=np.random.SeedSequence(9)))


def test_twist_is_uniform_on_the_unit_cube_and_reproducible():
    seeds = ct.realization_seeds(2024, 4000)
    theta = np.array([Realization(s).twist(3) for s in seeds])
    assert theta.shape == (4000, 3) and np.all((theta >= 0) & (theta < 1))
    np.testing.assert_array_equal(theta[17], Realization(seeds[17]).twist(3))
    # uniform per component (KS p > 1e-4 for each of three: fails with probability 3e-4),
    # and components uncorrelated: |corr| < 5 / sqrt(n)
    for i in range(3):
        assert stats.kstest(theta[:, i], "uniform").pvalue > 1e-4
    corr = np.corrcoef(theta.T)
    assert np.abs(corr[np.triu_indices(3, 1)]).max() < 5 / np.sqrt(4000)
    # the twist stream is not the potential's: its first draws differ
    assert not np.array_equal(Realization(seeds[0]).twist(2), ct.as_generator(seeds[0]).random(2))


def _per_realization_calls(ss):
    """Every per-realization function of the package, called on an 8 x 8 box with seed ss."""
    L = 8
    lat = ct.Lattice(2, L)
    J = qfs.gibbs_distribution(lat, 1.0, 0.0)
    f = qfs.momentum_packet(lat, (0.25, 0.125), 0.1)
    test = ct.gaussian_test_function((0.0, 0.0), None, width=1.0)
    common = dict(d=2, L=L, eta=0.5)
    return {
        "kinetic_limit.plane_wave_relaxation": lambda: kl.plane_wave_relaxation(
            ss, momentum=(0.125, 0.25), T=[0.0], **common),
        "wkb_experiment.wkb_wigner_pairings": lambda: wkb.wkb_wigner_pairings(
            ss, momentum=(0.1, 0.2), width=0.5, T=[0.0], test_functions=[test], **common),
        "kinetic_limit.wkb_mean_square_displacement": lambda: kl.wkb_mean_square_displacement(
            ss, momentum=(0.1, 0.2), width=0.5, T=[0.0], **common),
        "fluctuations.wkb_experiment_pairings": lambda: fluctuations.wkb_experiment_pairings(
            ss, eta=0.5, T=[0.0], half_width=1.0, momentum=[0.1, 0.2]),     # L = 8
        "fermions.momentum_distribution_realization": lambda: fm.momentum_distribution_realization(
            ss, J=J, T=[0.1], method="random_phase", num_vectors=1, **common),
        "fermions.two_point_realization": lambda: fm.two_point_realization(
            ss, J=J, f=f, g=f, T=[0.1], **common),
        "localization.spreading_distance": lambda: loc.spreading_distance(
            ss, times=[0.1], **common),
        "hartree_fock._init_realization": lambda: hf._init_realization(
            ss, L, 2, J, 1, 0.1, 0.5, "gaussian"),
        # a stored study's observable: the realization of the function it wraps
        "studies._observe": lambda: studies._observe(
            ss, function=kl.plane_wave_relaxation,
            parameters=dict(momentum=[0.125, 0.25], T=[0.0], **common), keys=("survival",)),
    }


def _seeded_realization_functions():
    """(module.name) of every function of the package (outside rng) whose first parameter is the seed."""
    found = set()
    for info in pkgutil.iter_modules(ct.__path__):
        if info.name == "rng":          # the contract itself
            continue
        module = importlib.import_module(f"chargetransport.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] in ("seed", "seed_sequence"):
                found.add(f"{info.name}.{name}")
    return found


# Functions of a seed that draw no potential, only the realization's twist; each has its
# own test that it returns what the full realization of that seed returns.
_TWIST_ONLY = {
    # tests/test_kinetic_limit.py::test_born_terms_of_a_seed_are_those_of_its_realization
    "kinetic_limit.plane_wave_born_terms",
}


def test_every_per_realization_function_is_covered_by_the_contract_test():
    # a new function of a seed must be added to _per_realization_calls (and follow the contract)
    assert _seeded_realization_functions() == set(_per_realization_calls(None)) | _TWIST_ONLY


def test_every_per_realization_function_draws_the_same_potential_for_the_same_seed(monkeypatch):
    import chargetransport.disorder as disorder
    drawn = []
    original = disorder.random_potential

    def spy(lattice, distribution="gaussian", *, seed, decay_exponent=0.0):
        V = original(lattice, distribution, seed=seed, decay_exponent=decay_exponent)
        drawn.append(V)
        return V

    monkeypatch.setattr(disorder, "random_potential", spy)
    ss = ct.realization_seeds(77, 3)[1]
    reference = original(ct.Lattice(2, 8), seed=ss)
    for name, call in _per_realization_calls(ss).items():
        drawn.clear()
        call()
        assert len(drawn) == 1, name            # one potential per realization ...
        np.testing.assert_array_equal(drawn[0], reference, err_msg=name)   # ... the same one


def test_random_phases_come_from_the_phases_stream():
    ss = ct.realization_seeds(5, 2)[1]
    lat = ct.Lattice(2, 8)
    J = qfs.gibbs_distribution(lat, 1.0, 0.0)
    real = Realization(ss)
    # Fermi gas: the realization's n_t is evolved_momentum_distribution with the phases stream
    got = fm.momentum_distribution_realization(ss, d=2, L=8, eta=0.5, J=J, T=[0.2],
                                               method="random_phase", num_vectors=2)
    H = ct.AndersonHamiltonian(lat, 0.5, ct.random_potential(lat, seed=ss))
    want = fm.evolved_momentum_distribution(H, J, [0.2 / 0.25], method="random_phase",
                                            num_vectors=2, seed=real.stream("phases"))
    np.testing.assert_array_equal(got["distribution"], want)
    # Hartree-Fock: psi_hat = sqrt(J) exp(i theta), theta uniform on [0, 2 pi) from the stream
    state = hf._init_realization(ss, 8, 2, J, 3, 0.1, 0.5, "gaussian")
    theta = real.generator("phases").uniform(0.0, 2.0 * np.pi, size=(3,) + lat.shape)
    np.testing.assert_array_equal(state["psi_hat"], np.sqrt(J) * np.exp(1j * theta))
    np.testing.assert_array_equal(state["potential_phase"],
                                  np.exp(-1j * 0.1 * 0.5 * ct.random_potential(lat, seed=ss)))


@pytest.mark.parametrize("seed, allow, exc, match", [
    (None, False, TypeError, "it is required"),
    (None, True, TypeError, "it is required"),
    (-1, False, ValueError, "non-negative"),
    (1.5, False, TypeError, "must be an integer"),
    (True, False, TypeError, "must be an integer"),
    ("7", False, TypeError, "must be an integer"),
    (np.random.default_rng(0), False, TypeError, "Generator"),
])
def test_check_seed_rejects_bad_seeds(seed, allow, exc, match):
    with pytest.raises(exc, match=match):
        check_seed(seed, allow_generator=allow)


def test_check_seed_passes_sequences_and_allowed_generators_through():
    ss = np.random.SeedSequence(4)
    assert check_seed(ss) is ss
    rng = np.random.default_rng(1)
    assert check_seed(rng, allow_generator=True) is rng
    assert check_seed(np.uint8(3)).entropy == 3


def test_realization_seeds_refuses_a_list_that_cannot_fit_in_memory():
    # 10^10 seed sequences need ~4 TB: refused before any is built
    with pytest.raises(ValueError, match="'num_realizations' is too large"):
        ct.realization_seeds(1, 10**10)


def test_iter_realization_seeds_checks_its_arguments_when_called():
    with pytest.raises(ValueError, match="'start'"):
        ct.rng.iter_realization_seeds(0, -1, 3)
    with pytest.raises(TypeError, match="'seed'"):
        ct.rng.iter_realization_seeds("seed", 0, 3)

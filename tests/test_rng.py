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

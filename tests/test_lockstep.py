"""Tests of chargetransport.lockstep: the mean-field closed form, determinism across
executors, dead workers rebuilt bit for bit, checkpoints and resuming.

Tests of dead workers kill a worker process on purpose with ``os._exit`` inside the step
of one realization: once (a marker file in ``tmp_path`` says it happened) or at every
attempt. The Dask tests use the shared cluster of conftest.py.
"""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import chargetransport as ct
from chargetransport.ensemble import EnsembleError
from chargetransport.lockstep import LockstepEnsemble


A, B = 0.5, 0.25


def draw_state(seed_sequence):
    return ct.as_generator(seed_sequence).standard_normal(3)


def mean_field_relaxation(x, m):
    """x_r <- A x_r + B m with m the ensemble mean: the mean grows as (A + B)^t and the
    deviations x_r - m shrink as A^t, exactly."""
    x = A * x + B * m
    return x, x


def identity(x):
    return x


def failing_step(x, m):
    raise ArithmeticError("step failed")


def run_lockstep(num_steps=5, **kwargs):
    with LockstepEnsemble(draw_state, mean_field_relaxation, 10, 21, **kwargs) as ensemble:
        m = ensemble.reduce(identity).mean
        means = [m]
        for _ in range(num_steps):
            m = ensemble.step(m).mean
            means.append(m)
        assert ensemble.num_steps == num_steps
        return means, ensemble.states()


def test_lockstep_follows_the_closed_form_of_mean_field_relaxation():
    initial = [draw_state(s) for s in ct.realization_seeds(21, 10)]
    means, states = run_lockstep(numba_threads=1)
    m0 = np.mean(initial, axis=0)
    for t, m in enumerate(means):
        # (A + B)^t m0 up to the rounding of ~10 operations per step: 1e-14 absolute.
        np.testing.assert_allclose(m, (A + B) ** t * m0, rtol=0, atol=1e-14)
    for x, x0 in zip(states, initial):
        np.testing.assert_allclose(x, A**5 * (x0 - m0) + (A + B) ** 5 * m0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("block_size", [1, 3])
def test_lockstep_processes_are_bitwise_identical_to_serial_for_any_split(block_size):
    serial_means, serial_states = run_lockstep(block_size=block_size)
    for workers in (1, 2):
        means, states = run_lockstep(block_size=block_size, executor="processes",
                                     max_workers=workers)
        assert [m.tobytes() for m in means] == [m.tobytes() for m in serial_means]
        assert [x.tobytes() for x in states] == [x.tobytes() for x in serial_states]


def test_lockstep_dask_actors_are_bitwise_identical_to_serial(dask_client):
    serial_means, serial_states = run_lockstep()
    means, states = run_lockstep(executor=dask_client)
    assert [m.tobytes() for m in means] == [m.tobytes() for m in serial_means]
    assert [x.tobytes() for x in states] == [x.tobytes() for x in serial_states]


def test_lockstep_reports_errors_and_rejects_bad_input():
    with LockstepEnsemble(draw_state, failing_step, 4, 0, executor="processes",
                          max_workers=2) as ensemble:
        assert ensemble.num_workers == 2 and ensemble.executor == "processes"
        with pytest.raises(ArithmeticError, match="step failed"):
            ensemble.step(0.0)
    with pytest.raises(ValueError, match="closed"):
        ensemble.step(0.0)
    with pytest.raises(TypeError, match="'step' must be callable"):
        LockstepEnsemble(draw_state, None, 4, 0)
    with pytest.raises(ValueError, match="'num_realizations' must be >= 1"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 0, 0)
    with pytest.raises(ValueError, match="'block_size' must be >= 1"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, 0, block_size=0)
    with pytest.raises(ValueError, match="'executor' must be"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, 0, executor="threads")
    with pytest.raises(TypeError, match="'seed' must be an integer"):
        LockstepEnsemble(draw_state, mean_field_relaxation, 4, None)


# --------------------------------------------------------------------------------------
# Dead workers and checkpoints: states that know their realization, steps that know their
# number
# --------------------------------------------------------------------------------------
def first_time(marker):
    """True once per marker file: creates it atomically."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def indexed_state(seed_sequence, log=None):
    """(realization, draw_state): appends a line to ``log`` per call, to count rebuilds."""
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"{seed_sequence.spawn_key[-1]}\n")
    return seed_sequence.spawn_key[-1], draw_state(seed_sequence)


def relaxation(state, shared, realization=-1, at_step=-1, marker=None):
    """mean_field_relaxation with shared = (step number, mean); the worker process dies in
    step ``at_step`` of ``realization``: once with a ``marker`` file, always without."""
    index, x = state
    n, m = shared
    if index == realization and n == at_step and (marker is None or first_time(marker)):
        os._exit(1)
    x, contribution = mean_field_relaxation(x, m)
    return (index, x), contribution


def state_value(state):
    return state[1]


def run_indexed(num_steps=5, init=indexed_state, step=relaxation, **kwargs):
    """Means after every step and the final states; the ensemble, closed, for its counters.
    A resumed ensemble continues at its num_steps (its first mean is the resumed one)."""
    with LockstepEnsemble(init, step, 10, 21, **kwargs) as ensemble:
        m = ensemble.reduce(state_value).mean
        means = [m]
        for n in range(ensemble.num_steps, num_steps):
            m = ensemble.step((n, m)).mean
            means.append(m)
        assert ensemble.num_steps == num_steps
        return means, [x for _, x in ensemble.states()], ensemble


def same_bits(arrays_a, arrays_b):
    return [a.tobytes() for a in arrays_a] == [b.tobytes() for b in arrays_b]


@pytest.fixture(scope="module")
def undisturbed():
    means, states, _ = run_indexed()
    return means, states


def test_a_dead_worker_process_is_rebuilt_and_the_run_stays_bitwise(undisturbed, tmp_path):
    step = functools.partial(relaxation, realization=7, at_step=3, marker=str(tmp_path / "died"))
    means, states, ensemble = run_indexed(step=step, executor="processes", max_workers=2)
    assert (tmp_path / "died").exists() and ensemble.worker_replacements == 1
    assert same_bits(means, undisturbed[0]) and same_bits(states, undisturbed[1])
    print(f"lock-step worker process rebuilt (3 steps replayed) in "
          f"{ensemble.recovery_seconds:.2f} s")


def test_a_worker_that_keeps_dying_gives_up_after_max_retries(tmp_path):
    step = functools.partial(relaxation, realization=7, at_step=2)
    with LockstepEnsemble(indexed_state, step, 10, 21, executor="processes", max_workers=2,
                          max_retries=1) as ensemble:
        m = ensemble.reduce(state_value).mean
        for n in range(2):
            m = ensemble.step((n, m)).mean
        with pytest.raises(EnsembleError, match=r"realizations 5\.\.9 died 2 times "
                                                r"\(max_retries=1\) during step") as info:
            ensemble.step((2, m))
        assert info.value.failed == [(5, 10)] and info.value.partial is None
        with pytest.raises(ValueError, match="closed"):
            ensemble.step((2, m))


def test_a_lost_dask_actor_is_rebuilt_and_the_run_stays_bitwise(undisturbed, dask_client,
                                                                  tmp_path):
    step = functools.partial(relaxation, realization=2, at_step=3, marker=str(tmp_path / "died"))
    means, states, ensemble = run_indexed(step=step, executor=dask_client)
    assert (tmp_path / "died").exists() and ensemble.worker_replacements == 1
    assert same_bits(means, undisturbed[0]) and same_bits(states, undisturbed[1])
    print(f"lock-step Dask actor rebuilt in {ensemble.recovery_seconds:.2f} s")


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_resumed_ensemble_continues_bitwise_from_its_last_checkpoint(undisturbed, tmp_path,
                                                                       executor):
    folder = tmp_path / "states"
    kwargs = dict(executor=executor, checkpoint=folder, checkpoint_every=2, block_size=3)
    # an interrupted run: 3 steps, checkpointed after step 2
    means, _, first = run_indexed(num_steps=3, **kwargs)
    assert first.num_steps == 3
    # the same ensemble again (another worker count) resumes after step 2 and finishes
    if executor == "processes":
        kwargs["max_workers"] = 1
    resumed, states, again = run_indexed(num_steps=5, **kwargs)
    assert len(resumed) == 4  # the mean after step 2, then steps 3, 4 and 5
    reference_means, reference_states, _ = run_indexed(block_size=3)
    assert same_bits(resumed, reference_means[2:]) and same_bits(states, reference_states)
    assert same_bits(means, reference_means[:4])
    # block_size=3 sums in another order than block_size=1, to rounding
    np.testing.assert_allclose(reference_means[-1], undisturbed[0][-1], rtol=0, atol=1e-15)


def test_a_dead_worker_is_rebuilt_from_the_last_checkpoint_not_from_its_seeds(tmp_path):
    log = str(tmp_path / "init-calls")
    init = functools.partial(indexed_state, log=log)
    step = functools.partial(relaxation, realization=7, at_step=3, marker=str(tmp_path / "died"))
    reference, _, _ = run_indexed(init=init, checkpoint=tmp_path / "ref", checkpoint_every=2)
    os.unlink(log)
    means, _, ensemble = run_indexed(init=init, step=step, executor="processes", max_workers=2,
                                     checkpoint=tmp_path / "run", checkpoint_every=2)
    assert ensemble.worker_replacements == 1 and same_bits(means, reference)
    with open(log) as fh:
        assert sorted(int(line) for line in fh) == list(range(10))  # no realization rebuilt
    # without a checkpoint the lost part (realizations 5-9) is rebuilt from its seeds
    os.unlink(log)
    os.unlink(tmp_path / "died")
    means, _, _ = run_indexed(init=init, step=step, executor="processes", max_workers=2)
    assert same_bits(means, reference)
    with open(log) as fh:
        assert sorted(int(line) for line in fh) == sorted([*range(10), *range(5, 10)])


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    run_indexed(num_steps=2, checkpoint=tmp_path, checkpoint_every=1)
    with pytest.raises(ValueError, match="belongs to another run.*block_size: 1 in the "
                                         "checkpoint, 2 now"):
        LockstepEnsemble(indexed_state, relaxation, 10, 21, block_size=2, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="belongs to another run.*step"):
        LockstepEnsemble(indexed_state, functools.partial(relaxation, at_step=4), 10, 21,
                         checkpoint=tmp_path)
    with pytest.raises(ValueError, match="'checkpoint_every' must be >= 1"):
        LockstepEnsemble(indexed_state, relaxation, 10, 21, checkpoint_every=0)
    with pytest.raises(ValueError, match="'max_retries' must be >= 0"):
        LockstepEnsemble(indexed_state, relaxation, 10, 21, max_retries=-1)

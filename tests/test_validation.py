"""Bad input across the public API: every entry point rejects it with a ValueError (right kind,
wrong value) or TypeError (wrong kind) whose message names the offending parameter, before
anything reaches a Numba kernel (``_validation.py``; STYLE.md: "messages that name the
parameter").
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import _validation
from chargetransport._validation import (
    _cgroup_memory_headroom, available_memory_bytes, check_bool, check_finite_field,
    check_instance, check_memory, format_bytes,
)

LAT1 = ct.Lattice(1, 8)
LAT2 = ct.Lattice(2, 6)
H2 = ct.AndersonHamiltonian(LAT2, 0.5, ct.random_potential(LAT2, seed=0))
PSI2 = np.ones(LAT2.shape, dtype=np.complex128) / 6.0
GAUSS_J = ct.gaussian_test_function([0.0, 0.0], [0.1, 0.2], width=1.0, momentum_width=0.1)


def _non_contiguous():
    big = np.ones((6, 12), dtype=np.complex128)
    view = big[:, ::2]
    assert view.shape == LAT2.shape and not view.flags.c_contiguous
    return view


def _potential(**changes):
    V = np.zeros(LAT2.shape)
    if "nan" in changes:
        V[1, 2] = np.nan
    if "inf" in changes:
        V[0, 0] = np.inf
    return V


CASES = [
    # --- Lattice -----------------------------------------------------------------------
    ("Lattice d=4", lambda: ct.Lattice(4, 8), ValueError, "'d'"),
    ("Lattice d=0", lambda: ct.Lattice(0, 8), ValueError, "'d'"),
    ("Lattice d=2.5", lambda: ct.Lattice(2.5, 8), TypeError, "'d'"),
    ("Lattice d=True", lambda: ct.Lattice(True, 8), TypeError, "'d'"),
    ("Lattice d='2'", lambda: ct.Lattice("2", 8), TypeError, "'d'"),
    ("Lattice L=2", lambda: ct.Lattice(1, 2), ValueError, "'L'"),
    ("Lattice L=-5", lambda: ct.Lattice(2, -5), ValueError, "'L'"),
    ("Lattice L=8.0", lambda: ct.Lattice(2, 8.0), TypeError, "'L'"),
    ("Lattice too much memory", lambda: ct.Lattice(3, 10**5), ValueError, "'L'.*too large"),
    # --- dispersion ------------------------------------------------------------------------
    ("dispersion scalar k", lambda: ct.dispersion(0.3), ValueError, "'k'"),
    ("dispersion NaN k", lambda: ct.dispersion([0.1, np.nan]), ValueError, "'k'"),
    ("dispersion complex k", lambda: ct.dispersion([0.1j]), TypeError, "'k'"),
    ("dispersion_gradient scalar k", lambda: ct.dispersion_gradient(0.3), ValueError, "'k'"),
    # --- density of states ---------------------------------------------------------------
    ("dos d=4", lambda: ct.density_of_states(0.0, 4), ValueError, "'d'"),
    ("dos d=0", lambda: ct.density_of_states(0.0, 0), ValueError, "'d'"),
    ("dos d=2.0", lambda: ct.density_of_states(0.0, 2.0), TypeError, "'d'"),
    ("dos NaN E", lambda: ct.density_of_states([0.0, np.nan], 2), ValueError, "'E'"),
    ("dos inf E", lambda: ct.density_of_states(np.inf, 1), ValueError, "'E'"),
    ("dos complex E", lambda: ct.density_of_states(1j, 1), TypeError, "'E'"),
    ("dos string E", lambda: ct.density_of_states("zero", 1), TypeError, "'E'"),
    # --- random potential ----------------------------------------------------------------
    ("potential unknown law", lambda: ct.random_potential(LAT2, "cauchy", seed=0), ValueError, "'distribution'"),
    ("potential negative decay", lambda: ct.random_potential(LAT2, seed=0, decay_exponent=-1.0),
     ValueError, "'decay_exponent'"),
    ("potential NaN decay", lambda: ct.random_potential(LAT2, seed=0, decay_exponent=np.nan),
     ValueError, "'decay_exponent'"),
    ("potential float seed", lambda: ct.random_potential(LAT2, seed=1.5), TypeError, "'seed'"),
    ("potential integral float seed", lambda: ct.random_potential(LAT2, seed=1.0), TypeError, "'seed'"),
    ("potential negative seed", lambda: ct.random_potential(LAT2, seed=-1), ValueError, "'seed'"),
    ("potential string seed", lambda: ct.random_potential(LAT2, seed="1"), TypeError, "'seed'"),
    ("potential lattice tuple", lambda: ct.random_potential((2, 6), seed=0), TypeError, "'lattice'"),
    # --- rng -------------------------------------------------------------------------------
    ("as_generator float", lambda: ct.as_generator(0.5), TypeError, "'seed'"),
    ("as_generator negative", lambda: ct.as_generator(-3), ValueError, "'seed'"),
    ("realization_seeds None", lambda: ct.realization_seeds(None, 3), TypeError, "'seed'"),
    ("realization_seeds Generator", lambda: ct.realization_seeds(np.random.default_rng(0), 3),
     TypeError, "'seed'"),
    ("realization_seeds negative n", lambda: ct.realization_seeds(1, -1), ValueError, "'num_realizations'"),
    ("realization_seeds float n", lambda: ct.realization_seeds(1, 2.0), TypeError, "'num_realizations'"),
    ("realization_seeds negative start", lambda: ct.realization_seeds(1, 2, start=-1), ValueError, "'start'"),
    # --- Hamiltonian -----------------------------------------------------------------------
    ("H eta NaN", lambda: ct.AndersonHamiltonian(LAT2, np.nan), ValueError, "'eta'"),
    ("H eta negative", lambda: ct.AndersonHamiltonian(LAT2, -0.1), ValueError, "'eta'"),
    ("H eta inf", lambda: ct.AndersonHamiltonian(LAT2, np.inf), ValueError, "'eta'"),
    ("H eta string", lambda: ct.AndersonHamiltonian(LAT2, "0.5"), TypeError, "'eta'"),
    ("H eta complex", lambda: ct.AndersonHamiltonian(LAT2, 0.5j), TypeError, "'eta'"),
    ("H eta array", lambda: ct.AndersonHamiltonian(LAT2, np.array([0.5])), TypeError, "'eta'"),
    ("H lattice tuple", lambda: ct.AndersonHamiltonian((2, 6), 0.5), TypeError, "'lattice'"),
    ("H potential shape", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros((6, 5))), ValueError, "'potential'"),
    ("H potential 1D", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros(36)), ValueError, "'potential'"),
    ("H potential float32", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros(LAT2.shape, np.float32)),
     TypeError, "'potential'"),
    ("H potential int", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros(LAT2.shape, int)),
     TypeError, "'potential'"),
    ("H potential complex", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros(LAT2.shape, complex)),
     TypeError, "'potential'"),
    ("H potential list", lambda: ct.AndersonHamiltonian(LAT2, 0.5, np.zeros(LAT2.shape).tolist()),
     TypeError, "'potential'"),
    ("H potential NaN", lambda: ct.AndersonHamiltonian(LAT2, 0.5, _potential(nan=True)), ValueError, "'potential'"),
    ("H potential inf", lambda: ct.AndersonHamiltonian(LAT2, 0.5, _potential(inf=True)), ValueError, "'potential'"),
    ("apply wrong shape", lambda: H2.apply(np.ones((6, 5), complex)), ValueError, "'psi'"),
    ("apply flat", lambda: H2.apply(np.ones(36, complex)), ValueError, "'psi'"),
    ("apply float64", lambda: H2.apply(np.ones(LAT2.shape)), TypeError, "'psi'"),
    ("apply complex64", lambda: H2.apply(np.ones(LAT2.shape, np.complex64)), TypeError, "'psi'"),
    ("apply list", lambda: H2.apply(PSI2.tolist()), TypeError, "'psi'"),
    ("apply non-contiguous", lambda: H2.apply(_non_contiguous()), ValueError, "'psi'"),
    ("apply out wrong dtype", lambda: H2.apply(PSI2, out=np.empty(LAT2.shape)), TypeError, "'out'"),
    ("apply out is psi", lambda: H2.apply(PSI2, out=PSI2), ValueError, "'out'"),
    # --- evolve ------------------------------------------------------------------------------
    ("evolve neither t nor times", lambda: ct.evolve(H2, PSI2), TypeError, "'t'.*'times'"),
    ("evolve both t and times", lambda: ct.evolve(H2, PSI2, 1.0, times=[1.0]), TypeError, "'t'.*'times'"),
    ("evolve NaN t", lambda: ct.evolve(H2, PSI2, t=np.nan), ValueError, "'t'"),
    ("evolve inf t", lambda: ct.evolve(H2, PSI2, t=np.inf), ValueError, "'t'"),
    ("evolve string t", lambda: ct.evolve(H2, PSI2, t="1"), TypeError, "'t'"),
    ("evolve NaN in times", lambda: ct.evolve(H2, PSI2, times=[1.0, np.nan]), ValueError, "'times'"),
    ("evolve 2D times", lambda: ct.evolve(H2, PSI2, times=[[1.0, 2.0]]), ValueError, "'times'"),
    ("evolve tol 0", lambda: ct.evolve(H2, PSI2, t=1.0, tol=0.0), ValueError, "'tol'"),
    ("evolve tol 1e-15", lambda: ct.evolve(H2, PSI2, t=1.0, tol=1e-15), ValueError, "'tol'"),
    ("evolve tol 0.5", lambda: ct.evolve(H2, PSI2, t=1.0, tol=0.5), ValueError, "'tol'"),
    ("evolve tol NaN", lambda: ct.evolve(H2, PSI2, t=1.0, tol=np.nan), ValueError, "'tol'"),
    ("evolve psi0 float", lambda: ct.evolve(H2, PSI2.real.copy(), t=1.0), TypeError, "'psi0'"),
    ("evolve psi0 shape", lambda: ct.evolve(H2, np.ones((6, 7), complex), t=1.0), ValueError, "'psi0'"),
    ("evolve psi0 non-contiguous", lambda: ct.evolve(H2, _non_contiguous(), t=1.0), ValueError, "'psi0'"),
    ("evolve not a Hamiltonian", lambda: ct.evolve(H2.to_sparse(), PSI2, t=1.0), TypeError, "'hamiltonian'"),
    ("trajectory tol", lambda: list(ct.trajectory(H2, PSI2, [1.0], tol=1.0)), ValueError, "'tol'"),
    ("chebyshev_num_terms NaN t", lambda: ct.chebyshev_num_terms(H2, np.nan), ValueError, "'t'"),
    ("free_evolution NaN t", lambda: ct.free_evolution(LAT2, PSI2, np.nan), ValueError, "'t'"),
    ("free_evolution 2D t", lambda: ct.free_evolution(LAT2, PSI2, [[1.0]]), ValueError, "'t'"),
    ("free_evolution psi0 float", lambda: ct.free_evolution(LAT2, PSI2.real.copy(), 1.0), TypeError, "'psi0'"),
    ("free_evolution psi0 shape", lambda: ct.free_evolution(LAT1, PSI2, 1.0), ValueError, "'psi0'"),
    ("free_evolution lattice", lambda: ct.free_evolution(H2, PSI2, 1.0), TypeError, "'lattice'"),
    # --- KPM -------------------------------------------------------------------------------
    ("kpm num_moments=1", lambda: ct.kpm_density_of_states(H2, [0.0], num_moments=1), ValueError, "'num_moments'"),
    ("kpm num_moments float", lambda: ct.kpm_density_of_states(H2, [0.0], num_moments=64.0),
     TypeError, "'num_moments'"),
    ("kpm num_vectors=0", lambda: ct.kpm_density_of_states(H2, [0.0], num_vectors=0), ValueError, "'num_vectors'"),
    ("kpm NaN energies", lambda: ct.kpm_density_of_states(H2, [0.0, np.nan]), ValueError, "'energies'"),
    ("kpm 2D energies", lambda: ct.kpm_density_of_states(H2, [[0.0]]), ValueError, "'energies'"),
    ("kpm float seed", lambda: ct.kpm_density_of_states(H2, [0.0], num_moments=4, seed=0.5), TypeError, "'seed'"),
    ("kpm not a Hamiltonian", lambda: ct.kpm_density_of_states(LAT2, [0.0]), TypeError, "'hamiltonian'"),
    ("jackson_kernel 0", lambda: ct.jackson_kernel(0), ValueError, "'num_moments'"),
    ("jackson_kernel float", lambda: ct.jackson_kernel(8.0), TypeError, "'num_moments'"),
    # --- states and observables ------------------------------------------------------------
    ("packet width 0", lambda: ct.gaussian_wave_packet(LAT2, [0, 0], 0.0, [0, 0]), ValueError, "'width'"),
    ("packet width NaN", lambda: ct.gaussian_wave_packet(LAT2, [0, 0], np.nan, [0, 0]), ValueError, "'width'"),
    ("packet centre length", lambda: ct.gaussian_wave_packet(LAT2, [0, 0, 0], 1.0, [0, 0]), ValueError, "'center'"),
    ("packet centre NaN", lambda: ct.gaussian_wave_packet(LAT2, [0, np.nan], 1.0, [0, 0]), ValueError, "'center'"),
    ("packet momentum length", lambda: ct.gaussian_wave_packet(LAT2, [0, 0], 1.0, [0]), ValueError, "'momentum'"),
    ("packet lattice", lambda: ct.gaussian_wave_packet((2, 6), [0, 0], 1.0, [0, 0]), TypeError, "'lattice'"),
    ("wkb mu 0", lambda: ct.wkb_state(LAT1, np.exp, np.sin, 0.0), ValueError, "'mu'"),
    ("wkb mu negative", lambda: ct.wkb_state(LAT1, np.exp, np.sin, -0.1), ValueError, "'mu'"),
    ("wkb amplitude not callable", lambda: ct.wkb_state(LAT1, 1.0, np.sin, 0.1), TypeError, "'amplitude'"),
    ("wkb phase not callable", lambda: ct.wkb_state(LAT1, np.exp, 0.0, 0.1), TypeError, "'phase'"),
    ("wkb complex amplitude", lambda: ct.wkb_state(LAT1, lambda X: X + 1j, np.sin, 0.1), TypeError, "'amplitude'"),
    ("boundary_weight negative margin", lambda: ct.boundary_weight(PSI2, -1), ValueError, "'margin'"),
    ("boundary_weight NaN margin", lambda: ct.boundary_weight(PSI2, np.nan), ValueError, "'margin'"),
    # --- Wigner ---------------------------------------------------------------------------------
    ("pairing float psi", lambda: ct.wigner_pairing(PSI2.real, GAUSS_J), TypeError, "'psi'"),
    ("pairing wrong d", lambda: ct.wigner_pairing(np.ones(6, complex), GAUSS_J), ValueError, "'psi'"),
    ("pairing non-box psi", lambda: ct.wigner_pairing(np.ones((6, 5), complex), GAUSS_J), ValueError, "'psi'"),
    ("pairing scale 0", lambda: ct.wigner_pairing(PSI2, GAUSS_J, scale=0.0), ValueError, "'scale'"),
    ("pairing scale NaN", lambda: ct.wigner_pairing(PSI2, GAUSS_J, scale=np.nan), ValueError, "'scale'"),
    ("pairing plain callable", lambda: ct.wigner_pairing(PSI2, lambda X, V: 1.0), TypeError, "'test_function'"),
    ("transform float psi", lambda: ct.wigner_transform(PSI2.real), TypeError, "'psi'"),
    ("transform non-box psi", lambda: ct.wigner_transform(np.ones((4, 5), complex)), ValueError, "'psi'"),
    ("transform 4D psi", lambda: ct.wigner_transform(np.ones((3,) * 4, complex)), ValueError, "'psi'"),
    ("transform num_momenta 0", lambda: ct.wigner_transform(PSI2, num_momenta=0), ValueError, "'num_momenta'"),
    ("transform num_momenta float", lambda: ct.wigner_transform(PSI2, num_momenta=8.0), TypeError, "'num_momenta'"),
    ("transform scale negative", lambda: ct.wigner_transform(PSI2, scale=-1.0), ValueError, "'scale'"),
    ("transform too large", lambda: ct.wigner_transform(np.ones((64,) * 3, complex)), ValueError, "wigner_pairing"),
    ("test function lengths", lambda: ct.SeparableTestFunction([None], [None, None]), ValueError, "'position_factors'"),
    ("test function d=4", lambda: ct.SeparableTestFunction([None] * 4, [None] * 4), ValueError, "'position_factors'"),
    ("test function not callable", lambda: ct.SeparableTestFunction([1.0], [None]), TypeError, "'position_factors'"),
    ("test function coefficient count", lambda: ct.SeparableTestFunction([None], [np.cos], [None, None]),
     ValueError, "'momentum_coefficients'"),
    ("gaussian J width 0", lambda: ct.gaussian_test_function([0.0], [0.0], width=0.0), ValueError, "'width'"),
    ("gaussian J momentum width", lambda: ct.gaussian_test_function([0.0], [0.0], momentum_width=-0.1),
     ValueError, "'momentum_width'"),
    ("gaussian J lengths", lambda: ct.gaussian_test_function([0.0, 1.0], [0.0]), ValueError, "'center'"),
]


@pytest.mark.parametrize("call,error,match", [pytest.param(c, e, m, id=i) for i, c, e, m in CASES])
def test_bad_input_raises_with_message_naming_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_validation_happens_before_any_state_changes():
    # a rejected call must leave its inputs untouched
    psi = PSI2.copy()
    with pytest.raises(ValueError):
        ct.evolve(H2, psi, t=1.0, tol=0.0)
    np.testing.assert_array_equal(psi, PSI2)


def test_lattice_memory_check_message_suggests_a_size_that_fits():
    with pytest.raises(ValueError, match=r"choose L <= \d+") as info:
        ct.Lattice(3, 10**5)
    largest = int(str(info.value).rsplit("<=", 1)[1])
    ct.Lattice(3, min(largest, 64))        # the suggestion (capped here for speed) is accepted


# ---------------------------------------------------------------------------------------
# validation gaps found by these tests (fixed in src/)
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("tol", [0.0, -1.0, 10.0, 1e-20])
def test_chebyshev_num_terms_rejects_tol_outside_evolves_range(tol):
    with pytest.raises(ValueError, match="'tol'"):
        ct.chebyshev_num_terms(H2, 5.0, tol=tol)


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), ()])
def test_boundary_weight_rejects_non_box_fields(shape):
    with pytest.raises(ValueError, match="'psi'"):
        ct.boundary_weight(np.ones(shape, complex), 1)


@pytest.mark.parametrize("psi", [np.ones((4, 6), complex), np.ones((3,) * 4, complex), "abc"],
                         ids=["non-box", "4D", "string"])
def test_momentum_distribution_rejects_non_box_fields(psi):
    with pytest.raises((ValueError, TypeError), match="'psi'"):
        ct.momentum_distribution(psi)


@pytest.mark.parametrize("which", ["position", "momentum"])
def test_wigner_pairing_handles_or_names_scalar_valued_factors(which):
    J = (ct.SeparableTestFunction([lambda X: 1.0], [None]) if which == "position"
         else ct.SeparableTestFunction([None], [lambda v: 1.0]))
    psi = np.ones(5, complex) / np.sqrt(5)
    try:
        value = ct.wigner_pairing(psi, J)
    except (TypeError, ValueError) as exc:
        assert "factor" in str(exc)
    else:
        assert value == pytest.approx(1.0, abs=1e-14)     # J = 1: the mass ||psi||^2


def test_chebyshev_num_terms_rejects_a_non_hamiltonian():
    with pytest.raises(TypeError, match="'hamiltonian'"):
        ct.chebyshev_num_terms(LAT2, 1.0)


# ---------------------------------------------------------------------------------------
# the shared helpers of _validation.py
# ---------------------------------------------------------------------------------------
def test_check_instance_returns_the_object_or_names_parameter_and_classes():
    lat = ct.Lattice(1, 4)
    assert check_instance("lattice", lat, ct.Lattice) is lat
    assert check_instance("x", [1], (np.ndarray, list)) == [1]
    with pytest.raises(TypeError, match=r"'lattice' must be a chargetransport\.Lattice, got int"):
        check_instance("lattice", 3, ct.Lattice)
    with pytest.raises(TypeError, match=r"'x' must be a numpy\.ndarray or builtins\.list, got str"):
        check_instance("x", "abc", (np.ndarray, list))


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_check_bool_accepts_booleans_as_python_bool(value):
    out = check_bool("flag", value)
    assert type(out) is bool and out == bool(value)


@pytest.mark.parametrize("value", ["yes", "False", 1, 0, 1.0, None, np.array([True])])
def test_check_bool_rejects_everything_else(value):
    with pytest.raises(TypeError, match="'flag' must be True or False"):
        check_bool("flag", value)


def test_check_finite_field_passes_finite_fields_through_without_a_copy():
    psi = np.full((3, 4), 1 + 2j)
    assert check_finite_field("psi", psi) is psi


@pytest.mark.parametrize("dtype, bad", [
    (np.float64, np.nan), (np.float64, np.inf), (np.float64, -np.inf),
    (np.complex128, complex(np.nan, 0)), (np.complex128, complex(0, np.nan)),
    (np.complex128, complex(np.inf, 0)), (np.complex128, complex(0, -np.inf)),
])
def test_check_finite_field_rejects_nan_and_inf(dtype, bad):
    field = np.zeros((3, 4), dtype=dtype)
    field[2, 1] = bad
    with pytest.raises(ValueError, match="'psi' must contain only finite numbers"):
        check_finite_field("psi", field)


def test_check_memory_compares_with_the_available_memory(monkeypatch):
    monkeypatch.setattr(_validation, "available_memory_bytes", lambda: 3 * 1024**3)
    assert check_memory("L", 3 * 1024**3, "the field") is None          # exactly fits
    with pytest.raises(ValueError) as info:
        check_memory("L", 3 * 1024**3 + 1, "the field", hint="choose L <= 10")
    assert str(info.value) == ("'L' is too large: the field needs about 3.0 GiB but 3.0 GiB "
                               "is available; choose L <= 10")
    with pytest.raises(ValueError, match=r"needs about 1\.0 TiB but 3\.0 GiB is available$"):
        check_memory("L", 1024**4, "the field")


def test_check_memory_against_this_machine():
    check_memory("n", 1024, "a kilobyte")
    with pytest.raises(ValueError, match="'n' is too large"):
        check_memory("n", 2**70, "a zebibyte")


@pytest.mark.parametrize("n, text", [(0, "0.0 B"), (1023, "1023.0 B"), (1024, "1.0 KiB"),
                                     (1536 * 1024**2, "1.5 GiB"), (2**60, "1024.0 PiB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


# A fake file-system root for _cgroup_memory_headroom: proc/self/cgroup and sys/fs/cgroup.
def _fake_root(tmp_path, cgroup_lines, files):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text("".join(line + "\n" for line in cgroup_lines))
    for rel, content in files.items():
        path = tmp_path / "sys/fs/cgroup" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content + "\n")
    return str(tmp_path)


V1_UNLIMITED = str(9223372036854771712)   # what cgroup v1 reports without a limit

CGROUP_CASES = {
    "v2 limit": (["0::/job"], {"job/memory.max": "1000000", "job/memory.current": "250000"},
                 750000),
    "v2 parent binds": (["0::/slice/job"],
                        {"slice/job/memory.max": "1000000", "slice/job/memory.current": "250000",
                         "slice/memory.max": "500000", "slice/memory.current": "400000"},
                        100000),
    "v2 no limit": (["0::/job"], {"job/memory.max": "max", "job/memory.current": "5",
                                  "memory.max": "max"}, None),
    "v2 namespace root": (["0::/"], {"memory.max": "2048", "memory.current": "1024"}, 1024),
    "v2 usage above limit": (["0::/job"], {"job/memory.max": "100", "job/memory.current": "150"},
                             0),
    "v2 no usage file": (["0::/job"], {"job/memory.max": "4096"}, 4096),
    "v1 limit": (["12:memory:/docker/abc", "5:cpu,cpuacct:/docker/abc", "1:name=systemd:/"],
                 {"memory/docker/abc/memory.limit_in_bytes": str(2**30),
                  "memory/docker/abc/memory.usage_in_bytes": str(2**28),
                  "memory/docker/memory.limit_in_bytes": V1_UNLIMITED,
                  "memory/memory.limit_in_bytes": V1_UNLIMITED},
                 2**30 - 2**28),
    "v1 joint controllers": (["4:cpuacct,memory:/x"],
                             {"memory/x/memory.limit_in_bytes": "8192",
                              "memory/x/memory.usage_in_bytes": "192"}, 8000),
    "v1 unlimited": (["12:memory:/docker/abc"],
                     {"memory/docker/abc/memory.limit_in_bytes": V1_UNLIMITED,
                      "memory/docker/abc/memory.usage_in_bytes": "5"}, None),
    "v1 memory controller not in the list": (["5:cpu:/x"],
                                             {"memory/x/memory.limit_in_bytes": "10"}, None),
    "garbage limit": (["0::/job"], {"job/memory.max": "lots", "job/memory.current": "1"}, None),
    "hybrid: v2 line without v2 memory files": (["0::/job", "3:memory:/job"],
                                                {"memory/job/memory.limit_in_bytes": "5000",
                                                 "memory/job/memory.usage_in_bytes": "1000"},
                                                4000),
}


@pytest.mark.parametrize("case", list(CGROUP_CASES))
def test_cgroup_memory_headroom_reads_fake_v1_and_v2_trees(tmp_path, case):
    lines, files, expected = CGROUP_CASES[case]
    assert _cgroup_memory_headroom(_fake_root(tmp_path, lines, files)) == expected


def test_cgroup_memory_headroom_without_proc_is_none(tmp_path):
    assert _cgroup_memory_headroom(str(tmp_path)) is None


def test_available_memory_respects_the_cgroup_headroom(monkeypatch):
    unlimited = available_memory_bytes()
    monkeypatch.setattr(_validation, "_cgroup_memory_headroom", lambda: 12345)
    assert available_memory_bytes() == min(unlimited, 12345)


_RLIMIT_SCRIPT = textwrap.dedent("""
    import importlib.util, resource, sys
    spec = importlib.util.spec_from_file_location("_validation", sys.argv[1])
    v = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(v)
    before = v.available_memory_bytes()
    vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith("VmSize:"))
    soft = vm + 256 * 1024**2           # room for the interpreter to keep running
    if soft >= before:
        print("skip", before, soft)
        sys.exit(0)
    resource.setrlimit(resource.RLIMIT_AS, (soft, resource.getrlimit(resource.RLIMIT_AS)[1]))
    print("ok", before, soft, v.available_memory_bytes())
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_available_memory_respects_rlimit_as(tmp_path):
    """In a child process (the limit cannot be undone): RLIMIT_AS caps the answer."""
    script = tmp_path / "rlimit.py"
    script.write_text(_RLIMIT_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), _validation.__file__],
                          capture_output=True, text=True, timeout=60, check=True)
    words = proc.stdout.split()
    if words[0] == "skip":
        pytest.skip(f"available memory {words[1]} B is below this process's size + 256 MiB")
    before, soft, after = map(int, words[1:])
    assert before > soft and after == soft

"""Tests of chargetransport.studies: stored production studies.

A tiny study (plane-wave relaxation in a 32^2 box, milliseconds per realization) is run
serially, on a process pool and on the shared Dask cluster (conftest.py), extended,
killed mid-way and resumed; every variant must store the same bits as one serial run.
Every study stored in the repository (data/studies) is recomputed for one realization
from its seed and compared bit for bit (to rounding where another instruction set stored
it), and its files are checked (JSON/NPZ, small).
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import _study_cli, _study_sessions, studies
from chargetransport import kinetic_limit as kl

REPOSITORY_STUDIES = Path(__file__).resolve().parents[1] / "data" / "studies"

TINY = dict(name="tiny", function=kl.plane_wave_relaxation,
            parameters=dict(d=2, L=32, eta=0.4, momentum=[0.125, 0.25], T=[0.0, 1.0, 2.0],
                            bump_centers=[[0.3, 0.1]], bump_width=0.05),
            seed=7, num_realizations=7, chunk_size=2, max_order=3,
            keys=("survival", "current", "bumps"), extends="tests", description="A test study.")


def tiny(**changes):
    return studies.Study(**{**TINY, **changes})


def assert_same_bits(a, b):
    """Two StudyResults (or EnsembleResults) hold the same accumulators and samples, bit for bit."""
    a, b = getattr(a, "result", a), getattr(b, "result", b)
    assert a.num_realizations == b.num_realizations and a.keys() == b.keys()
    for key in a.keys():
        assert a[key].mean.tobytes() == b[key].mean.tobytes(), key
        for r in range(2, a[key].max_order + 1):
            assert a[key].central_moment(r).tobytes() == b[key].central_moment(r).tobytes()
        assert a.samples[key].tobytes() == b.samples[key].tobytes(), key


def stored_arrays(directory):
    """Every array of every chunk file under ``directory``, by file name and array name."""
    arrays = {}
    for path in sorted(Path(directory, "chunks").glob("chunk-*.npz")):
        with np.load(path, allow_pickle=False) as data:
            arrays[path.name] = {name: data[name] for name in data.files}
    return arrays


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return studies.run_study(tiny(), out, progress=False)


# --------------------------------------------------------------------------------------
# The same bits, however a study is run
# --------------------------------------------------------------------------------------
def test_a_serial_run_equals_a_plain_ensemble_average(serial_run):
    plain = ct.ensemble_average(tiny().observable, 7, 7, chunk_size=2, max_order=3,
                                keep_samples=True, progress=False)
    assert_same_bits(serial_run, plain)
    # each stored sample is the observable at that realization's seed
    seeds = ct.realization_seeds(7, 7)
    survival = [kl.plane_wave_relaxation(s, **TINY["parameters"])["survival"] for s in seeds]
    assert serial_run.samples["survival"].tobytes() == np.array(survival).tobytes()


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_processes_and_dask_store_the_bits_of_a_serial_run(serial_run, executor, tmp_path,
                                                           request):
    kwargs = dict(executor="processes", max_workers=2)
    if executor == "dask":  # a Client of the shared cluster, as `--scheduler tcp://...` makes
        client = request.getfixturevalue("dask_client")
        kwargs = dict(executor="dask", scheduler=client.scheduler.address)
    res = studies.run_study(tiny(), tmp_path, progress=False, **kwargs)
    assert_same_bits(res, serial_run)
    ours, theirs = stored_arrays(res.directory), stored_arrays(serial_run.directory)
    assert ours.keys() == theirs.keys() == {"chunk-0.npz", "chunk-1.npz", "chunk-2.npz",
                                            "chunk-3-count-1.npz"}
    for name in ours:
        for array in ours[name]:
            assert ours[name][array].tobytes() == theirs[name][array].tobytes(), (name, array)
    executor_record = res.provenance["sessions"][-1]["executor"]
    assert executor_record["used"].startswith(executor) and executor_record["num_workers"] == 2
    if executor == "dask":
        assert executor_record["scheduler"] == kwargs["scheduler"]
        assert executor_record["worker_hosts"] == ["127.0.0.1"]


def test_extending_a_study_equals_running_it_at_once(serial_run, tmp_path):
    # 3 realizations are chunks 0 and a short chunk 1; 7 reuse chunk 0 only
    short = studies.run_study(tiny(), tmp_path, num_realizations=3, progress=False)
    assert_same_bits(short, ct.ensemble_average(tiny().observable, 3, 7, chunk_size=2,
                                                max_order=3, keep_samples=True, progress=False))
    extended = studies.run_study(tiny(), tmp_path, progress=False)
    assert_same_bits(extended, serial_run)
    first, second = extended.provenance["sessions"]
    assert (first["num_realizations"], first["chunks_computed"], first["chunks_resumed"]) == \
        (3, 2, 0)
    assert (second["num_realizations"], second["chunks_computed"], second["chunks_resumed"]) == \
        (7, 3, 1)
    # load_study reads the longest completed run; the shorter one is still there
    assert_same_bits(studies.load_study(tiny(), tmp_path), serial_run)
    assert_same_bits(studies.load_study(tiny(), tmp_path, num_realizations=3), short)


_KILLED_RUN = """
import sys
from chargetransport import _study_cli, kinetic_limit, studies
studies.register(studies.Study(function=kinetic_limit.plane_wave_relaxation, **{definition}))
sys.exit(_study_cli.main(sys.argv[1:]))
"""


def test_a_killed_command_line_run_resumes_bitwise(tmp_path):
    # ~0.1 s per realization (a 96^2 box to t = 50): time to see chunks land, then kill
    definition = dict(name="slow", parameters=dict(d=2, L=96, eta=0.2, momentum=[0.125, 0.25],
                                                   T=[0.0, 2.0]),
                      seed=11, num_realizations=30, chunk_size=2, keys=["survival"],
                      extends="tests", description="A slow test study.")
    script = tmp_path / "run.py"
    script.write_text(_KILLED_RUN.format(definition=definition))
    out = str(tmp_path / "out")
    chunks = tmp_path / "out" / "slow" / "chunks"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(ct.__file__)), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(script), "run", "slow", "--out", out,
                             "--no-progress", "--numba-threads", "1"], env=env)
    try:
        deadline = time.monotonic() + 180
        while len(list(chunks.glob("chunk-*.npz"))) < 3:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    on_disk = len(list(chunks.glob("chunk-*.npz")))
    assert proc.returncode == -signal.SIGKILL and 3 <= on_disk < 15
    killed = json.loads((tmp_path / "out" / "slow" / "provenance.json").read_text())
    assert [s["status"] for s in killed["sessions"]] == ["running"]
    shown = subprocess.run([sys.executable, str(script), "show", "slow", "--out", out], env=env,
                           check=True, capture_output=True, text=True).stdout
    assert "session 0: interrupted (no end recorded), 30 realizations" in shown

    study = studies.Study(function=kl.plane_wave_relaxation, **definition)
    resumed = studies.run_study(study, tmp_path / "out", executor="processes", max_workers=2,
                                progress=False)
    first, second = resumed.provenance["sessions"]
    assert first["status"] == "interrupted" and first["ended"] is None
    assert second["status"] == "completed" and second["chunks_resumed"] == on_disk
    assert second["chunks_computed"] == 15 - on_disk
    reference = ct.ensemble_average(study.observable, 30, 11, chunk_size=2, keep_samples=True,
                                    progress=False)
    assert_same_bits(resumed, reference)
    assert not list((tmp_path / "out").rglob(".tmp-*"))


# --------------------------------------------------------------------------------------
# Provenance, guards and errors
# --------------------------------------------------------------------------------------
def test_provenance_records_the_study_and_every_session(serial_run):
    provenance = json.loads((serial_run.directory / "provenance.json").read_text())
    assert provenance == serial_run.provenance
    study = provenance["study"]
    assert study["name"] == "tiny" and study["seed"] == 7
    assert study["function"] == "chargetransport.kinetic_limit.plane_wave_relaxation"
    assert study["parameters"] == TINY["parameters"] | {"momentum": [0.125, 0.25]}
    assert study["keys"] == ["survival", "current", "bumps"] and study["chunk_size"] == 2
    (session,) = provenance["sessions"]
    assert session["status"] == "completed" and session["num_realizations"] == 7
    started = datetime.datetime.fromisoformat(session["started"])
    ended = datetime.datetime.fromisoformat(session["ended"])
    assert started.utcoffset() == datetime.timedelta(0) and started <= ended
    assert session["versions"]["chargetransport"] == ct.__version__
    assert session["versions"]["numpy"] == np.__version__
    assert {"numba", "python", "scipy"} <= session["versions"].keys()
    commit = session["git"]["commit"]
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)
    assert session["machine"]["cpu_count"] >= 1 and session["machine"]["hostname"]
    assert {"platform", "memory_bytes", "usable_cpus"} <= session["machine"].keys()
    assert session["executor"]["used"] == "serial"
    assert (session["chunks_computed"], session["chunks_resumed"]) == (4, 0)


def test_a_run_that_computes_nothing_adds_no_session(serial_run, tmp_path):
    shutil.copytree(serial_run.directory, tmp_path / "tiny")
    again = studies.run_study(tiny(), tmp_path, progress=False)
    assert_same_bits(again, serial_run)
    assert len(again.provenance["sessions"]) == 1


def test_format_provenance_fits_a_caption(serial_run):
    text = serial_run.caption()
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("stored study tiny: 7 realizations of "
                               "kinetic_limit.plane_wave_relaxation(d=2, L=32, eta=0.4")
    assert "seed 7" in lines[0] and "UTC" in lines[1] and "serial" in lines[1]
    assert "verify tiny" in lines[2]
    assert studies.format_provenance(serial_run.provenance, 3).startswith(
        "stored study tiny: 3 realizations")
    with pytest.raises(TypeError, match="provenance"):
        studies.format_provenance({"sessions": []})


def test_a_chunk_over_the_size_limit_stops_the_run_after_it(tmp_path, monkeypatch):
    monkeypatch.setattr(studies, "MAX_FILE_BYTES", 2000)  # a chunk file is ~4 KB
    with pytest.raises(ValueError, match=r"chunk-0\.npz is .* over the 2\.0 KiB allowed"):
        studies.run_study(tiny(), tmp_path, progress=False)
    assert [p.name for p in (tmp_path / "tiny" / "chunks").glob("chunk-*")] == ["chunk-0.npz"]
    provenance = json.loads((tmp_path / "tiny" / "provenance.json").read_text())
    assert provenance["sessions"][0]["status"].startswith("failed: ValueError")


def test_a_second_concurrent_run_is_refused(tmp_path):
    (tmp_path / "tiny").mkdir()
    with _study_sessions._exclusive(tmp_path / "tiny", "tiny"):
        with pytest.raises(RuntimeError, match="being run by another process"):
            studies.run_study(tiny(), tmp_path, progress=False)


def test_loading_what_is_not_stored_says_how_to_compute_it(serial_run, tmp_path):
    with pytest.raises(FileNotFoundError, match="studies run tiny"):
        studies.load_study(tiny(), tmp_path)
    with pytest.raises(FileNotFoundError, match="--realizations 9"):
        studies.load_study(tiny(), serial_run.directory.parent, num_realizations=9)
    with pytest.raises(ValueError, match="another definition of study 'tiny'.*parameters"):
        studies.load_study(tiny(parameters={**TINY["parameters"], "eta": 0.3}),
                           serial_run.directory.parent)
    with pytest.raises(ValueError, match="another definition.*seed"):
        studies.run_study(tiny(seed=8), serial_run.directory.parent, progress=False)
    with pytest.raises(ValueError, match="'study' must be one of"):
        studies.load_study("no such study")


@pytest.mark.parametrize("change, error, message", [
    (dict(name="a/b"), ValueError, "'name' must be letters"),
    (dict(function=lambda seed: 0.0), ValueError, "module-level function"),
    (dict(parameters=dict(T=np.zeros(3))), TypeError, "plain JSON data.*tolist"),
    (dict(parameters=dict(eta=float("nan"))), TypeError, "plain JSON data"),
    (dict(seed=1.5), TypeError, "'seed' must be an int"),
    (dict(num_realizations=0), ValueError, "num_realizations"),
    (dict(max_order=13), ValueError, "max_order"),
    (dict(keys=()), TypeError, "'keys'"),
])
def test_a_bad_study_definition_is_refused(change, error, message):
    with pytest.raises(error, match=message):
        tiny(**change)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(executor="threads"), ValueError, "'executor' must be"),
    (dict(executor=object()), TypeError, "'executor' must be"),
    (dict(scheduler="tcp://127.0.0.1:1"), ValueError, "'scheduler' needs executor='dask'"),
    (dict(executor="dask", scheduler=8786), TypeError, "'scheduler' must be an address"),
    (dict(max_workers=2), ValueError, "'max_workers' applies to"),
    (dict(executor="dask", scheduler="tcp://127.0.0.1:1", max_workers=2), ValueError,
     "'max_workers' applies to"),
    (dict(executor="processes", max_workers=0), ValueError, "max_workers"),
    (dict(num_realizations=0), ValueError, "num_realizations"),
])
def test_bad_run_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, error,
                                                                    message):
    with pytest.raises(error, match=message):
        studies.run_study(tiny(), tmp_path, progress=False, **kwargs)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------
# Verification, and the studies stored in the repository
# --------------------------------------------------------------------------------------
def test_verify_detects_a_changed_bit_allows_rounding_across_machines(serial_run, tmp_path):
    shutil.copytree(serial_run.directory, tmp_path / "tiny")
    reports = studies.verify_study(tiny(), tmp_path)
    assert [(r["realization"], r["identical"]) for r in reports] == [(0, True), (6, True)]
    # flip the last bit of realization 3's first survival value (chunk 1, its second row)
    path = tmp_path / "tiny" / "chunks" / "chunk-1.npz"
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    keys = json.loads(str(arrays["meta"]))["keys"]
    samples = arrays[f"samples_{keys.index('survival')}"]
    samples[1, 0] = np.nextafter(samples[1, 0], 2.0)
    np.savez(path, **arrays)
    (report,) = studies.verify_study(tiny(), tmp_path, realizations=[3])
    assert not report["identical"] and report["differing_keys"] == ["survival"]
    # one ulp: equal to rounding, but on the instruction set that stored it not reproduced
    assert report["equal_to_rounding"] and report["same_instruction_set"]
    assert 0 < report["largest_difference"] <= 2.3e-16 and not report["reproduced"]
    # stored on another instruction set (AVX-512 NumPy, another CPU for Numba): reproduced
    provenance_path = tmp_path / "tiny" / "provenance.json"
    provenance = json.loads(provenance_path.read_text())
    for session in provenance["sessions"]:
        session["machine"]["instruction_set"] = {"llvm_cpu": "another", "numpy_simd": ["X"]}
    provenance_path.write_text(json.dumps(provenance))
    (report,) = studies.verify_study(tiny(), tmp_path, realizations=[3])
    assert not report["same_instruction_set"] and report["reproduced"]
    # ... but not a change beyond rounding
    samples[1, 0] *= 1.0 + 1e-9
    np.savez(path, **arrays)
    (report,) = studies.verify_study(tiny(), tmp_path, realizations=[3])
    assert not report["equal_to_rounding"] and not report["reproduced"]


def test_the_command_line_lists_shows_and_verifies(serial_run, monkeypatch, capsys):
    monkeypatch.setitem(studies._REGISTRY, "tiny", tiny())
    out = str(serial_run.directory.parent)
    assert _study_cli.main(["list", "--out", out]) == 0
    listed = capsys.readouterr().out
    assert "tiny (stored): A test study." in listed and "relaxation_2d_eta0.2" in listed
    assert _study_cli.main(["show", "tiny", "--out", out]) == 0
    shown = capsys.readouterr().out
    assert "session 0: completed, 7 realizations" in shown and "stored study tiny" in shown
    assert _study_cli.main(["verify", "tiny", "--out", out, "--realization", "2"]) == 0
    verified = capsys.readouterr().out
    assert verified.startswith("tiny: realization 2 recomputed in ")
    assert verified.strip().endswith(": identical")


def test_every_stored_study_is_small_plain_data_and_recomputes_bit_for_bit():
    names = studies.stored_studies(REPOSITORY_STUDIES)
    assert names, f"no study is stored in {REPOSITORY_STUDIES}"
    missing = sorted(set(studies.study_names()) - set(names))
    assert not missing, (f"registered studies without a completed run in {REPOSITORY_STUDIES} "
                         f"(run them with `python -m chargetransport.studies run <name>`): "
                         f"{missing}")
    for name in names:
        assert name in studies.study_names(), f"{name} is stored but not registered"
        files = [p for p in (REPOSITORY_STUDIES / name).rglob("*") if p.is_file()]
        assert all(p.suffix in (".json", ".npz") for p in files), files
        assert max(p.stat().st_size for p in files) <= studies.MAX_FILE_BYTES
        stored = studies.load_study(name, REPOSITORY_STUDIES)
        reports = studies.verify_study(name, REPOSITORY_STUDIES,
                                       realizations=[stored.num_realizations - 1])
        # bit for bit where this machine's instruction set stored the study; elsewhere
        # (AVX2 against AVX-512, say) to rounding: see studies.ROUNDING_TOLERANCE
        assert all(r["reproduced"] for r in reports), (name, reports)


def test_the_stored_relaxation_study_continues_the_books_run():
    # book/boltzmann_limit.md, Experiment 1: d = 2, eta = 0.2, L = 512, seed 2010, with
    # array arguments; its realizations are the study's first ones
    L, eta = 512, 0.2
    p_L = np.round(np.array([0.11, 0.23]) * L) / L
    book = kl.plane_wave_relaxation(
        ct.realization_seeds(2010, 1)[0], d=2, L=L, eta=eta, momentum=p_L,
        T=np.linspace(0.0, 2.0, 9), bump_centers=kl.generic_shell_points(p_L, 2), bump_width=0.03)
    stored = studies.load_study("relaxation_2d_eta0.2", REPOSITORY_STUDIES)
    for key, values in stored.samples.items():
        # bit for bit on the instruction set that stored it, else to rounding
        assert studies.reproduces(stored, values[0], book[key]), key

"""The package alone: ``pip install .`` in a fresh virtualenv, then the README's example.

Offline after the first run: the wheels of the package's dependencies (at the versions
requirements.txt pins) and of its build backend are kept in ``.cache/wheelhouse``; the
install uses only them (``--no-index``). On the first run, or after a pin changed, pip
downloads what is missing from the package index into that folder, once. The package is
installed from a copy of ``src/``, ``pyproject.toml``, ``README.md`` and ``LICENSE``
(not editable, so the repository's ``src/`` is not what gets imported), and the README's
"Using the package" example runs in that virtualenv, from a folder outside the
repository.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.packaging

WHEELHOUSE = ROOT / ".cache" / "wheelhouse"
BUILD_BACKEND = ["setuptools>=68", "wheel"]


def readme_example() -> str:
    """The ```python block of the README's section "Using the package"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Using the package\n(.*?)(?=^## )", text, flags=re.DOTALL | re.MULTILINE)
    assert section, "README.md has no section '## Using the package'"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), flags=re.DOTALL)
    assert len(blocks) == 1, "the section should hold one ```python example"
    return blocks[0]


def _pip(python: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def _dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def test_pip_install_and_readme_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    package = tmp_path / "package"
    shutil.copytree(ROOT / "src", package / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", "*.nbi", "*.nbc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, package / name)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    pins = ["-c", str(ROOT / "requirements.txt")]
    offline = ["install", "--no-index", "--find-links", str(WHEELHOUSE), *pins]
    proc = _pip(python, *offline, str(package))
    downloaded = False
    if proc.returncode != 0:  # first run, or a pin changed: fetch the wheels once
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        fetch = _pip(python, "download", "--dest", str(WHEELHOUSE), "--only-binary=:all:",
                     *pins, *_dependencies(), *BUILD_BACKEND)
        assert fetch.returncode == 0, f"pip download failed:\n{fetch.stdout[-3000:]}\n{fetch.stderr[-3000:]}"
        downloaded = True
        proc = _pip(python, *offline, str(package))
    assert proc.returncode == 0, f"pip install . failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    installed = time.perf_counter() - start

    script = tmp_path / "example.py"
    script.write_text("import chargetransport\nprint(chargetransport.__file__)\n" + readme_example())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([str(python), str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600, env=env, check=False)
    assert run.returncode == 0, f"the README example failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    lines = run.stdout.split()
    assert Path(lines[0]).resolve().is_relative_to(venv.resolve()), (
        f"imported {lines[0]}, not the installed package")
    # The last line: the 1D localization length at E = 1, eta = 0.1, against Thouless'
    # 2 (4 - E^2) / eta^2 = 600 (2^22 steps: about 1 % statistical error).
    assert abs(float(lines[-1]) / 600.0 - 1.0) < 0.05
    with capsys.disabled():
        print(f"\n[packaging] install {installed:.0f} s{' (wheels downloaded)' if downloaded else ''}, "
              f"example {time.perf_counter() - start - installed:.0f} s")

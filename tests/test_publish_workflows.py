"""The publishing files, checked without building: workflows, launch links, Binder, extras.

The GitHub workflows cannot run here: their YAML must parse, run the README's commands
(`make book`, `.ci/run`, i.e. `make test`) and deploy to GitHub Pages; the weekly run
must not restore the execution cache. The step that points `_config.yml` at the
repository is run on a copy. The launch links are checked against the hubs' URL schemes
written out here, independently of the extension that makes them.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from conftest import CONFIG_FILE, ROOT, toc_chapters

WORKFLOWS = ROOT / ".github" / "workflows"
PLACEHOLDER = "https://github.com/example-org/chargetransport"

sys.path.insert(0, str(ROOT / "book" / "_ext"))
notebooks = importlib.import_module("chargetransport_book.notebooks")
proofs = importlib.import_module("chargetransport_book.proofs")
status = importlib.import_module("chargetransport_book.status")


def _workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _run_lines(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in str(step.get("run", "")).splitlines()]


def _uses(job: dict) -> list[str]:
    return [str(step.get("uses", "")).split("@")[0] for step in job["steps"] if "uses" in step]


def test_readme_commands_are_what_the_workflows_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`make book`" in readme and "`make test`" in readme and "`make pdf`" in readme
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_ci_workflow_runs_ci_run() -> None:
    ci = _workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    (job,) = ci["jobs"].values()
    assert "bash .ci/run" in _run_lines(job)


def test_publish_workflow_builds_with_make_book_and_deploys_pages() -> None:
    publish = _workflow("publish.yml")
    assert publish["on"]["push"]["branches"] == ["main"]
    (cron,) = [entry["cron"] for entry in publish["on"]["schedule"]]
    fields = cron.split()
    assert len(fields) == 5 and fields[4] not in ("*",), f"not weekly: {cron!r}"
    assert publish["permissions"]["pages"] == "write" and publish["permissions"]["id-token"] == "write"
    build, deploy = publish["jobs"]["build"], publish["jobs"]["deploy"]
    runs = _run_lines(build)
    assert "make book" in runs and "make pdf" in runs
    assert "actions/upload-pages-artifact" in _uses(build)
    upload = next(s for s in build["steps"] if str(s.get("uses", "")).startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and "actions/deploy-pages" in _uses(deploy)
    # The weekly run executes every chapter: it restores no execution cache.
    restore = [s for s in build["steps"] if str(s.get("uses", "")).startswith("actions/cache/restore")]
    assert restore and all(s.get("if") == "github.event_name != 'schedule'" for s in restore)
    assert all("_build/.jupyter_cache" in s["with"]["path"] for s in restore)
    # The notebooks branch that Colab and the JupyterHub open.
    assert f"git push --force origin {notebooks.NOTEBOOKS_BRANCH}" in runs


def test_publish_workflow_points_the_config_at_its_repository(tmp_path: Path) -> None:
    publish = _workflow("publish.yml")
    (step,) = [s for s in publish["jobs"]["build"]["steps"] if "_config.yml" in str(s.get("run", ""))]
    config = tmp_path / "_config.yml"
    config.write_text(CONFIG_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    env = dict(os.environ, GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="someone/fork")
    subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, check=True)
    before = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    after = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert after["repository"]["url"] == "https://github.com/someone/fork"
    after["repository"]["url"] = before["repository"]["url"]
    assert after == before, "the step changed more than the repository URL"


def test_launch_links_follow_the_hubs_url_schemes() -> None:
    buttons = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com",
               "jupyterhub_url": "https://hub.example.org/", "notebook_interface": "jupyterlab"}
    urls = notebooks.launch_urls(PLACEHOLDER, "main", "book/boltzmann_limit", buttons)
    assert urls["Binder"] == ("https://mybinder.org/v2/gh/example-org/chargetransport/main"
                              "?urlpath=lab/tree/book/boltzmann_limit.ipynb")
    assert urls["Colab"] == ("https://colab.research.google.com/github/example-org/chargetransport/"
                             "blob/notebooks/book/boltzmann_limit.ipynb")
    hub = urlsplit(urls["JupyterHub"])
    assert hub.scheme + "://" + hub.netloc + hub.path == "https://hub.example.org/hub/user-redirect/git-pull"
    query = {k: v[0] for k, v in parse_qs(hub.query).items()}
    assert query == {"repo": PLACEHOLDER, "branch": "notebooks",
                     "urlpath": "lab/tree/chargetransport/book/boltzmann_limit.ipynb"}
    # Not on GitHub: no Binder (gh) or Colab link.
    assert set(notebooks.launch_urls("https://gitlab.com/a/b", "main", "x", buttons)) == {"JupyterHub"}


def test_setup_cell_installs_the_package_from_the_repository() -> None:
    cell = notebooks.setup_cell(PLACEHOLDER, "main")
    assert cell.cell_type == "code" and notebooks.SETUP_CELL_TAG in cell.metadata["tags"]
    assert "chargetransport[book] @ git+https://github.com/example-org/chargetransport@main" in cell.source
    compile(cell.source, "setup-cell", "exec")  # plain Python, no magics


def test_binder_installs_the_pinned_environment_and_makes_the_notebooks() -> None:
    binder = ROOT / "binder"
    requirements = (binder / "requirements.txt").read_text().split()
    assert "-r" in requirements and "../requirements.txt" in requirements
    post_build = (binder / "postBuild").read_text()
    assert os.access(binder / "postBuild", os.X_OK)
    assert "pip install --no-deps ." in post_build and "jupytext --to ipynb" in post_build
    runtime = (binder / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[1-9])", runtime), runtime
    # Every chapter is converted: they are MyST notebooks with a kernelspec in book/*.md.
    for chapter in toc_chapters():
        source = ROOT / f"{chapter}.md"
        assert source.parent == ROOT / "book" and re.search(r"(?m)^kernelspec:", source.read_text())


def test_extras_agree_with_the_pins() -> None:
    """Each extra's lower bound is the version requirements.txt pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.lower())] = version.strip()
    extras = project["optional-dependencies"]
    assert {"book", "test", "dask"} <= set(extras)
    for extra, requirements in extras.items():
        for requirement in requirements:
            if requirement.startswith("chargetransport["):
                continue
            name, _, version = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?>=(.+)", requirement).groups()
            assert pins[re.sub(r"[-_.]+", "-", name.lower())] == version, (extra, requirement)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "2026 The chargetransport developers" in (ROOT / "LICENSE").read_text()


@pytest.mark.parametrize("kind, title, number", [
    ("theorem", " (Boltzmann limit (Theorem 2.1, ErdosYau2000))", "2.1"),
    ("corollary", " (Convergence in probability (Corollary 3.5))", "3.5"),
    ("definition", " (Anderson model (eq. (2.1)))", None),
    ("definition", " (Connectivity classes (Definition 3.2))", "3.2"),
    ("theorem", " (Crossing estimates (Chen2005))", None),
    ("proposition", " (Theorem 2.1 is used here)", None),
])
def test_paper_number_of_a_box(kind: str, title: str, number: str | None) -> None:
    assert proofs.paper_number(kind, title) == number


def test_execution_time_text() -> None:
    data = {"runtime": 106.4, "mtime": 1764600000.0, "succeeded": True}
    assert status.execution_text(data) == "executed in 106 s on 2025-12-01 14:40 UTC"
    assert status.format_seconds(3.21) == "3.2 s" and status.format_seconds(125) == "2 min 05 s"
    assert status.execution_text(None) == "not executed in this build"
    assert status.execution_text({"succeeded": False, "error": "KeyError", "mtime": 0}).startswith("failed (KeyError)")

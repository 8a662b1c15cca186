"""The README's example runs as printed (a newcomer copies it first)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "README.md has no ```python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    # the last line prints the 1D localization length at E = 1, eta = 0.1: Thouless
    # 2 (4 - E^2) / eta^2 = 600, the statistical error of 2^22 steps is ~1%
    assert abs(float(printed[-1]) / 600.0 - 1.0) < 0.05


def test_readme_module_map_names_every_module_and_no_module_is_oversized():
    # the map a newcomer reads first: every module of the package is named there, and the
    # modules stay small enough to read in one sitting (about 600 lines at most)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    modules = sorted((ROOT / "src" / "chargetransport").glob("*.py"))
    names = [p.stem for p in modules if p.stem not in ("__init__", "__main__")]
    assert [n for n in names if f"`{n}`" not in text] == []
    sizes = {p.stem: len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    assert {n: s for n, s in sizes.items() if s > 600} == {}

"""Fast start: ``kinhteso --version``, ``kinhteso --help`` and importing any CLI module load none
of the heavy libraries (pandas, numpy, scipy, statsmodels, duckdb); commands import them when
they run. Each check runs in a fresh interpreter, so that what this test process already
imported does not hide an import. (How fast the start is: ``benchmarks/startup.py``.)"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import kinhteso.cli

HEAVY = ("pandas", "numpy", "scipy", "statsmodels", "duckdb")

_LOADED = f"sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r})"


def _heavy_after(code: str) -> list[str]:
    """The heavy modules loaded after running ``code`` in a fresh interpreter."""
    script = f"import json, sys\n{code}\nprint(json.dumps({_LOADED}))"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["--lang", "en", "--help"]])
def test_version_and_help_import_no_heavy_library(args):
    code = (
        "from kinhteso.cli import main\n"
        f"try:\n    main.main({args!r}, prog_name='kinhteso', standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
    )
    assert _heavy_after(code) == []


CLI_MODULES = sorted(f"kinhteso.cli.{m.name}" for m in pkgutil.iter_modules(kinhteso.cli.__path__))


@pytest.mark.parametrize("module", ["kinhteso", "kinhteso.errors", "kinhteso.i18n", "kinhteso.cli", *CLI_MODULES])
def test_module_imports_no_heavy_library(module):
    assert _heavy_after(f"import {module}") == []

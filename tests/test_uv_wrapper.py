"""scripts/uv on a machine without Python 3.13: it finds pyenv's, or says in one line what to do.

Each test runs the wrapper in a copy of a tiny project with a PATH that holds only uv and the
shell tools the wrapper uses, so no Python on this machine is visible unless the test puts it
there, and with uv's downloads turned off, as on a machine that cannot reach GitHub.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHELL_TOOLS = ("bash", "cat", "dirname", "sed", "grep", "sort", "tr", "ls")
WANT = f"{sys.version_info.major}.{sys.version_info.minor}"


def real_uv() -> str | None:
    for candidate in (shutil.which("uv"), ROOT / ".tools" / "uv" / "bin" / "uv"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


@pytest.fixture
def project(tmp_path):
    uv = real_uv()
    if uv is None:
        pytest.skip("uv is not installed here (scripts/uv installs it on first use)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(uv)
    for tool in SHELL_TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    home = tmp_path / "project"
    (home / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "uv", home / "scripts" / "uv")
    (home / ".python-version").write_text(f"{WANT}\n")
    (home / "pyproject.toml").write_text(
        f'[project]\nname = "probe"\nversion = "0"\nrequires-python = ">={WANT}"\n'
    )
    return home


def run_wrapper(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    tmp = project.parent
    environment = {
        "PATH": str(tmp / "bin"),
        "HOME": str(tmp / "home"),
        "UV_CACHE_DIR": str(tmp / "uv-cache"),
        "UV_PYTHON_INSTALL_DIR": str(tmp / "uv-pythons"),
        "UV_PYTHON_DOWNLOADS": "never",
        "PYENV_ROOT": str(tmp / "no-pyenv"),
        **env,
    }
    return subprocess.run(
        [str(project / "scripts" / "uv"), *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_any_python_it_says_in_one_line_what_to_install(project):
    result = run_wrapper(project, "sync")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Python {WANT} is not installed" in lines[0]
    assert f"pyenv install {WANT}" in lines[0]
    assert f"uv python install {WANT}" in lines[0]
    assert not (project / ".venv").exists()


def test_a_pyenv_version_that_no_shim_selects_is_used(project):
    # The version directory is the running interpreter's whole prefix (a link to it), as a pyenv
    # install is: a lone link to the binary finds no standard library where a prefix like
    # /usr/local keeps it (the image's Python).
    version = project.parent / "pyenv" / "versions" / f"{WANT}.0"
    version.parent.mkdir(parents=True)
    version.symlink_to(Path(sys.base_prefix).resolve(), target_is_directory=True)
    pyenv_bin = version / "bin"
    assert (pyenv_bin / f"python{WANT}").exists()

    result = run_wrapper(
        project,
        "run",
        "python",
        "-c",
        "import sys; print(sys.version_info[:2])",
        PYENV_ROOT=str(project.parent / "pyenv"),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(sys.version_info[:2])
    assert f"uv: using {pyenv_bin}/python{WANT}" in result.stderr


def test_an_environment_made_before_needs_no_interpreter_search(project):
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    (project / ".venv" / "pyvenv.cfg").write_text(f"version_info = {WANT}.0\n")

    # `uv --version` would not search anyway; `venv --help` goes through the wrapper's check
    # and would fail like the first test if the existing environment were not recognised.
    result = run_wrapper(project, "venv", "--help")

    assert result.returncode == 0, result.stderr
    assert "is not installed" not in result.stderr


def test_help_for_the_wrapper_itself(project):
    result = run_wrapper(project, "--help-wrapper")
    assert result.returncode == 0
    assert "Usage: scripts/uv ARGS" in result.stdout
    assert os.access(ROOT / "scripts" / "uv", os.X_OK)

"""The installable package: a wheel built from this tree carries what the bridge reads at run time
(Alembic's scripts, templates), so a plain `pip install` can migrate and render without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bridge.db import migrate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the build uses the test environment's setuptools and wheel (tests stay offline).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(REPO)], check=True, capture_output=True, cwd=out)
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_carries_every_migration_and_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package_root = REPO / "bridge"
    for path in [*(package_root / "db" / "migrations").rglob("*.py"), package_root / "db/migrations/script.py.mako",
                 *(package_root / "invoices" / "templates").rglob("*.*")]:
        if "__pycache__" not in path.parts:
            assert path.relative_to(REPO).as_posix() in names, f"{path.relative_to(REPO)} is not in the wheel"


def test_an_installed_wheel_migrates_a_new_database(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from sqlalchemy import create_engine\n"
        "from alembic import command\n"
        "from bridge.db import migrate\n"
        "assert str(migrate.MIGRATIONS_DIR).startswith(sys.argv[1]), migrate.MIGRATIONS_DIR\n"
        "engine = create_engine('sqlite:///' + sys.argv[2])\n"
        "command.upgrade(migrate.alembic_config(engine), 'head')\n"
        "print(migrate.current_revision(engine))\n")
    result = subprocess.run([sys.executable, "-c", script, str(site), str(tmp_path / "bridge.db")],
                            capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == migrate.head_revision()

"""The dependency rules of DESIGN.md's flow, as import-linter contracts in pyproject.toml:
`performance` imports neither `rewards` nor `coaching`, `coaching` never imports `rewards`,
and interfaces (views, API, admin, commands) import no task."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("performance", "rewards", "coaching")
INTERFACES = ("admin", "api", "management", "views")
INTERFACE_CONTRACT = "interfaces call services and import no task"


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["name"]: contract for contract in config["contracts"]}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


def test_every_interface_and_tasks_module_is_under_contract():
    """A new app's views or tasks are covered as soon as they exist (import-linter refuses
    to name a module that does not, so the contract lists only those that do)."""
    interfaces = contracts()[INTERFACE_CONTRACT]
    wanted = {f"{app}.{name}" for app in APPS for name in INTERFACES if exists(f"{app}.{name}")}
    assert wanted <= set(interfaces["source_modules"])
    tasks = {f"{app}.tasks" for app in APPS if exists(f"{app}.tasks")}
    assert tasks == set(interfaces["forbidden_modules"])
    assert contracts()["performance imports neither rewards nor coaching"]["forbidden_modules"] == [
        "rewards",
        "coaching",
    ]
    assert contracts()["coaching never imports rewards"]["forbidden_modules"] == ["rewards"]
    assert {"config.views", "config.context_processors"} <= set(interfaces["source_modules"])


def test_breaking_a_rule_fails(tmp_path):
    """The same contracts over a tree that breaks each of them."""
    project = (ROOT / "pyproject.toml").read_text()
    section = project[project.index("[tool.importlinter]") : project.index("[tool.ruff]")]
    (tmp_path / "pyproject.toml").write_text(section)
    modules = {"config", *APPS}
    for contract in contracts().values():
        modules |= {*contract["source_modules"], *contract["forbidden_modules"]}
    for module in modules:
        package = tmp_path.joinpath(*module.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").touch()
    (tmp_path / "performance" / "home.py").write_text("import rewards\n")
    (tmp_path / "coaching" / "flags.py").write_text("from rewards import ledger\n")
    (tmp_path / "rewards" / "ledger.py").touch()
    (tmp_path / "config" / "composition" / "__init__.py").write_text("import performance\n")
    (tmp_path / "performance" / "views" / "feeds.py").write_text(
        "from performance.tasks import process_feed_batch\n"
    )

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert f"Contracts: 0 kept, {len(contracts())} broken." in result.stdout, result.stdout
    for broken in ("performance.home -> rewards", "coaching.flags -> rewards.ledger"):
        assert broken in result.stdout
    assert "performance.views.feeds -> performance.tasks" in result.stdout

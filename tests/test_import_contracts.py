"""The import contracts deny by default: a forbidden import planted in any module breaks them.

A temporary copy of gateway/ and schemas/ gets, in every module, an import of the Kubernetes
client, of Flask, of an HTTP client, and of the top layer; lint-imports, run once over the copy,
must name every module that may not have one. The contracts themselves are in pyproject.toml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANTS = {  # what is planted, and the modules allowed to import it (prefixes)
    "kubernetes": ("gateway.store.kube",),
    "flask": ("gateway.api", "gateway.app", "gateway.server"),
    "requests": ("gateway.cli.client",),
    "gateway.cli": ("gateway.__main__", "gateway.cli"),  # the top layer: nothing else may import it
}


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in ("gateway", "schemas"):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def allowed(module: str, importers: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in importers)


def test_a_forbidden_import_planted_in_any_module_breaks_a_contract(tmp_path: Path) -> None:
    for package in ("gateway", "schemas"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted: dict[str, list[str]] = {}
    for module, path in modules(tmp_path).items():
        if module in ("gateway", "schemas"):
            continue  # the root packages contain the layers: they are no layer themselves
        wanted = [target for target, importers in PLANTS.items() if not allowed(module, importers)]
        with path.open("a") as f:
            f.writelines(f"import {target}  # planted\n" for target in wanted)
        planted[module] = wanted
    lint = str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})  # fmt: skip
    assert result.returncode == 1, result.stdout
    report = result.stdout
    missed = [f"{module} -> {target}" for module, targets in planted.items() for target in targets
              if f"{module} -> {target}" not in report]  # fmt: skip
    assert len(planted) >= 60 and missed == [], missed


def test_the_real_tree_keeps_every_contract() -> None:
    lint = str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert "Contracts: 6 kept, 0 broken." in result.stdout


def test_the_emulator_imports_nothing_of_the_gateway(tmp_path: Path) -> None:
    (tmp_path / "tests" / "support").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "__init__.py", tmp_path / "tests" / "__init__.py")
    shutil.copy(ROOT / "tests" / "support" / "__init__.py", tmp_path / "tests" / "support" / "__init__.py")
    shutil.copytree(ROOT / "tests" / "support" / "emulator", tmp_path / "tests" / "support" / "emulator",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    config = tmp_path / "tests" / "support" / "emulator" / "importlinter.ini"
    lint = str(Path(sys.executable).parent / "lint-imports")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([lint, "--no-cache", "--config", str(config)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})  # fmt: skip

    assert run().returncode == 0
    oracle = ("server", "http", "discovery", "objects", "watch", "reviews", "cluster", "rbac", "resources", "selectors")
    for name in oracle:
        with (tmp_path / "tests" / "support" / "emulator" / f"{name}.py").open("a") as f:
            f.write("import gateway.catalog.selectors  # planted\n")
    report = run().stdout
    assert all(f"tests.support.emulator.{name} -> gateway" in report for name in oracle), report

"""The codebase's shape, as docs/ARCHITECTURE.md states it: every module imports on its own, opens with
a docstring, stays under 500 lines, imports at its top (no deferred import dodging a cycle; the command
line and the bootstrap defer theirs for start-up, and none of those hides a cycle), and every
sub-package is named in the architecture document. The arrows between rooms are import-linter's
contracts (`make lint`)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("outreach", "channels", "flows", "storage")
LINE_LIMIT = 500
# Left out of the line limit: the demo's package, the provider stand-ins and the migrations (the scope).
LINE_LIMIT_EXEMPT = ("outreach/demo/", "channels/standins/", "storage/migrations/")
# Third-party libraries loaded once before the forks, so that each child imports only our modules.
PRELOADED = (
    "aiohttp",
    "sqlalchemy",
    "sqlalchemy.ext.asyncio",
    "sqlmodel",
    "pydantic",
    "pydantic_settings",
    "telegram",
    "telegram.ext",
    "twilio.rest",
    "twilio.request_validator",
    "typer",
    "rich.console",
    "rich.table",
    "alembic",
    "numpy",
    "ruamel.yaml",
    "redis.asyncio",
    "apscheduler",
    "phonenumbers",
    "segno",
    "httpx",
    "aiosmtplib",
    "aioimaplib",
    "email_validator",
    "aiosqlite",
    "asyncpg",
)


def modules(package: str) -> list[Path]:
    return sorted(path for path in (REPO / package).rglob("*.py") if "__pycache__" not in path.parts)


def dotted(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def importable(path: Path) -> bool:
    # Alembic's env.py and revisions run inside alembic, not on import; __main__ runs the CLI.
    rel = path.relative_to(REPO).as_posix()
    return not rel.startswith("storage/migrations/") and path.name != "__main__.py"


# Each module is imported first in a process of its own (forked from one that loaded only third-party
# libraries), so a cycle shows whichever module of it comes first, as aiohttp's test_circular_imports.
FORKED_IMPORTS = """
import importlib, os, sys, traceback
for name in {preloaded!r}:
    importlib.import_module(name)
failed = []
running = {{}}  # pid -> module; one child per core at a time
def reap():
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]
for name in sys.argv[1:]:
    if len(running) >= (os.cpu_count() or 1):
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
print("FAILED:" + ",".join(sorted(failed)))
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_imports_first_in_a_fresh_interpreter(package: str) -> None:
    names = [dotted(path) for path in modules(package) if importable(path)]
    assert len(names) > 3
    script = FORKED_IMPORTS.format(preloaded=PRELOADED)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, *names],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        path.relative_to(REPO).as_posix()
        for package in PACKAGES
        for path in modules(package)
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == []


def test_no_module_is_over_the_line_limit() -> None:
    long = {
        rel: count
        for package in PACKAGES
        for path in modules(package)
        if not (rel := path.relative_to(REPO).as_posix()).startswith(LINE_LIMIT_EXEMPT)
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > LINE_LIMIT
    }
    assert long == {}


# Modules that import a part when it is used, so that a command starts with only what it uses (issue 18:
# `outreach COMMAND --help` loads no database; tests/outreach/cli/test_lazy.py). The test below proves
# that none of these deferred imports dodges a cycle.
DEFERRED_FOR_START_UP = ("outreach/cli/", "outreach/bootstrap.py")


def _deferred_imports(tree: ast.Module) -> dict[int, str]:
    """Imports of our own packages made inside a function or class body: line -> module imported."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] in PACKAGES:
                    found[inner.lineno] = str(inner.module)
                elif isinstance(inner, ast.Import):
                    for alias in inner.names:
                        if alias.name.split(".")[0] in PACKAGES:
                            found[inner.lineno] = alias.name
    return found


def _all_deferred() -> dict[str, dict[int, str]]:
    return {
        path.relative_to(REPO).as_posix(): found
        for package in PACKAGES
        for path in modules(package)
        if (found := _deferred_imports(ast.parse(path.read_text(encoding="utf-8"))))
    }


def test_our_modules_import_each_other_at_the_top() -> None:
    deferred = {path: sorted(found) for path, found in _all_deferred().items()}
    assert {path: lines for path, lines in deferred.items() if not path.startswith(DEFERRED_FOR_START_UP)} == {}


# In a child of one process, import what a module defers and say whether that loaded the module itself.
CYCLES = """
import importlib, json, os, sys
cycles = {}
for importer, targets in json.loads(sys.argv[1]).items():
    read, write = os.pipe()
    if os.fork() == 0:
        for target in targets:
            importlib.import_module(target)
        os.write(write, json.dumps(importer in sys.modules).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        cycles[importer] = json.loads(pipe.read())
    os.wait()
print(json.dumps(cycles))
"""


def test_what_the_command_line_defers_would_make_no_cycle_at_the_top() -> None:
    deferred = {
        path.removesuffix(".py").replace("/", "."): sorted(set(found.values()))
        for path, found in _all_deferred().items()
        if path.startswith(DEFERRED_FOR_START_UP)
    }
    assert "outreach.bootstrap" in deferred and "outreach.cli.campaign" in deferred
    done = subprocess.run(
        [sys.executable, "-c", CYCLES, json.dumps(deferred)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout) == dict.fromkeys(deferred, False)


def test_the_architecture_document_names_every_sub_package() -> None:
    document = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(
        init.parent.relative_to(REPO).as_posix()
        for package in PACKAGES
        for init in (REPO / package).rglob("__init__.py")
    )
    assert len(packages) >= 10
    unnamed = [package for package in packages if f"`{package}/`" not in document]
    assert unnamed == []

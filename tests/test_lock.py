"""requirements.lock, which `make` installs from with hashes, pins every dependency pyproject.toml names.

A dependency added to pyproject.toml without `make lock` would be missing from a fresh install (the
lock is installed with --no-deps); this says which one, before CI's install fails on an import."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)")


def pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]


def test_every_pin_carries_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    unhashed = [entry.split()[0] for entry in entries if PIN.match(entry) and "--hash=sha256:" not in entry]
    assert pinned() and not unhashed, f"pins without a hash: {unhashed}"


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_the_lock_pins_each_declared_dependency_within_its_range(requirement: Requirement) -> None:
    version = pinned().get(canonicalize_name(requirement.name))
    assert version is not None, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run make lock"
    assert requirement.specifier.contains(version, prereleases=True), (
        f"requirements.lock pins {requirement.name}=={version}, outside {requirement.specifier}: run make lock"
    )

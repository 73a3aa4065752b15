"""tools/screenshots.py (`make screenshots`) serves the demo at a fixed public URL, whatever free port
it listens on: the privacy link in the messages the pages show does not change the pictures each run."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from outreach.settings import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "screenshots.py"


def screenshots() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_is_served_at_the_demos_own_public_url_not_at_its_port() -> None:
    script = screenshots()
    env = script.served_env(Path("/tmp/demo.db"), "http://127.0.0.1:9/issuer")
    # The demo stores its campaigns' privacy links under the default public URL; the pages show it too.
    assert env["OUTREACH_PUBLIC_URL"] == script.PUBLIC_URL == Settings(_env_file=None).public_url
    assert script.LINK.search(f"{script.PUBLIC_URL}/admin/password/abc123").group(1) == "/admin/password/abc123"

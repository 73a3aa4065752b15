"""`make screenshots`: every officials' page at desktop and phone widths, on a fresh demo's data, into
docs/screenshots/ (committed, and shown in the README), so the pictures are made again, never kept by hand.

It runs `outreach demo` into a scratch database, serves it with `outreach serve` on a free loopback
port, sets the demo official's password through the one-time link the demo printed, and photographs
each page with Playwright driving Debian's Chromium (OUTREACH_TEST_CHROMIUM, default /usr/bin/chromium).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "a demo password for the pictures"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LINK = re.compile(r"http://127\.0\.0\.1:8080(/admin/password/\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_demo(folder: Path) -> tuple[Path, str]:
    database = folder / "demo.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    command = [sys.executable, "-m", "outreach.cli", "demo", "--residents", "200", "--database", str(database)]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=180, check=True)
    found = LINK.search(done.stdout)
    if found is None:
        raise SystemExit("the demo printed no password link for its official")
    return database, found.group(1)


def serve(database: Path, port: int) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env |= {
        "OUTREACH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "OUTREACH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Below the demo's register, so the launch page shows the second official's approval it asks for.
        "OUTREACH_ADMIN_APPROVAL_THRESHOLD": "10",
    }
    command = [sys.executable, "-m", "outreach.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("outreach serve did not answer within 30 s")


async def photograph(site: str, link_path: str) -> list[Path]:
    chromium = os.environ.get("OUTREACH_TEST_CHROMIUM", "/usr/bin/chromium")
    written = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for name, (width, height) in WIDTHS.items():
            page = await browser.new_page(viewport={"width": width, "height": height}, locale="pl-PL")
            if name == "desktop":
                await page.goto(site + link_path)
                written.append(await shot(page, "password", name))
                await page.get_by_label("Nowe hasło").fill(PASSWORD)
                await page.get_by_label("Powtórz hasło").fill(PASSWORD)
                await page.get_by_role("button", name="Ustaw hasło").click()
            else:
                await page.goto(f"{site}/admin/login")
            written.append(await shot(page, "login", name))
            await page.get_by_label("E-mail").fill("demo@gdansk.example.org")
            await page.get_by_label("Hasło").fill(PASSWORD)
            await page.get_by_role("button", name="Zaloguj się").click()
            await page.wait_for_url(f"{site}/admin/")
            written.append(await shot(page, "campaigns", name))
            await page.get_by_role("table").get_by_role("link").first.click()
            await page.wait_for_load_state()
            written.append(await shot(page, "campaign", name))
            campaign_url = page.url
            await page.get_by_role("link", name="Podgląd wiadomości i ich kosztu").click()
            await page.wait_for_load_state()
            written.append(await shot(page, "preview", name))
            await page.goto(campaign_url)
            await page.get_by_role("link", name="Zamknij").click()
            written.append(await shot(page, "confirm-close", name))
            await page.goto(f"{site}/admin/officials")  # the demo official is an admin
            written.append(await shot(page, "officials", name))
            written += await photograph_editor(page, site, name)
            await page.close()
        await browser.close()
    return written


async def photograph_editor(page: Page, site: str, width: str) -> list[Path]:
    """The campaign editor: a new draft's form (made once, at the first width), its YAML tab, and the
    draft's launch page (which asks for an approver's approval)."""
    draft = f"{site}/admin/campaigns/lawki-przy-stawie/edit"
    if width == "desktop":
        await page.goto(f"{site}/admin/new-campaign")
        await page.locator("#f-name").fill("Ławki przy stawie")
        await page.locator("#f-languages").fill("pl, en")
        await page.locator("#f-questions-0-id").fill("benches")
        await page.locator("#f-questions-0-type").select_option("choice")
        await page.get_by_role("button", name="Pokaż pola typu pytania 1").click()
        await page.locator("#f-questions-0-text-pl").fill("Gdzie postawić nowe ławki?")
        await page.locator("#f-questions-0-text-en").fill("Where should the new benches go?")
        for index, (key, polish, english) in enumerate(
            [("pond", "przy stawie", "by the pond"), ("gate", "przy bramie", "by the gate")]
        ):
            await page.get_by_role("button", name="Dodaj odpowiedź do pytania 1").click()
            await page.locator(f"#f-questions-0-options-{index}-key").fill(key)
            await page.locator(f"#f-questions-0-options-{index}-text-pl").fill(polish)
            await page.locator(f"#f-questions-0-options-{index}-text-en").fill(english)
        await page.get_by_role("button", name="Zapisz szkic").first.click()
        await page.wait_for_url(draft + "?saved=1")
    else:
        await page.goto(draft)
    written = [await shot(page, "editor", width)]
    await page.get_by_role("button", name="YAML").click()
    await page.wait_for_load_state()
    written.append(await shot(page, "editor-yaml", width))
    await page.goto(draft.removesuffix("/edit") + "/launch")
    written.append(await shot(page, "launch", width))
    return written


async def shot(page: Page, what: str, width: str) -> Path:
    path = OUT / f"{what}-{width}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        database, link_path = run_demo(Path(scratch))
        port = free_port()
        server = serve(database, port)
        try:
            written = asyncio.run(photograph(f"http://127.0.0.1:{port}", link_path))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    for path in written:
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make screenshots`: every officials' page at desktop and phone widths, on a fresh demo's data, into
docs/screenshots/ (committed, and shown in the README), so the pictures are made again, never kept by hand.

It runs `outreach demo` into a scratch database, serves it with `outreach serve` on a free loopback
port (its SSO pointed at the tests' OpenID Connect provider, run on loopback here, so the login page
shows its "Log in with …" button), sets the demo official's password through the one-time link the demo
printed, and photographs each page with Playwright driving Debian's Chromium (OUTREACH_TEST_CHROMIUM,
default /usr/bin/chromium). A second official, an approver, is added on the officials' page to show
what waits for an approval. The service's public URL is fixed (PUBLIC_URL), not the free port it is
served on, so the privacy link in the messages the pages show is the same in every run and a picture
changes only when its page does. Any page answering an error status fails the run (exit 1), so a
broken page is never photographed silently. docs/ADMIN.md lists the pictures.
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
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, Response, async_playwright

from tests.servers.oidc_provider import OidcProvider

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "a demo password for the pictures"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
APPROVER = "approver@gdansk.example.org"
SSO_CLIENT = ("outreach-screenshots", "a client secret for the pictures")
# OUTREACH_PUBLIC_URL of the served demo, whatever port it is on: the demo's own default, which its
# stored campaigns' privacy links already name. Links the pages show are followed by their path.
PUBLIC_URL = "http://127.0.0.1:8080"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/admin/password/\S+)")


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


def served_env(database: Path, sso_issuer: str) -> dict[str, str]:
    """The environment of the served demo: the same whatever port it is served on."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    env |= {
        "OUTREACH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "OUTREACH_PUBLIC_URL": PUBLIC_URL,
        # Below the demo's register, so the launch page shows the second official's approval it asks for.
        "OUTREACH_ADMIN_APPROVAL_THRESHOLD": "10",
        "OUTREACH_ADMIN_OIDC_ISSUER": sso_issuer,
        "OUTREACH_ADMIN_OIDC_CLIENT_ID": SSO_CLIENT[0],
        "OUTREACH_ADMIN_OIDC_CLIENT_SECRET": SSO_CLIENT[1],
        "OUTREACH_ADMIN_OIDC_NAME": "SSO Gdańska",
    }
    return env


def serve(database: Path, port: int, sso_issuer: str) -> subprocess.Popen[bytes]:
    env = served_env(database, sso_issuer)
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


class ErrorPages:
    """Every page (a navigation) that answered an error status, so the run can fail on it."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def watch(self, response: Response) -> None:
        if response.request.is_navigation_request() and response.status >= 400:
            self.found.append(f"{response.status} {response.url}")

    async def new_page(self, browser: Browser, width: str) -> Page:
        size = WIDTHS[width]
        page = await browser.new_page(viewport={"width": size[0], "height": size[1]}, locale="pl-PL")
        page.on("response", self.watch)
        return page


async def log_in(page: Page, site: str, email: str) -> None:
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Hasło").fill(PASSWORD)
    await page.get_by_role("button", name="Zaloguj się").click()
    await page.wait_for_url(f"{site}/admin/")


async def set_password(page: Page) -> None:
    await page.get_by_label("Nowe hasło").fill(PASSWORD)
    await page.get_by_label("Powtórz hasło").fill(PASSWORD)


async def photograph(site: str, link_path: str, errors: ErrorPages) -> list[Path]:
    chromium = os.environ.get("OUTREACH_TEST_CHROMIUM", "/usr/bin/chromium")
    written = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        approver_link = ""
        for name in WIDTHS:
            page = await errors.new_page(browser, name)
            if name == "desktop":
                await page.goto(site + link_path)
                written.append(await shot(page, "password", name))
                await set_password(page)
                await page.get_by_role("button", name="Ustaw hasło").click()
            else:
                await page.goto(f"{site}/admin/login")
            # The login page with the password form and the city SSO's "Log in with …" button.
            written.append(await shot(page, "login", name))
            await log_in(page, site, "demo@gdansk.example.org")
            written.append(await shot(page, "campaigns", name))
            await page.get_by_role("table").get_by_role("link").first.click()
            await page.wait_for_load_state()
            written.append(await shot(page, "campaign", name))
            campaign_url = page.url
            await page.get_by_role("link", name="Podgląd wiadomości i ich kosztu").click()
            await page.wait_for_load_state()
            written.append(await shot(page, "preview", name))
            test_send = OUT / f"test-send-{name}.png"
            await page.locator("section.test-send").screenshot(path=str(test_send))
            written.append(test_send)
            await page.goto(campaign_url)
            await page.get_by_role("link", name="Zamknij").click()
            written.append(await shot(page, "confirm-close", name))
            # Pause and resume ask on the same template (confirm.html) as close; pause stands for both.
            await page.goto(campaign_url + "/pause")
            written.append(await shot(page, "confirm-pause", name))
            await page.goto(f"{site}/admin/officials")  # the demo official is an admin
            written.append(await shot(page, "officials", name))
            if name == "desktop":
                await page.locator("#new-email").fill(APPROVER)
                await page.locator("#new-role").select_option("approver")
                await page.locator("form[action='/admin/officials'] button[type=submit]").click()
                await page.wait_for_load_state()
                approver_link = site + urlsplit(await page.locator("code.link").inner_text()).path
            await page.locator("tr", has_text=APPROVER).get_by_role("link").click()
            await page.wait_for_load_state()
            written.append(await shot(page, "confirm-deactivate", name))
            written += await photograph_editor(page, site, name)
            await page.goto(f"{site}/privacy/pl")
            written.append(await shot(page, "privacy", name))
            if name == "phone":  # the last width: the draft's launch now waits for the approver
                await page.goto(f"{site}/admin/campaigns/lawki-przy-stawie/launch")
                await page.locator("form[action$='/launch-request'] button").click()
                await page.wait_for_load_state()
            await page.close()
        written += await photograph_approver(browser, site, approver_link, errors)
        await browser.close()
    return written


async def photograph_approver(browser: Browser, site: str, link: str, errors: ErrorPages) -> list[Path]:
    """What the approver sees: the campaigns list with a launch waiting for their approval, and the
    launch page's decision form. Their password is set at phone width, the page's other picture."""
    written = []
    for name in reversed(WIDTHS):
        page = await errors.new_page(browser, name)
        if name == "phone":
            await page.goto(link)
            written.append(await shot(page, "password", name))
            await set_password(page)
            await page.get_by_role("button", name="Ustaw hasło").click()
        else:
            await page.goto(f"{site}/admin/login")
        await log_in(page, site, APPROVER)
        written.append(await shot(page, "campaigns-waiting", name))
        await page.goto(f"{site}/admin/campaigns/lawki-przy-stawie/launch")
        written.append(await shot(page, "launch-decision", name))
        await page.close()
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
    errors = ErrorPages()
    with tempfile.TemporaryDirectory() as scratch:
        database, link_path = run_demo(Path(scratch))
        written = asyncio.run(photograph_served(database, link_path, errors))
    for path in written:
        print(path.relative_to(ROOT))
    if errors.found:
        print("pages that answered an error status:", *errors.found, sep="\n", file=sys.stderr)
        return 1
    return 0


async def photograph_served(database: Path, link_path: str, errors: ErrorPages) -> list[Path]:
    """Serve the demo with its SSO at a provider run here, on loopback, and photograph its pages."""
    async with OidcProvider(*SSO_CLIENT, clock=lambda: datetime.now(UTC)) as provider:
        port = free_port()
        server = await asyncio.to_thread(serve, database, port, provider.issuer)
        try:
            return await photograph(f"http://127.0.0.1:{port}", link_path, errors)
        finally:
            server.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.wait, 30)


if __name__ == "__main__":
    sys.exit(main())

"""Where the officials' pages live; the CLI builds password links from these without the web app."""

from __future__ import annotations

PREFIX = "/admin"
LOGIN = PREFIX + "/login"
HOME = PREFIX + "/"


def launch_path(slug: str) -> str:
    """A campaign's launch page (approvers' e-mails link to it)."""
    return f"{PREFIX}/campaigns/{slug}/launch"


def password_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{PREFIX}/password/{token}"

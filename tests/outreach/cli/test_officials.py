"""`outreach official add|reset|deactivate|list`: accounts of the officials' pages from the terminal."""

from __future__ import annotations

from typer.testing import CliRunner

from outreach.cli.main import app

EMAIL = "Anna.Nowak@gdansk.gda.pl"


def test_add_prints_only_the_link_on_standard_output_and_list_shows_the_account(cli: CliRunner) -> None:
    added = cli.invoke(app, ["official", "add", EMAIL, "--role", "approver"])
    assert added.exit_code == 0, added.output
    (link,) = added.stdout.split()
    assert link.startswith("http://127.0.0.1:8080/admin/password/") and len(link.rsplit("/", 1)[1]) >= 40
    assert "shown only now" in added.stderr

    listed = cli.invoke(app, ["official", "list"])
    assert listed.stdout.split()[1:] == ["anna.nowak@gdansk.gda.pl", "approver", "waiting", "for", "a", "password"]

    again = cli.invoke(app, ["official", "add", EMAIL.upper(), "--role", "viewer"])
    assert again.exit_code == 1 and "has an account already" in again.stderr


def test_reset_gives_a_new_link_and_deactivate_closes_the_account(cli: CliRunner) -> None:
    first = cli.invoke(app, ["official", "add", EMAIL, "--role", "viewer"]).stdout.strip()
    second = cli.invoke(app, ["official", "reset", EMAIL])
    assert second.exit_code == 0 and second.stdout.strip() != first

    closed = cli.invoke(app, ["official", "deactivate", EMAIL])
    assert closed.exit_code == 0 and "0 session(s) ended" in closed.stdout
    assert "deactivated" in cli.invoke(app, ["official", "list"]).stdout
    refused = cli.invoke(app, ["official", "reset", EMAIL])
    assert refused.exit_code == 1 and "no active account" in refused.stderr


def test_an_unknown_role_is_refused(cli: CliRunner) -> None:
    result = cli.invoke(app, ["official", "add", EMAIL, "--role", "mayor"])
    assert result.exit_code == 1 and "the role is one of viewer, editor, approver, admin" in result.stderr


def test_deactivate_refuses_the_last_active_admin_as_the_pages_do(cli: CliRunner) -> None:
    assert cli.invoke(app, ["official", "add", EMAIL, "--role", "admin"]).exit_code == 0

    refused = cli.invoke(app, ["official", "deactivate", EMAIL])
    assert refused.exit_code == 1
    assert "last active admin: make another official admin first" in refused.stderr
    assert "outreach official add EMAIL --role admin" in refused.stderr
    assert "deactivated" not in cli.invoke(app, ["official", "list"]).stdout

    assert cli.invoke(app, ["official", "add", "second@gdansk.gda.pl", "--role", "admin"]).exit_code == 0
    closed = cli.invoke(app, ["official", "deactivate", EMAIL])
    assert closed.exit_code == 0, closed.output
    assert "deactivated" in cli.invoke(app, ["official", "list"]).stdout

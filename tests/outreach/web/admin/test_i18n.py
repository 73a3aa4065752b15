"""Every text the officials' pages show has a Polish translation (English is the source language):
the texts written in the templates, the states and roles shown through the catalog, and the account
messages a page repeats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows import value_errors, yaml_syntax
from outreach.officials import accounts
from outreach.officials.roles import ROLES
from outreach.survey import margins_problems
from outreach.survey.sampling import MARGINS_REFUSAL
from outreach.web.admin import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
TEXT = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
CAMPAIGN_STATES = ("draft", "scheduled", "active", "paused", "closed")
ACCOUNT_MESSAGES = (
    "this link is not valid: it was used already, or replaced by a newer one",
    "this link has expired: ask an administrator for a new one",
    "the two passwords differ",
    f"the password needs at least {accounts.PASSWORD_MIN} characters",
    f"the password may have at most {accounts.PASSWORD_MAX} characters",
    "the password cannot be the e-mail address",
)


# Messages said from tables, by code: pydantic's about a value, YAML syntax errors, margins' problems.
TABLED = (
    *(template for templates in value_errors.VALUE_ERRORS.values() for template in templates),
    *value_errors.WORDS,
    value_errors.STRING_TYPE_QUOTED,
    value_errors.CHOICES,
    yaml_syntax.SYNTAX,
    yaml_syntax.SYNTAX_WITHIN,
    *yaml_syntax.PROBLEMS.values(),
    *yaml_syntax.CONTEXTS.values(),
    *margins_problems.PROBLEMS.values(),
    margins_problems.AT_SOURCE,
    margins_problems.AT_LINE,
    MARGINS_REFUSAL,
)


def template_texts() -> list[str]:
    texts = []
    for template in sorted(TEMPLATES.glob("*.html")):
        for double, single in TEXT.findall(template.read_text(encoding="utf-8")):
            texts.append(double or single)
    return texts


def test_the_templates_have_texts_to_translate() -> None:
    assert len(template_texts()) >= 20


@pytest.mark.parametrize("text", sorted({*template_texts(), *ROLES, *CAMPAIGN_STATES, *ACCOUNT_MESSAGES, *TABLED}))
def test_each_text_has_a_polish_translation(text: str) -> None:
    translated = i18n.translations("pl").gettext(text)
    # Where a problem is (its source, line and problem) reads the same in Polish.
    same = {"E-mail", margins_problems.AT_SOURCE, margins_problems.AT_LINE, MARGINS_REFUSAL}
    assert translated != text or text in same, f"no Polish for {text!r} in {i18n.LOCALE_DIR}/pl"
    assert re.findall(r"%\(\w+\)s", translated) == re.findall(r"%\(\w+\)s", text), "placeholders differ"


def test_the_account_messages_above_are_the_ones_the_code_raises() -> None:
    source = Path(accounts.__file__).read_text(encoding="utf-8") + (TEMPLATES.parent / "pages.py").read_text()
    for message in ACCOUNT_MESSAGES:
        literal = message.replace(str(accounts.PASSWORD_MIN), "{PASSWORD_MIN}").replace(
            str(accounts.PASSWORD_MAX), "{PASSWORD_MAX}"
        )
        assert message in source or literal in source, message

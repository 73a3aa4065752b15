"""A mail's text as a reader sees it: HTML turned into text with quotes as "> " lines, format=flowed unflowed."""

from __future__ import annotations

import pytest

from channels.email_body import html_to_text, unflow


@pytest.mark.parametrize(
    ("label", "html", "expected"),
    [
        ("paragraphs and breaks", "<p>Tak</p><p>Nie<br>Może</p>", "Tak\n\nNie\nMoże"),
        ("entities", "<div>Za&nbsp;&amp;&nbsp;przeciw &lt;3&gt;</div>", "Za & przeciw <3>"),
        ("script and style are not text", "<style>p{x:y}</style><script>a()</script><p>Tak</p>", "Tak"),
        ("a blockquote becomes a quote", "<div>2</div><blockquote><p>Czy?</p></blockquote>", "2\n> Czy?"),
        ("nested quotes", "<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n> > b"),
        ("lists", "<ol><li>Tak</li><li>Nie</li></ol>", "- Tak\n- Nie"),
        ("pre keeps its lines", "<pre>1\n2</pre>", "1\n2"),
        ("whitespace collapses", "<p>  Tak \n  jestem   za </p>", "Tak jestem za"),
    ],
)
def test_html_to_text_table(label: str, html: str, expected: str) -> None:
    assert html_to_text(html) == expected, label


def test_unflow() -> None:
    assert unflow("one \ntwo\n-- \nsig") == "one two\n-- \nsig"
    assert unflow("one \ntwo", delsp=True) == "onetwo"
    assert unflow(" >not a quote") == ">not a quote"  # space-stuffing undone

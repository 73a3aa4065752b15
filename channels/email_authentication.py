"""Whether our own receiving server vouches for a mail's From address (pure): DMARC in the
`Authentication-Results` header (RFC 8601) it stamped with its authserv-id.

Anyone can write any `Authentication-Results` header into a mail, our authserv-id included; a server
adds its own above every header the mail came with. So only the topmost `Authentication-Results` header
counts: it must carry our authserv-id and a `dmarc=pass` whose `header.from` is the From address's
domain. A receiving server that writes DMARC in a header of its own below another one (say DKIM first)
is refused, never trusted by guess; configure it to put DMARC in the topmost header, or leave this off.

Why not the `authres` package: unmaintained since 2019; the part of the grammar needed here is small.
"""

from __future__ import annotations

from collections.abc import Sequence

_SPECIALS = ";="


def _without_comments(value: str) -> str:
    """The header value with its (nested) comments removed; quoted strings kept whole."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            quoted = char != '"'
            continue
        if char == "(":
            depth += 1
            out.append(" ")
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _tokens(value: str) -> list[str]:
    """Words, quoted strings (unquoted) and the specials `;` and `=`, in order."""
    tokens: list[str] = []
    word: list[str] = []
    quoted = False
    escaped = False

    def flush() -> None:
        if word:
            tokens.append("".join(word))
            word.clear()

    for char in value:
        if quoted:
            if escaped:
                word.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            else:
                word.append(char)
        elif char == '"':
            quoted = True
        elif char in _SPECIALS:
            flush()
            tokens.append(char)
        elif char.isspace():
            flush()
        else:
            word.append(char)
    flush()
    return tokens


def _statements(value: str) -> list[list[str]]:
    """The header split at `;`: the authserv-id part first, then one list of tokens per result."""
    statements: list[list[str]] = [[]]
    for token in _tokens(_without_comments(value)):
        if token == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return statements


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    """`name=value` pairs of one result statement, names lowercased, in order."""
    return [
        (tokens[at - 1].lower(), tokens[at + 1])
        for at in range(1, len(tokens) - 1)
        if tokens[at] == "=" and tokens[at - 1] != "=" and tokens[at + 1] != "="
    ]


def _domain(value: str) -> str:
    """A domain compared as DNS does: case-insensitive, IDNA form, no trailing dot."""
    name = value.strip().rpartition("@")[2].rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def dmarc_pass(results: Sequence[str], authserv_id: str, sender: str) -> bool:
    """Whether the topmost of `results` (the `Authentication-Results` values, top first) is stamped
    `authserv_id` and says DMARC passed for the domain of `sender`, and no DMARC result in it says
    otherwise for that domain."""
    if not results or "@" not in sender:
        return False
    statements = _statements(results[0])
    head = statements[0]
    if not head or head[0].lower() != authserv_id.strip().lower():
        return False
    domain = _domain(sender.rpartition("@")[2])
    verdicts = []
    for statement in statements[1:]:
        pairs = _pairs(statement)
        if not pairs or pairs[0][0].partition("/")[0] != "dmarc":
            continue
        header_from = next((value for name, value in pairs[1:] if name == "header.from"), None)
        if header_from is not None and _domain(header_from) == domain:
            verdicts.append(pairs[0][1].lower())
    return bool(verdicts) and all(verdict == "pass" for verdict in verdicts)

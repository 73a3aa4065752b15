"""Every JSON body the service accepts is read here, once, before any handler sees it.

A body that is not a JSON document this service can hold is refused with 400 and a JSON error naming
what and where, and nothing is stored: not UTF-8, not JSON, nested deeper than MAX_DEPTH (Python's
parser recurses, so 100,000 brackets raised RecursionError), a string or key holding a lone UTF-16
surrogate (`"\\ud800"` decodes to no character: no store can encode it), a number that is not finite
(`NaN`, `Infinity`, `1e999`). The middleware checks the bodies of the JSON routes (the paths it is
given) and of any request that says it is JSON; `json_document` hands the checked document to the API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

MAX_DEPTH = 32  # as campaign files (flows.loader): real documents nest a handful of levels
_DOCUMENT = web.RequestKey("json_document", object)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RefusedJson(Exception):
    """Why a body is not a JSON document we accept; `at` is the dotted path to the bad node."""

    def __init__(self, message: str, at: str = "(body)") -> None:
        super().__init__(message)
        self.message = message
        self.at = at

    def as_error(self) -> dict[str, Any]:
        """The API's error object (outreach.web.api.errors), which the webhooks answer too."""
        return {"code": "invalid_json", "message": self.message, "details": [{"at": self.at, "message": self.message}]}


def _refuse_constant(name: str) -> Any:
    raise RefusedJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise RefusedJson("a number is too large to hold")
    return number


def parse_document(raw: bytes) -> Any:
    """The JSON document in `raw`, or RefusedJson saying why not (see the module's docstring)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedJson("the body must be UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise RefusedJson(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # JSONDecodeError, and an integer of more digits than Python reads
        raise RefusedJson("the body must be a JSON document") from None
    _check_nodes(document)
    return document


def _check_nodes(document: Any) -> None:
    """Depth, lone surrogates in strings and keys: walked with a stack, never recursively."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise RefusedJson(f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):
            _check_text(node, path)
        elif isinstance(node, dict):
            for key, value in node.items():
                _check_text(key, path, key=True)
                stack.append((value, (*path, key)))
        elif isinstance(node, list):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))


def _check_text(text: str, path: tuple[str, ...], *, key: bool = False) -> None:
    if any("\ud800" <= character <= "\udfff" for character in text):
        at = (".".join(path) or "(body)") + (" (a key)" if key else "")  # a bad key is not shown back
        raise RefusedJson("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is no character", at)


async def json_document(request: web.Request) -> Any:
    """The request's body as a checked JSON document (read and checked once per request)."""
    if _DOCUMENT not in request:
        request[_DOCUMENT] = parse_document(await request.read())
    return request[_DOCUMENT]


def json_body_guard(json_paths: Sequence[str], *, streamed: Sequence[str] = ()) -> Middleware:
    """The middleware: bodies sent to `json_paths` (prefixes) or typed as JSON are checked first;
    never those sent to `streamed` (exact paths whose handlers stream a file to disk, unread here)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        checked = request.path not in streamed and _is_json(request, json_paths)
        if request.method in _BODY_METHODS and request.body_exists and checked:
            try:
                await json_document(request)
            except RefusedJson as refused:
                return web.json_response({"error": refused.as_error()}, status=400)
        return await handler(request)

    return guard


# A campaign definition may come as YAML (outreach.web.api.definitions reads it with its own guards).
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


def _is_json(request: web.Request, json_paths: Sequence[str]) -> bool:
    content_type = request.content_type
    if content_type in YAML_TYPES:
        return False
    typed_json = content_type == "application/json" or content_type.endswith("+json")
    return typed_json or any(request.path.startswith(path) for path in json_paths)

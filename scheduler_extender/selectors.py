"""Kubernetes label selectors, checked as the API server parses them (k8s.io/apimachinery/pkg/labels Parse):
a mistyped --worker-selector must stop the command at start, not select no worker, or every pod, for ever.

    selector    ::= requirement ("," requirement)*
    requirement ::= KEY | "!" KEY | KEY ("=" | "==" | "!=") VALUE | KEY ("in" | "notin") "(" VALUE ("," VALUE)* ")"
                  | KEY (">" | "<") INTEGER

KEY is a qualified name ([DNS subdomain "/"] name of at most 63 characters), VALUE a label value; blanks
separate tokens. One rule is stricter than Kubernetes: an empty VALUE (`role==`, `role in ()`, `x in (a,)`),
which Kubernetes reads as "the label is the empty string" and is, here, always a typo. Pure.
"""
from __future__ import annotations

import re

_SYMBOLS = ("!=", "==", "=", "!", "(", ")", ",", ">", "<")
_SPECIAL = frozenset("=!(),<>")
_BLANK = frozenset(" \t\r\n")
_EXACT = ("=", "==", "!=")
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_END = ("end", "")


def check_selector(text: str) -> None:
    """Raises ValueError saying what is wrong with the selector, worded to follow '"<text>" is not a label
    selector: '."""
    tokens = _tokens(text)
    if tokens[0] == _END:
        raise ValueError("it is empty, which would select every pod")
    position = 0
    while True:
        position = _requirement(tokens, position)
        kind, literal = tokens[position]
        if kind == "end":
            return
        if kind != ",":
            raise ValueError(f"found {_shown(literal)} after a requirement, expected ',' or the end")
        position += 1


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, literal) pairs ending with ("end", ""). Kinds: "id", "in", "notin" and each symbol itself. As
    upstream's lexer: a run of symbols is read as the longest known symbol, then the next."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if text[i] in _BLANK:
            i += 1
        elif text[i] in _SPECIAL:
            symbol = next(s for s in _SYMBOLS if text.startswith(s, i))
            tokens.append((symbol, symbol))
            i += len(symbol)
        else:
            start = i
            while i < len(text) and text[i] not in _SPECIAL and text[i] not in _BLANK:
                i += 1
            word = text[start:i]
            tokens.append((word if word in ("in", "notin") else "id", word))
    return tokens + [_END]


def _requirement(tokens: list[tuple[str, str]], position: int) -> int:
    """Checks the requirement starting at `position`; returns the position after it."""
    kind, literal = tokens[position]
    negated = kind == "!"
    if negated:
        position += 1
        kind, literal = tokens[position]
    if kind not in ("id", "in", "notin"):  # `in` and `notin` are keywords only after a key
        raise ValueError(f"found {_shown(literal)}, expected a label key")
    _check_key(literal)
    key = literal
    position += 1
    kind, literal = tokens[position]
    if negated or kind in ("end", ","):
        return position
    position += 1
    if kind in ("in", "notin"):
        if tokens[position][0] != "(":
            raise ValueError(f"found {_shown(tokens[position][1])} after '{kind}', expected '('")
        position += 1
        while True:
            value_kind, value = tokens[position]
            if value_kind in (",", ")"):
                raise ValueError(f"an empty value in the '{kind}' list of {key!r}")
            if value_kind not in ("id", "in", "notin"):
                raise ValueError(f"found {_shown(value)} in the '{kind}' list of {key!r}, expected a value")
            _check_value(key, value)
            separator, found = tokens[position + 1]
            position += 2
            if separator == ")":
                return position
            if separator != ",":
                raise ValueError(f"found {_shown(found)} in the '{kind}' list of {key!r}, expected ',' or ')'")
    if kind in _EXACT or kind in (">", "<"):
        value_kind, value = tokens[position]
        if value_kind in ("end", ","):
            raise ValueError(f"the value after {key}{kind} is empty (Kubernetes would match only pods whose "
                             f"label {key} is the empty string)")
        if value_kind not in ("id", "in", "notin"):
            raise ValueError(f"found {_shown(value)} after {key}{kind}, expected a value")
        if kind in (">", "<") and not _INTEGER.fullmatch(value):
            raise ValueError(f"'{kind}' compares with a whole number, not {value!r}")
        _check_value(key, value)
        return position + 1
    raise ValueError(f"found {_shown(literal)} after the key {key!r}, expected one of "
                     f"=, ==, !=, in, notin, >, <, ',' or the end")


def _check_key(key: str) -> None:
    """A qualified name: an optional DNS subdomain prefix and '/', then a name of 1 to 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise ValueError(f"the key {key!r} has a prefix that is not a lower-case DNS subdomain")
    if len(name) > 63 or not _NAME.fullmatch(name):
        raise ValueError(f"the key {key!r} is not a label name (at most 63 letters, digits, '-', '_' or '.', "
                         f"beginning and ending with a letter or digit)")


def _check_value(key: str, value: str) -> None:
    if len(value) > 63 or not _NAME.fullmatch(value):
        raise ValueError(f"{value!r} (for {key!r}) is not a label value (at most 63 letters, digits, '-', '_' "
                         f"or '.', beginning and ending with a letter or digit)")


def _shown(literal: str) -> str:
    return repr(literal) if literal else "the end"

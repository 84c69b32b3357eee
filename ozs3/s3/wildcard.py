"""Glob-style patterns as S3 configurations write them: ``*`` stands for
any run of characters (CORS origins and headers, policy actions and
resources) and, in policies, ``?`` for any one character.  Nothing else is
special (unlike fnmatch, ``[`` is literal).  Pure."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8192)
def _compiled(pattern: str, case_sensitive: bool, question: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?" and question:
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile("".join(parts), flags)


@lru_cache(maxsize=4096)
def any_of(
    patterns: tuple[str, ...], case_sensitive: bool = True, question: bool = False
) -> re.Pattern[str]:
    """One regex that fully matches what any of ``patterns`` matches (a
    policy statement's actions or resources: one search, not one each)."""
    body = "|".join(
        f"(?:{_compiled(p, case_sensitive, question).pattern})" for p in patterns
    )
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile(body, flags)


def matches(
    pattern: str, value: str, case_sensitive: bool = True, question: bool = False
) -> bool:
    """``value`` against ``pattern`` (``?`` a wildcard only if ``question``)."""
    return _compiled(pattern, case_sensitive, question).fullmatch(value) is not None

"""Write ``async def`` inside, expose ``Deferred`` at interfaces."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from twisted.internet.defer import Deferred

P = ParamSpec("P")
T = TypeVar("T")


def async_to_deferred(
    f: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Deferred[T]]:
    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Deferred[T]:
        return Deferred.fromCoroutine(f(*args, **kwargs))

    return wrapper

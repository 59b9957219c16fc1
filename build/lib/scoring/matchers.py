"""Field matchers: one compiled test per rule, from a lead field's raw value to yes/no.

Lead fields arrive as CSV strings, JSON scalars or JSON lists, so every matcher compares
on a normal form: strings trimmed and case-folded, numbers (and numeric strings) as
floats, booleans also matching "yes"/"no"/"1"/"0". A list value matches when any of its
elements does (`not_in`: when none is in the list).

A missing or empty value never matches, not even `not_in` (an unknown country is not a
non-serviceable one); `present = false` is the one matcher that fires on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from scoring.rules import Scalar

Matcher = Callable[[Any], bool]

_NUMBER_START = frozenset("0123456789+-.")
_TRUE = frozenset({"true", "yes", "y", "1.0"})
_FALSE = frozenset({"false", "no", "n", "0.0"})


def is_missing(value: Any) -> bool:
    """Tells whether a field value counts as missing (None, blank string, empty list)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return all(is_missing(item) for item in value)
    return False


def normal(value: Any) -> str:
    """Gets the normal form used by equals / in / not_in."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))
    text = str(value).strip().casefold()
    if text[:1] in _NUMBER_START:
        try:
            number = float(text)
        except ValueError:
            return text
        if math.isfinite(number):
            return repr(number)
    return text


def as_number(value: Any) -> float | None:
    """Gets a field value as a finite number, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _items(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [item for item in value if not is_missing(item)]
    return [value]


def _normal_set(values: list[Scalar]) -> frozenset[str]:
    out: set[str] = set()
    for value in values:
        if isinstance(value, bool):
            out |= _TRUE if value else _FALSE
        else:
            out.add(normal(value))
    return frozenset(out)


def compile_matcher(name: str, expected: Any) -> Matcher:
    """Builds the test for one matcher (`in`, `between`…) and its configured value."""
    if name == "present":
        return (lambda value: not is_missing(value)) if expected else is_missing
    if name == "not_in":
        wanted = _normal_set(expected)
        return lambda value: (
            not is_missing(value) and all(normal(item) not in wanted for item in _items(value))
        )
    test = _element_test(name, expected)
    return lambda value: not is_missing(value) and any(test(item) for item in _items(value))


def _element_test(name: str, expected: Any) -> Matcher:
    if name in ("equals", "in"):
        wanted = _normal_set(expected if isinstance(expected, list) else [expected])
        return lambda item: normal(item) in wanted
    if name == "between":
        low, high = expected
        return lambda item: (n := as_number(item)) is not None and low <= n <= high
    if name == "contains":
        needle = str(expected).casefold()
        return lambda item: needle in str(item).casefold()
    if name == "matches":
        pattern = re.compile(expected, re.IGNORECASE)
        return lambda item: pattern.search(str(item)) is not None
    raise ValueError(f"unknown matcher {name!r}")

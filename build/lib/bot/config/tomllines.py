"""Line numbers of keys in a TOML document, for error messages.

`tomllib` parses without positions, so this scans the text for table headers
(`[a.b]`, `[[a.b]]`, counting array entries) and `key = value` lines. It is only used
to point at a line when validation fails, so it favours simplicity: keys inside inline
tables or multi-line strings are not indexed, and a lookup falls back to the nearest
enclosing key or table that was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return [part.strip("\"'") for part in parts]


def index_lines(text: str) -> dict[Path, int]:
    """Maps each key path found in the document to its 1-based line number."""
    lines: dict[Path, int] = {}
    table: Path = ()
    array_counts: dict[Path, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = tuple(_split_dotted(header.group(2)))
            if header.group(1) == "[[":
                index = array_counts.get(names, 0)
                array_counts[names] = index + 1
                table = (*_resolve(names, array_counts), index)
            else:
                table = _resolve(names, array_counts)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_split_dotted(key.group(1))), number)
    return lines


def _resolve(names: tuple[str, ...], array_counts: dict[Path, int]) -> Path:
    """Puts the current index after every array-of-tables prefix (`[a.b]` inside `[[a]]`)."""
    out: list[str | int] = []
    for i, name in enumerate(names):
        out.append(name)
        prefix = names[: i + 1]
        if prefix in array_counts and i + 1 < len(names):
            out.append(array_counts[prefix] - 1)
    return tuple(out)


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """Gets the line of a key path, or of its nearest indexed parent, or None."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def dotted(path: Sequence[str | int]) -> str:
    """Writes a key path as in the docs: `scoring.fit[2].between`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out

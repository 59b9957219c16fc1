"""`check-config` on broken files (issue 16, point 7): whatever is wrong, it answers with
exit 2 and file:line messages, never a traceback. Hypothesis breaks the example config:
keys misspelt anywhere (tables of tables included), values swapped for other types, lines
dropped or duplicated, and stray text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, load_config
from tests.helpers import REPO

EXAMPLE = (REPO / "handoff.example.toml").read_text(encoding="utf-8").splitlines()
ASSIGNMENTS = [i for i, line in enumerate(EXAMPLE) if "=" in line and not line.startswith("#")]
VALUES = st.sampled_from(
    ['""', "-1", "0", "1e309", "true", "[]", "{}", '"nonsense"', '"9999-99-99"', '"25:61"']
)


def _misspell(line: str, data: st.DataObject) -> str:
    key, _, rest = line.partition("=")
    bad = data.draw(st.sampled_from([key.strip() + "x", key.strip()[:-1] or "k", "Z" + key]))
    return f"{bad} ={rest}"


def _revalue(line: str, data: st.DataObject) -> str:
    key, _, _ = line.partition("=")
    return f"{key}= {data.draw(VALUES)}"


def _broken(data: st.DataObject) -> str:
    lines = list(EXAMPLE)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(ASSIGNMENTS))
        change = data.draw(st.sampled_from(["misspell", "revalue", "drop", "repeat", "junk"]))
        if change == "misspell":
            lines[where] = _misspell(lines[where], data)
        elif change == "revalue":
            lines[where] = _revalue(lines[where], data)
        elif change == "drop":
            lines[where] = ""
        elif change == "repeat":
            lines[where] = lines[where] + "\n" + lines[where]
        else:
            lines[where] = data.draw(st.text(max_size=20))
    return "\n".join(lines) + "\n"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_broken_config_is_refused_with_lines_never_a_traceback(
    tmp_path: Path, data: st.DataObject
) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text(_broken(data), encoding="utf-8")
    problems: list[str] = []
    try:
        load_config(path)
    except ConfigError as error:  # anything else raised would show as a traceback
        problems = error.problems or ["(no problem listed)"]
    assert all(problem.startswith(str(path)) for problem in problems), problems


def test_a_misspelt_key_in_a_table_of_tables_gets_a_suggestion(tmp_path: Path) -> None:
    text = "\n".join(EXAMPLE).replace('respond_within = "4h"', 'respond_witin = "4h"')
    assert tomllib.loads(text)  # still TOML
    path = tmp_path / "handoff.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert any("did you mean `respond_within`?" in p for p in refused.value.problems)

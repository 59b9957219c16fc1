"""`--log-format json`: every record one JSON object a log collector can read."""

from __future__ import annotations

import json
import logging
import sys

from bot.runtime.logs import JsonLines


def test_a_record_is_one_json_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "bot.x", logging.ERROR, __file__, 1, "failed on %s", ("lead 7",), sys.exc_info()
        )
    line = JsonLines().format(record)
    assert "\n" not in line  # one line, the traceback escaped inside it
    parsed = json.loads(line)
    assert (parsed["level"], parsed["logger"], parsed["message"]) == (
        "ERROR",
        "bot.x",
        "failed on lead 7",
    )
    assert parsed["time"].endswith("+00:00")
    assert "ValueError: boom" in parsed["traceback"]

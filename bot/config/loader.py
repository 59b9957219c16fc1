"""The config file: found, read, validated, with clear errors.

Every problem is reported as `FILE:LINE: key.path: what is wrong`, all problems at once,
so one run of `handoff check-config` shows everything to fix.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from bot.config.models import HandoffConfig, TeamConfig
from bot.config.tomllines import dotted, index_lines, line_of
from scoring.rules import ScoringRules

DEFAULT_PATH = Path("handoff.toml")
ENV_VAR = "HANDOFF_CONFIG"


class ConfigError(Exception):
    """A config file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Config:
    """A validated config file and where it came from."""

    path: Path
    settings: HandoffConfig

    @property
    def scoring(self) -> ScoringRules:
        """Gets the [scoring] section, or fails with a message saying it is needed."""
        if self.settings.scoring is None:
            raise ConfigError([f"{self.path}: this command needs a [scoring] section"])
        return self.settings.scoring

    @property
    def team(self) -> TeamConfig:
        """Gets the [team] section, or fails with a message saying it is needed."""
        if self.settings.team is None:
            raise ConfigError(
                [
                    f"{self.path}: this command needs a [team] section (the channel for lead "
                    "cards and the [[team.reps]]; see handoff.example.toml)"
                ]
            )
        return self.settings.team


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Gets the config file's path: `--config`, else $HANDOFF_CONFIG, else ./handoff.toml."""
    if explicit:
        return _existing(Path(explicit), "--config")
    if os.environ.get(ENV_VAR):
        return _existing(Path(os.environ[ENV_VAR]), f"${ENV_VAR}")
    if DEFAULT_PATH.is_file():
        return DEFAULT_PATH
    raise ConfigError(
        [
            "no config file: pass --config FILE, set HANDOFF_CONFIG, or create ./handoff.toml "
            "(handoff.example.toml is a documented starting point)"
        ]
    )


def _existing(path: Path, origin: str) -> Path:
    if not path.is_file():
        raise ConfigError([f"{path}: no such file (from {origin})"])
    return path


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Finds, reads and validates the config file."""
    path = find_config(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    settings = parse_config(text, path)
    if settings.scoring is not None and settings.scoring.shadow:
        settings.scoring.with_shadow(_shadow_rules(path, settings.scoring.shadow))
    return Config(path=path, settings=settings)


def _shadow_rules(path: Path, shadow: str) -> ScoringRules:
    """Reads the [scoring] of the file `scoring.shadow` names (relative to the config)."""
    found = (path.parent / shadow).resolve()
    where = (
        f"{path}:{line_of(index_lines(path.read_text(encoding='utf-8')), ('scoring', 'shadow'))}"
    )
    try:
        text = found.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [f"{where}: scoring.shadow: cannot read {found}: {exc.strerror or exc}"]
        ) from None
    shadow_settings = parse_config(text, found)
    if shadow_settings.scoring is None:
        raise ConfigError([f"{where}: scoring.shadow: {found} has no [scoring] section"])
    if shadow_settings.scoring.shadow:
        raise ConfigError([f"{found}: scoring.shadow: a shadow rule set cannot have a shadow"])
    return shadow_settings.scoring


def parse_config(text: str, path: Path) -> HandoffConfig:
    """Parses and validates config text; `path` is only used in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_toml_problem(path, exc)]) from None
    try:
        return HandoffConfig.model_validate(data)
    except ValidationError as exc:
        lines = index_lines(text)
        raise ConfigError([_problem(path, lines, error) for error in exc.errors()]) from None


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    # tomllib ends its messages with "(at line L, column C)"; lift the line to the front.
    message = str(exc)
    marker = message.rfind("(at line ")
    if marker >= 0:
        position = message[marker + len("(at line ") :].rstrip(")")
        line, _, column = position.partition(",")
        where = f" ({column.strip()})" if column else ""
        return f"{path}:{line.strip()}: not valid TOML: {message[:marker].strip()}{where}"
    return f"{path}: not valid TOML: {message}"


def _problem(path: Path, lines: dict[tuple[str | int, ...], int], error: Any) -> str:
    loc = [part for part in error["loc"] if not _is_union_tag(part)]
    line = line_of(lines, loc)
    where = f"{path}:{line}" if line else str(path)
    key = dotted(loc) or "(top level)"
    return f"{where}: {key}: {_message(error, loc)}"


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the member type of a union in the location (`scoring.fit[0].equals.str`);
    # the admin only needs the key.
    return isinstance(part, str) and part in {"str", "int", "float", "bool", "list[str]"}


def _message(error: Any, loc: list[Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc)
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind not in ("value_error", "assertion_error") and "input" in error:
        message += f" (got {error['input']!r})"
    return message


def _suggestion(loc: list[Any]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    known = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"{hint} (known keys here: {', '.join(known)})"


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    """Gets the model class that validates the table at a key path, if one does (a key of
    a table of tables, like `sql` in `[sla.tiers.sql]`, is stepped over)."""
    model: Any = HandoffConfig
    keyed = False  # the part before named a table of tables: this part is one of its keys
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        fields = model.model_fields
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return None
        keyed = _is_table_of_tables(field.annotation)
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _is_table_of_tables(annotation: Any) -> bool:
    """Tells whether a field is a dict (`X | None` unwrapped), whose keys are names."""
    if get_origin(annotation) is dict:
        return True
    return any(get_origin(arg) is dict for arg in getattr(annotation, "__args__", ()) or ())


def _inner_model(annotation: Any) -> Any:
    """Unwraps `X | None` and `list[X]` down to X."""
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None

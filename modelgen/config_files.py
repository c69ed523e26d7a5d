"""Dataclass configs from a JSON file plus command-line overrides, validated on construction.

A config class validates itself in ``__post_init__``, so a bad combination (4-bit and 8-bit
together, an unknown preset) is a ``ValueError`` before any model loads. Nested dataclass
fields (``TrainConfig.lora``) are filled from nested JSON objects.
"""

import dataclasses
import json
from pathlib import Path


def config_from_dict(cls, values, *, source="config"):
    """Build ``cls`` from a dict, refusing unknown keys and filling nested dataclasses."""
    known = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{source}: unknown settings {unknown}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        field_type = known[name].type
        if dataclasses.is_dataclass(field_type) and isinstance(value, dict):
            value = config_from_dict(field_type, value, source=f"{source}.{name}")
        kwargs[name] = value
    return cls(**kwargs)


def load_config(cls, config_file=None, overrides=None):
    """``cls`` from ``config_file`` (JSON) with ``overrides`` (None values skipped) on top.

    An override ``"lora.r": 16`` (dotted) sets a nested field.
    """
    values = {}
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ValueError(f"config file {path} not found")
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a JSON object of settings")
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        head, _, tail = key.partition(".")
        if tail:
            values.setdefault(head, {})
            if dataclasses.is_dataclass(values[head]):
                values[head] = dataclasses.asdict(values[head])
            values[head][tail] = value
        else:
            values[key] = value
    return config_from_dict(cls, values, source=str(config_file or "settings"))


def config_to_dict(config):
    """A JSON-ready dict of a config (paths as strings)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))

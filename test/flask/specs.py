"""Typed specs of Python values, shared by the oracle and the test app (see oracle.py's docstring).

  ["none"] ["bool", b] ["int", "123"] ["float", "1.5" | "nan" | "inf" | "-inf"] ["str", s]
  ["bytes", hex] ["list", [spec...]] ["tuple", [spec...]] ["dict", [[key, spec]...]]
  ["markup", html] ["uuid", hex32] ["datetime", isoformat]
"""
import uuid
from datetime import datetime

from markupsafe import Markup


def build(spec):
    kind = spec[0]
    if kind == "none":
        return None
    if kind == "bool":
        return bool(spec[1])
    if kind == "int":
        return int(spec[1])
    if kind == "float":
        return float(spec[1])
    if kind == "str":
        return spec[1]
    if kind == "bytes":
        return bytes.fromhex(spec[1])
    if kind == "list":
        return [build(x) for x in spec[1]]
    if kind == "tuple":
        return tuple(build(x) for x in spec[1])
    if kind == "dict":
        return {k: build(v) for k, v in spec[1]}
    if kind == "markup":
        return Markup(spec[1])
    if kind == "uuid":
        return uuid.UUID(spec[1])
    if kind == "datetime":
        return datetime.fromisoformat(spec[1])
    raise ValueError(f"unknown spec {kind!r}")


def describe(value):
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Markup):
        return ["markup", str(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, tuple):
        return ["tuple", [describe(x) for x in value]]
    if isinstance(value, list):
        return ["list", [describe(x) for x in value]]
    if isinstance(value, dict):
        return ["dict", [[k if isinstance(k, str) else repr(k), describe(v)] for k, v in value.items()]]
    if isinstance(value, uuid.UUID):
        return ["uuid", value.hex]
    if isinstance(value, datetime):
        return ["datetime", value.isoformat()]
    return ["unknown", type(value).__name__, repr(value)]

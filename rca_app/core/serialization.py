"""Typed records to JSON and back, checked against their own type hints.

Results and investigation files are dataclasses end to end; this module is the one place that
turns them into JSON-ready data and reads them back. Reading is a validation: every key must be
known, every value of the declared type and inside its bounds, and *every* problem is reported
with its path (``root_causes[2].restoration_ci[0]``), not only the first. The same type walk
writes a JSON Schema, so other programs (a plant's data platform) can read our files too.

Conventions
-----------
- A number that is missing or undefined (NaN, an interval with no successful refit) is written
  as ``null`` (strict JSON has no NaN) and read back as NaN where the field is a plain ``float``.
- Bounds live in the field's metadata: ``field(default=20, metadata={"min": 0, "max": 1000})``.
- Tuples are written as lists; mapping keys are strings.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
import math
import types
import typing
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, Literal, Union

import numpy as np


class SchemaError(ValueError):
    """Data that does not fit its declared type; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str], what: str = "data"):
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the {what}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


# ------------------------------------------------------------------------------------ writing
def to_json_data(obj: Any) -> Any:
    """JSON-ready data (dict, list, str, int, float, bool, None) for a record.

    Dataclasses become dicts in field order; tuples, sets and arrays lists; numpy scalars Python
    numbers; paths strings; non-finite floats ``None``.

    Parameters
    ----------
    obj : Any
        A record (dataclass), container or scalar.

    Returns
    -------
    Any
        Plain data that ``json.dumps(..., allow_nan=False)`` accepts.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_json_data(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [to_json_data(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [to_json_data(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_json_data(v) for v in sorted(obj, key=str)]
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (datetime.datetime, datetime.date)):     # pandas Timestamps too
        return obj.isoformat()
    raise TypeError(f"cannot store {type(obj).__name__} as JSON")


# ------------------------------------------------------------------------------------ reading
_NONE = type(None)


def _is_union(tp) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _describe(tp) -> str:
    if tp is _NONE:
        return "null"
    if dataclasses.is_dataclass(tp):
        return "an object"
    origin = typing.get_origin(tp)
    if _is_union(tp):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin is dict:
        return "an object"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    return {float: "a number", int: "a whole number", str: "text", bool: "true or false"}.get(tp, str(tp))


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, msg: str) -> None:
        self.problems.append(f"{path or 'top level'}: {msg}")

    def read(self, tp, data, path: str, meta: typing.Mapping | None = None):
        if tp is Any:
            return data
        if _is_union(tp):
            args = typing.get_args(tp)
            if data is None and _NONE in args:
                return None
            others = [a for a in args if a is not _NONE]
            if len(others) == 1:            # X | None: X's own problems, with their paths
                return self.read(others[0], data, path, meta)
            for a in args:
                if a is _NONE:
                    continue
                probe = _Reader()
                value = probe.read(a, data, path, meta)
                if not probe.problems:
                    return value
            self.fail(path, f"expected {_describe(tp)}, found {_found(data)}")
            return None
        origin = typing.get_origin(tp)
        if origin is Literal:
            if data not in typing.get_args(tp):
                self.fail(path, f"expected {_describe(tp)}, found {_found(data)}")
            return data
        if dataclasses.is_dataclass(tp):
            return self.record(tp, data, path)
        if origin is list or tp is list:
            (item,) = typing.get_args(tp) or (Any,)
            if not isinstance(data, list):
                self.fail(path, f"expected a list, found {_found(data)}")
                return []
            return [self.read(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
        if origin is tuple:
            args = typing.get_args(tp)
            if not isinstance(data, list):
                self.fail(path, f"expected a list, found {_found(data)}")
                return ()
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(self.read(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
            if len(data) != len(args):
                self.fail(path, f"expected {len(args)} values, found {len(data)}")
                return ()
            return tuple(self.read(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
        if origin is dict or tp is dict:
            _, val = typing.get_args(tp) or (str, Any)
            if not isinstance(data, dict):
                self.fail(path, f"expected an object, found {_found(data)}")
                return {}
            return {k: self.read(val, v, f"{path}.{k}") for k, v in data.items()}
        return self.scalar(tp, data, path, meta or {})

    def scalar(self, tp, data, path, meta):
        if tp is float:
            if data is None:
                return float("nan")       # written from NaN: a number that is not defined
            if isinstance(data, bool) or not isinstance(data, (int, float)):
                self.fail(path, f"expected a number, found {_found(data)}")
                return float("nan")
            value = float(data)
        elif tp is int:
            if isinstance(data, bool) or not isinstance(data, int):
                if isinstance(data, float) and data.is_integer():
                    data = int(data)
                else:
                    self.fail(path, f"expected a whole number, found {_found(data)}")
                    return 0
            value = data
        elif tp is bool:
            if not isinstance(data, bool):
                self.fail(path, f"expected true or false, found {_found(data)}")
                return False
            return data
        elif tp is str:
            if not isinstance(data, str):
                self.fail(path, f"expected text, found {_found(data)}")
                return ""
            if "max_length" in meta and len(data) > meta["max_length"]:
                self.fail(path, f"text longer than {meta['max_length']} characters")
            return data
        else:
            raise TypeError(f"{path}: no reader for {tp!r}")
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.fail(path, f"{value!r} is outside {lo} to {hi}")
        return value

    def record(self, cls, data, path):
        before = len(self.problems)
        if not isinstance(data, dict):
            self.fail(path, f"expected an object, found {_found(data)}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - set(fields))
        for k in unknown:
            self.fail(_join(path, k), "unknown key")
        kwargs = {}
        for name, f in fields.items():
            if name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.fail(_join(path, name), "missing")
                continue
            kwargs[name] = self.read(hints[name], data[name], _join(path, name), f.metadata)
        if len(self.problems) > before:
            # The problems are reported; a record that cannot be built is None, never half made.
            try:
                return cls(**kwargs)
            except Exception:  # noqa: BLE001 - the problems above already say what is wrong
                return None
        return cls(**kwargs)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _found(data) -> str:
    if data is None:
        return "null"
    if isinstance(data, bool):
        return str(data).lower()
    if isinstance(data, (int, float)):
        return repr(data)
    if isinstance(data, str):
        return repr(data if len(data) <= 40 else data[:37] + "...")
    if isinstance(data, list):
        return f"a list of {len(data)}"
    if isinstance(data, dict):
        return "an object"
    return type(data).__name__


def from_json_data(cls: type, data: Any, what: str = "data"):
    """Build ``cls`` (a dataclass) from JSON data, checking every key, type and bound.

    Parameters
    ----------
    cls : type
        The record type to build.
    data : Any
        Parsed JSON.
    what : str
        What the data is, for the error message ("investigation file case.rcainv").

    Returns
    -------
    cls instance

    Raises
    ------
    SchemaError
        Listing every problem with its path.
    """
    reader = _Reader()
    value = reader.record(cls, data, "")
    if reader.problems:
        raise SchemaError(reader.problems, what)
    return value


# ------------------------------------------------------------------------------------ versions
Migration = Callable[[dict], dict]


class MigrationError(ValueError):
    """Data of a version that cannot be brought to the current one; ``kind`` says why:
    "no_version", "bad_version", "newer", "missing_step" or "failed"."""

    def __init__(self, kind: str, message: str, version: int | None = None, detail: str = ""):
        super().__init__(message)
        self.kind, self.version, self.detail = kind, version, detail


def register_migration(registry: dict[int, Migration], from_version: int) -> Callable[[Migration], Migration]:
    """A decorator registering the upgrade of ``from_version`` data to ``from_version + 1``.

    Parameters
    ----------
    registry : dict of int to callable
        Migrations of one file kind (results, investigations), by the version they read.
    from_version : int
        The version the decorated ``dict -> dict`` function reads.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    ValueError
        (When decorating) if a migration from that version is already registered.
    """
    def register(fn: Migration) -> Migration:
        if from_version in registry:
            raise ValueError(f"a migration from version {from_version} is already registered")
        registry[from_version] = fn
        return fn
    return register


def upgrade(registry: dict[int, Migration], data: dict, current: int) -> dict:
    """``data`` (with its ``schema_version``) brought to version ``current`` step by step.

    Works on a deep copy: a failed step leaves nothing half-converted.

    Parameters
    ----------
    registry : dict of int to callable
        Migrations by the version they read (see :func:`register_migration`).
    data : dict
        The data, with an integer ``schema_version``.
    current : int
        The version this rca_app writes.

    Returns
    -------
    dict
        The data at version ``current``.

    Raises
    ------
    MigrationError
        Saying why (no or a bad version, a newer version, a missing or failing step).
    """
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, bool) or not isinstance(version, int):
        raise MigrationError("no_version", "no valid 'schema_version'")
    if version > current:
        raise MigrationError("newer", f"format version {version} is newer than this rca_app reads ({current})",
                             version)
    if version < 1:
        raise MigrationError("bad_version", f"unknown format version {version}", version)
    data = copy.deepcopy(data)
    while version < current:
        step = registry.get(version)
        if step is None:
            raise MigrationError("missing_step", f"no way to read format version {version}", version)
        try:
            data = step(data)
        except (KeyError, TypeError, ValueError) as e:
            raise MigrationError("failed", f"format version {version} could not be converted to version "
                                 f"{version + 1}: {e}", version, str(e)) from None
        version += 1
        data["schema_version"] = version
    return data


# ------------------------------------------------------------------------------------ schema
def json_schema(cls: type, title: str | None = None) -> dict:
    """A JSON Schema (draft 2020-12) for ``cls``, from the same type hints the reader checks.

    Every record type becomes one entry of ``$defs``; NaN-able numbers allow ``null``.

    Parameters
    ----------
    cls : type
        The top-level dataclass, e.g. :class:`AnalysisResult`.
    title : str, optional
        The schema's ``title``.

    Returns
    -------
    dict
        The schema document.
    """
    defs: dict[str, dict] = {}

    def schema(tp, meta=None) -> dict:
        meta = meta or {}
        if tp is Any:
            return {}
        if _is_union(tp):
            return {"anyOf": [schema(a, meta) for a in typing.get_args(tp)]}
        if tp is _NONE:
            return {"type": "null"}
        origin = typing.get_origin(tp)
        if origin is Literal:
            return {"enum": list(typing.get_args(tp))}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            name = tp.__name__
            if name not in defs:
                defs[name] = {}          # placeholder: recursive records refer to themselves
                hints = typing.get_type_hints(tp)
                fields = [f for f in dataclasses.fields(tp) if f.init]
                props = {f.name: schema(hints[f.name], f.metadata) for f in fields}
                for f in fields:
                    if f.metadata.get("doc"):
                        props[f.name] = {**props[f.name], "description": f.metadata["doc"]}
                required = [f.name for f in fields
                            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
                doc = (tp.__doc__ or "").strip().split("\n\n")[0]
                defs[name] = {"type": "object", "properties": props, "required": required,
                              "additionalProperties": False, **({"description": doc} if doc else {})}
            return {"$ref": f"#/$defs/{name}"}
        if origin in (list, tuple) or tp in (list, tuple):
            args = typing.get_args(tp)
            if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
                return {"type": "array", "prefixItems": [schema(a) for a in args],
                        "minItems": len(args), "maxItems": len(args)}
            return {"type": "array", "items": schema(args[0]) if args else {}}
        if origin is dict or tp is dict:
            args = typing.get_args(tp)
            return {"type": "object", "additionalProperties": schema(args[1]) if args else {}}
        scalars: dict[Any, dict] = {float: {"type": ["number", "null"]}, int: {"type": "integer"},
                                    str: {"type": "string"}, bool: {"type": "boolean"}}
        out = dict(scalars[tp])
        if "min" in meta:
            out["minimum"] = meta["min"]
        if "max" in meta:
            out["maximum"] = meta["max"]
        if "max_length" in meta:
            out["maxLength"] = meta["max_length"]
        return out

    root = schema(cls)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title or cls.__name__,
            **root, "$defs": defs}

"""The recorded flyctl output shapes (flyctl_shapes.json): load them, check a value against one, and
make strict sample values that fail loudly when a parser reads a field the record does not have.

The notation is described in the record's "about" lines.
"""

import json
from pathlib import Path

RECORD_PATH = Path(__file__).resolve().parent / "flyctl_shapes.json"
SCALARS = {"string": str, "number": (int, float), "boolean": bool}


def record() -> dict:
    return json.loads(RECORD_PATH.read_text())


def shape_of(command: str) -> object:
    return record()["json_output"][command]["shape"]


def mismatches(value: object, shape: object, path: str = "$") -> list[str]:
    """Every way `value` differs from `shape`, as "path: what" lines (empty: it conforms)."""
    if shape == "any":
        return []
    if isinstance(shape, str):
        kinds = shape.split("|")
        if value is None:
            return [] if "null" in kinds else [f"{path}: null where the record says {shape}"]
        for kind in kinds:
            python_type = SCALARS.get(kind)
            if python_type and isinstance(value, python_type):
                if kind == "number" and isinstance(value, bool):
                    continue
                return []
        return [f"{path}: {type(value).__name__} {value!r:.60} where the record says {shape}"]
    if isinstance(shape, list):
        element, nullable = shape[0], "|null" in shape[1:]
        if value is None:
            return [] if nullable else [f"{path}: null where the record says an array"]
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where the record says an array"]
        problems = []
        for index, item in enumerate(value):
            problems += mismatches(item, element, f"{path}[{index}]")
        return problems
    if "{}" in shape:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where the record says a map"]
        problems = []
        for key, item in value.items():
            problems += mismatches(item, shape["{}"], f"{path}.{key}")
        return problems
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} where the record says an object"]
    fields = object_fields(shape)
    problems = []
    for key, item in value.items():
        if key not in fields:
            problems.append(f"{path}: field {key!r} is not in the record")
        else:
            problems += mismatches(item, fields[key][0], f"{path}.{key}")
    for key, (_, optional) in fields.items():
        if not optional and key not in value:
            problems.append(f"{path}: field {key!r} is always printed, but is missing")
    return problems


def object_fields(shape: dict) -> dict[str, tuple[object, bool]]:
    """field name -> (shape, optional) for an object shape."""
    fields = {}
    for key, item in shape.items():
        if key == "...":
            continue
        name, optional = (key[:-1], True) if key.endswith("?") else (key, False)
        fields[name] = (item, optional)
    return fields


class UnrecordedField(AssertionError):
    """A parser read a field that flyctl's recorded output does not have."""


class StrictObject(dict):
    """A JSON object that raises when code asks for a field the record does not list."""

    def __init__(self, values: dict, recorded: set[str], path: str):
        super().__init__(values)
        self._recorded = recorded
        self._path = path

    def _check(self, key):
        if key not in self._recorded:
            raise UnrecordedField(f"{self._path}: read field {key!r}, which flyctl does not print")

    def __getitem__(self, key):
        self._check(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._check(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._check(key)
        return super().__contains__(key)


class Opaque:
    """A value the record does not describe inside: any use but passing it on is an error."""

    def __init__(self, path: str):
        self._path = path

    def _refuse(self, *args, **kwargs):
        raise UnrecordedField(f"{self._path}: looked inside a value the record leaves unrecorded")

    __getitem__ = get = __contains__ = __iter__ = __len__ = __str__ = keys = items = _refuse


def sample(shape: object, path: str = "$", optional_present: bool = True, text: str = "x"):
    """A value of `shape`: strict objects, one element per array, opaque where unrecorded."""
    if shape == "any":
        return Opaque(path)
    if isinstance(shape, str):
        kind = shape.split("|")[0]
        return {"string": text, "number": 1, "boolean": True}[kind]
    if isinstance(shape, list):
        return [sample(shape[0], f"{path}[0]", optional_present, text)]
    if "{}" in shape:
        return {"key": sample(shape["{}"], f"{path}.key", optional_present, text)}
    fields = object_fields(shape)
    values = {
        name: sample(item, f"{path}.{name}", optional_present, text)
        for name, (item, optional) in fields.items()
        if optional_present or not optional
    }
    return StrictObject(values, set(fields), path)

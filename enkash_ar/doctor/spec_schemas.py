"""Validating answers against spec/openapi.yaml with jsonschema (OpenAPI 3.1 schemas are JSON Schema).

The spec is our reconstruction of the contract; ``x-inferred`` marks its guesses. A problem is
described by where it is and which rule it breaks, never by the value found there: an answer may hold
a token or a customer's data.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_URI: Final = "urn:enkash-ar:openapi"
_METHODS: Final = ("get", "post", "put", "patch", "delete")


def spec_path() -> Path:
    """Where the spec is: inside the installed package, else spec/openapi.yaml of the repository."""
    packaged = resources.files("enkash_ar") / "spec" / "openapi.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"


@cache
def load_spec() -> dict[str, Any]:
    """The contract, parsed (once per process)."""
    spec: dict[str, Any] = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    return spec


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SpecAnswers:
    """The response schemas of the spec, by operationId and HTTP status."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = spec if spec is not None else load_spec()
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self._operations: dict[str, tuple[str, str]] = {
            op["operationId"]: (path, method)
            for path, item in self.spec.get("paths", {}).items()
            for method, op in item.items()
            if method in _METHODS and isinstance(op, dict) and "operationId" in op
        }

    def operation_ids(self) -> set[str]:
        """Every operationId of the spec."""
        return set(self._operations)

    def _schema_pointer(self, operation_id: str, status: int) -> str | None:
        path, method = self._operations[operation_id]
        responses = self.spec["paths"][path][method].get("responses", {})
        key = str(status) if str(status) in responses else "default" if "default" in responses else None
        if key is None:
            return None
        pointer = f"/paths/{_escape(path)}/{method}/responses/{key}"
        response = responses[key]
        if "$ref" in response:  # a shared response (#/components/responses/...)
            pointer = response["$ref"].removeprefix("#")
            response = self._resolve(pointer)
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        return None if schema is None else f"{pointer}/content/application~1json/schema"

    def _resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self.spec
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return dict(node)

    def problems(self, operation_id: str, status: int, body: Any) -> list[str] | None:
        """What in ``body`` breaks the spec's schema for this answer; None when the spec has no schema
        for that status (an undocumented status is itself worth reporting, by the caller)."""
        if operation_id not in self._operations:
            return None
        pointer = self._schema_pointer(operation_id, status)
        if pointer is None:
            return None
        validator = Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=self._registry)
        found = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        return [_describe(e) for e in found]


def _describe(error: Any) -> str:
    rule = error.validator
    if rule in ("required", "additionalProperties"):
        # These messages name members, not values.
        return f"{error.json_path}: {error.message}"
    wanted = error.validator_value
    text = "(schema)" if isinstance(wanted, dict) else repr(wanted)[:80]
    return f"{error.json_path}: must satisfy {rule} {text}"

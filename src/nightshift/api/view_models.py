"""Response models derived from the services' frozen views.

A view (``services/*.py``) is the one place a response's fields are declared; its
API model is built from it here, so a new view field reaches the API without
being copied into a schema by hand. Routes return the view itself and name the
derived model as ``response_model``: the model reads the view's attributes
(``from_attributes``).

On the way, every ``datetime`` becomes :data:`~nightshift.api.timestamps.Timestamp`
(responses always carry an offset) and every ``Mapping`` a ``dict`` (a JSON object).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from nightshift.api.timestamps import Timestamp

# A field spelled out for the API where the view's own does not fit: (type, default),
# with ``...`` as the default for a required field.
Override = tuple[Any, Any]


def view_model(
    view: type[Any],
    name: str,
    *,
    module: str,
    hide: Collection[str] = (),
    fields: Mapping[str, Override] | None = None,
    validators: Mapping[str, Any] | None = None,
    doc: str | None = None,
) -> type[BaseModel]:
    """The pydantic model ``name`` with the fields of the dataclass ``view``.

    ``hide`` leaves view fields out of the response; ``fields`` replaces a view
    field's type or default, or adds a field the view does not have (appended,
    in the order given); ``validators`` are pydantic validators by name
    (``field_validator(...)(function)``). Each caller says why it hides or overrides.
    """
    if not dataclasses.is_dataclass(view):
        raise TypeError(f"{view!r} is not a dataclass")
    overrides = dict(fields or {})
    unknown = set(hide) - {f.name for f in dataclasses.fields(view)}
    if unknown:
        raise ValueError(f"{view.__name__} has no field(s) {sorted(unknown)} to hide")
    hints = typing.get_type_hints(view)
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(view):
        if f.name in hide:
            continue
        spec[f.name] = overrides.pop(f.name, None) or (_api_type(hints[f.name]), _default(f))
    spec.update(overrides)  # fields the API adds to the view
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(from_attributes=True),
        __doc__=doc,
        __module__=module,
        __validators__=dict(validators or {}),
        **spec,
    )
    return model


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return ...


def _api_type(tp: Any) -> Any:
    """``tp`` with each ``datetime`` as ``Timestamp`` and each ``Mapping`` as ``dict``."""
    if tp is datetime:
        return Timestamp
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if not args or origin is typing.Annotated or origin is typing.Literal:
        return tp
    mapped = tuple(_api_type(a) for a in args)
    if origin is types.UnionType or origin is typing.Union:
        return functools.reduce(operator.or_, mapped)
    return (dict if origin is Mapping else origin)[mapped]


def many(model: type[BaseModel]) -> Any:
    """``list[model]``, spelled so that mypy accepts it for a derived model (to mypy a
    model built at run time is a value, not a type)."""
    return list.__class_getitem__(model)

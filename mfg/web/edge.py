"""Every request's input held to the edge rules of ``mfg.edge`` before any handler reads it:
query and path parameters, page forms and JSON bodies, in one dependency of the application."""

import json
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from mfg.edge import check_form_field, check_json, check_parameter, check_text

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_hostile_input(request: Request) -> None:
    """Rule: no request reaches a handler with a control character, an integer beyond 64 bits
    or a time outside the plausible years, in any field; refused 422 naming the field."""
    integers = _integer_parameters(request.scope.get("route"))
    for name, value in request.path_params.items():
        check_parameter(name, str(value), integer=name in integers)
    for name, value in request.query_params.multi_items():
        check_text(name, name, multiline=False)
        check_parameter(name, value, integer=name in integers)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORMS):
        form = await request.form()  # cached on the request: the handler reads the same form
        for name, value in form.multi_items():
            if isinstance(value, str):
                check_form_field(name, value)
    elif content_type.split(";")[0].strip() == "application/json":
        body = await request.body()  # cached on the request, as FastAPI reads it
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return  # malformed JSON: FastAPI's own validation answers it
        check_json(data)


def _integer_parameters(route: Any) -> frozenset[str]:
    """The names of a route's integer path and query parameters (its dependencies' included);
    a short walk, cheaper than a cache keyed by a route (routes are not hashable)."""
    dependant: Dependant | None = getattr(route, "dependant", None)
    names: set[str] = set()
    pending = [dependant] if dependant else []
    while pending:
        current = pending.pop()
        for field in [*current.path_params, *current.query_params]:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                # a query model (``Annotated[SomeIn, Query()]``): its fields are the parameters
                names.update(
                    info.alias or name
                    for name, info in annotation.model_fields.items()
                    if _is_integer(info.annotation)
                )
            elif _is_integer(annotation):
                names.add(field.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


def _is_integer(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_integer(arg) for arg in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, int)

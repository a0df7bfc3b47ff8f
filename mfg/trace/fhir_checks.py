"""What an exported FHIR Bundle must satisfy beyond its structure: every code from the R5 value
set its element uses, and every reference resolving to an entry of the Bundle.

``fhir.resources`` validates structure and datatypes but accepts any code
(docs/fhir.md#checking-codes), so the value sets of the elements the export fills are listed here,
from FHIR R5 (5.0.0).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhir.resources.bundle import Bundle
from pydantic import ValidationError

from mfg.errors import MfgError

UCUM = "http://unitsofmeasure.org"
PRODUCT_CATEGORY = "http://hl7.org/fhir/product-category"
PRODUCT_STATUS = "http://hl7.org/fhir/biologicallyderived-product-status"
SECURITY_OBSERVATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

# element -> the codes of its R5 value set (a bare code, or a (system, code) for a Coding)
VALUE_SETS: dict[str, frozenset[Any]] = {
    # http://hl7.org/fhir/ValueSet/bundle-type (required)
    "Bundle.type": frozenset(
        {
            "document",
            "message",
            "transaction",
            "transaction-response",
            "batch",
            "batch-response",
            "history",
            "searchset",
            "collection",
            "subscription-notification",
        }
    ),
    # http://hl7.org/fhir/ValueSet/identifier-use (required)
    "Identifier.use": frozenset({"usual", "official", "temp", "secondary", "old"}),
    # http://hl7.org/fhir/ValueSet/product-category
    "BiologicallyDerivedProduct.productCategory": frozenset(
        (PRODUCT_CATEGORY, code)
        for code in ("organ", "tissue", "fluid", "cells", "biologicalAgent")
    ),
    # http://hl7.org/fhir/ValueSet/biologicallyderived-product-status
    "BiologicallyDerivedProduct.productStatus": frozenset(
        {(PRODUCT_STATUS, "available"), (PRODUCT_STATUS, "unavailable")}
    ),
    # http://hl7.org/fhir/ValueSet/biologicallyderivedproductdispense-status (required)
    "BiologicallyDerivedProductDispense.status": frozenset(
        {
            "preparation",
            "in-progress",
            "allocated",
            "issued",
            "unfulfilled",
            "returned",
            "entered-in-error",
            "unknown",
        }
    ),
    # http://hl7.org/fhir/ValueSet/event-status (required)
    "Procedure.status": frozenset(
        {
            "preparation",
            "in-progress",
            "not-done",
            "on-hold",
            "stopped",
            "completed",
            "entered-in-error",
            "unknown",
        }
    ),
    # http://hl7.org/fhir/ValueSet/administrative-gender (required)
    "Patient.gender": frozenset({"male", "female", "other", "unknown"}),
    # http://hl7.org/fhir/ValueSet/security-labels: the de-identification label used here
    "Meta.security": frozenset({(SECURITY_OBSERVATION, "PSEUDED")}),
    # UCUM units the export writes (http://hl7.org/fhir/ValueSet/ucum-units)
    "Quantity.code": frozenset({"Cel", "mL", "%", "{cells}", "{cells}/mL", "h", "1"}),
}


class FhirExportError(MfgError):
    """An exported Bundle broke a rule of FHIR R5 the library does not check."""

    code = "fhir_invalid"
    status_code = 500


def _values(node: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _values(item, path)
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _values(node[path[0]], path[1:])


def _coded(value: Any) -> Any:
    if isinstance(value, dict):
        return (value.get("system"), value.get("code"))
    return value


def _walk(node: Any) -> Iterator[tuple[str, dict]]:
    """Every object in the tree, with the key it sits under."""
    stack: list[tuple[str, Any]] = [("", node)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            yield key, item
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, child) for child in item)


def code_problems(bundle: dict) -> list[str]:
    """Every code of the Bundle outside the value set of its element."""
    problems = []
    if bundle.get("type") not in VALUE_SETS["Bundle.type"]:
        problems.append(f"Bundle.type {bundle.get('type')!r}")
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType", "")
        for element, allowed in VALUE_SETS.items():
            owner, _, path = element.partition(".")
            if owner != kind:
                continue
            for value in _values(resource, path.split(".")):
                if _coded(value) not in allowed:
                    problems.append(f"{kind}.{path} {_coded(value)!r}")
        for key, item in _walk(resource):
            if key == "security":
                if _coded(item) not in VALUE_SETS["Meta.security"]:
                    problems.append(f"{kind}.meta.security {_coded(item)!r}")
            elif key == "identifier" and "use" in item:
                if item["use"] not in VALUE_SETS["Identifier.use"]:
                    problems.append(f"{kind} identifier use {item['use']!r}")
            elif item.get("system") == UCUM and item.get("code") not in VALUE_SETS["Quantity.code"]:
                problems.append(f"{kind} unit {item.get('code')!r}")
    return problems


def unresolved_references(bundle: dict) -> list[str]:
    """References that name no entry of the Bundle (every reference here is internal)."""
    full_urls = {entry.get("fullUrl") for entry in bundle.get("entry", [])}
    return sorted(
        {
            item["reference"]
            for _, item in _walk(bundle.get("entry", []))
            if isinstance(item.get("reference"), str) and item["reference"] not in full_urls
        }
    )


def checked(bundle: dict) -> dict:
    """The Bundle, once ``fhir.resources`` validated it and its codes and references hold;
    otherwise ``FhirExportError`` naming each problem (a defect of the export, never of data)."""
    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise FhirExportError(
            "The FHIR export is not a valid R5 Bundle: %(problems)s",
            params={"problems": "; ".join(problems)},
            details={"problems": problems},
        ) from error
    problems = code_problems(bundle) + [
        f"unresolved reference {ref}" for ref in unresolved_references(bundle)
    ]
    if problems:
        raise FhirExportError(
            "The FHIR export broke its own rules: %(problems)s",
            params={"problems": "; ".join(problems)},
            details={"problems": problems},
        )
    return bundle

"""The label printing command: what a person asks of a print, read alike by the page's form and
the API's query (whose output the URL names, ``.pdf`` or ``.zpl``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_COPIES = 50
OutputFormat = Literal["pdf", "zpl"]


class PrintOptions(BaseModel):
    """How many copies, on which printer, and why a label is printed again."""

    copies: int = Field(default=1, ge=1, le=MAX_COPIES)
    printer: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=1000, description="required for a reprint")


class PrintIn(PrintOptions):
    """A print of a label: its options and its output, a PDF page or ZPL II."""

    output: OutputFormat = "pdf"

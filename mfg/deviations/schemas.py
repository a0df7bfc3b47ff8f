"""What opening a deviation takes: one model, the API's body and the page's form."""

from pydantic import BaseModel, Field


class DeviationIn(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    entity_type: str = Field(max_length=32, description="lot, culture, dose, material, …")
    entity_id: str = Field(max_length=40)
    lot: str | None = Field(default=None, max_length=13, description="the lot's DIN, if any")

"""The clinical command schemas: what a person enters, one model per use case, read alike by the
JSON API and the page forms. Where a page's form is shaped differently from the API's body (the
infusion's vital signs are one field each on the bedside page), the form's model is built from
the body's fields, so each limit is written once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from mfg.quantities import EventTime, Number, WholeNumber

WHEN = "with its offset, or on the facility's clock"


class VitalSignsIn(BaseModel):
    """The vital signs at one moment of an infusion; the service names any that is missing and
    checks each against its plausible bounds."""

    temperature_c: Number | None = None
    heart_rate: Number | None = None
    systolic_mmhg: Number | None = None
    diastolic_mmhg: Number | None = None
    respiratory_rate: Number | None = None
    spo2: Number | None = None


class VitalsIn(BaseModel):
    """The vital signs before, during and after the infusion."""

    before: VitalSignsIn = Field(default_factory=VitalSignsIn)
    during: VitalSignsIn = Field(default_factory=VitalSignsIn)
    after: VitalSignsIn = Field(default_factory=VitalSignsIn)


class InfusionRecord(BaseModel):
    """What the clinician records of an infusion besides the vital signs, signed
    "Administered" with the password."""

    started_at: EventTime = Field(description=WHEN)
    stopped_at: EventTime = Field(description=WHEN)
    volume_ml: Number = Field(description="at most the bag's volume; 12,5 or 12.5")
    complete: bool
    route: str = Field(default="intravenous", max_length=40)
    bag_inspected: bool
    reactions: str = Field(default="", max_length=2000)
    conditional_acknowledged: bool = Field(
        default=False, description="required when the lot is conditionally released"
    )
    password: str = Field(min_length=1, max_length=1024)


class InfusionIn(InfusionRecord):
    """An infusion as the API's body gives it: the vital signs nested by moment."""

    vitals: VitalsIn = Field(
        description="before, during and after: " + ", ".join(VitalSignsIn.model_fields)
    )


def _flat_vitals() -> dict:
    return {
        f"{moment}_{vital}": (field.annotation, field)
        for moment in VitalsIn.model_fields
        for vital, field in VitalSignsIn.model_fields.items()
    }


_InfusionFlat = create_model("_InfusionFlat", __base__=InfusionRecord, **_flat_vitals())


class InfusionForm(_InfusionFlat):
    """An infusion as the bedside page's form gives it: the vital signs one field each
    (``before_heart_rate``, …); a checkbox left unticked is not sent."""

    complete: bool = False
    bag_inspected: bool = False

    def command(self) -> InfusionIn:
        """The same infusion, its vital signs nested as the API gives them."""
        vitals = {
            moment: {
                vital: getattr(self, f"{moment}_{vital}") for vital in VitalSignsIn.model_fields
            }
            for moment in VitalsIn.model_fields
        }
        return InfusionIn(
            **self.model_dump(include=set(InfusionRecord.model_fields)), vitals=vitals
        )


class EnrolmentFields(BaseModel):
    """What the enrolling clinician enters of a subject, on the API and on the page alike."""

    arm: str = Field(
        default="", max_length=20, description="MSC or CONTROL; empty when the trial has a list"
    )
    sex: str = Field(pattern="^[FM]$")
    age: WholeNumber = Field(ge=0, le=130)
    weight_kg: Number = Field(description="kg, 20–300; a colleague verifies it")
    enrolled_on: date


class EnrolmentIn(EnrolmentFields):
    """A subject's enrolment as the API's body gives it: each criterion answered by its text."""

    trial: str = "NCT04382547"
    eligibility: dict[str, bool] = Field(description="each criterion of the trial, answered")


class EnrolmentForm(EnrolmentFields):
    """A subject's enrolment as the patients page's form gives it: each criterion of the trial
    answered ``yes`` or ``no`` in its own field, ``criterion_0``, ``criterion_1``, …"""

    model_config = ConfigDict(extra="allow")

    def command(self, trial: str, criteria: Sequence[str]) -> EnrolmentIn:
        """The same enrolment, each answered criterion keyed by its text."""
        given = self.model_extra or {}
        answers = {
            text: given[f"criterion_{i}"] == "yes"
            for i, text in enumerate(criteria)
            if given.get(f"criterion_{i}") in ("yes", "no")
        }
        fields = self.model_dump(include=set(EnrolmentFields.model_fields))
        return EnrolmentIn(**fields, trial=trial, eligibility=answers)


class IssueIn(BaseModel):
    """The hand-over of an allocated dose: the receiving clinician confirms it with their own
    password on the technician's device."""

    receiver_username: str = Field(max_length=64)
    receiver_password: str = Field(min_length=1, max_length=1024)
    issued_at: EventTime = Field(description=WHEN)
    transport_temp_c: Number = Field(description="°C; 12,5 or 12.5")


class SignedIn(BaseModel):
    """A clinical record signed by whoever records it: their password and a comment."""

    password: str = Field(min_length=1, max_length=1024)
    comment: str = Field(default="", max_length=1000)


class OutcomeIn(SignedIn):
    """The day-21 outcome of a patient: the PCR result and the chest-CT assessment."""

    assessed_on: date
    pcr: str = Field(max_length=10, description="negative or positive")
    ct: str = Field(max_length=12, description="improved, unchanged or worsened")


class AdverseEventIn(SignedIn):
    """An adverse event as the clinician records it, on the API and on the page alike. The
    service checks each value (a CTCAE grade 1 to 5, serious at grade 5, the dates against today
    and the enrolment), so the API and the page refuse alike, with one code and message each."""

    term: str = Field(max_length=200)
    onset: date
    resolution: date | None = Field(default=None, description="empty while ongoing")
    grade: int = Field(description="CTCAE grade, 1 to 5")
    serious: bool = Field(description="true or false; on the page yes or no")
    relation: str = Field(max_length=20, description="not related, unlikely, possible, …")
    action: str = Field(default="", max_length=500)
    outcome: str = Field(default="", max_length=200)

    @field_validator("resolution", mode="before")
    @classmethod
    def _blank_is_ongoing(cls, value: object) -> object:
        """A page's date field left blank is sent as an empty text: the event is ongoing."""
        return None if isinstance(value, str) and not value.strip() else value


class AdverseEventAmendIn(AdverseEventIn):
    """A correction of a signed adverse event: the version it was made from and its reason."""

    expected_version: int = Field(ge=1, description="the version the amendment was made from")
    reason: str = Field(max_length=1000, description="why the record is corrected")

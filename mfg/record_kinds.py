"""The record kinds a scan can name and a label can be printed for: for each, how a scan finds it
(docs/architecture.md#scanning) and how its label's data is built. Adding a record kind is a line
in each function here (and its tasks in ``mfg.worklist_tasks``).
"""

from mfg.clinical.orders import allocation_label
from mfg.clinical.patients import lookup_patient, wristband_label
from mfg.deviations.service import lookup_deviation
from mfg.donors.scan_and_label import biopsy_label, lookup_biopsy, lookup_donor
from mfg.identifiers.resolve import Resolver, din_alone
from mfg.identifiers.scan import TokenKind
from mfg.labeling.service import LabelSources
from mfg.manufacturing.scan_and_label import (
    culture_label,
    dose_label,
    lookup_culture,
    lookup_dose,
    lookup_lot,
    lookup_material,
    lookup_material_by_gs1,
    material_label,
)
from mfg.qc.samples import lookup_sample, sample_label
from mfg.users.scan import STAFF_PREFIX, badge_label, lookup_staff


def build_resolver() -> Resolver:
    resolver = Resolver()
    resolver.on_prefix(STAFF_PREFIX, lookup_staff)
    resolver.on_prefix("DN", lookup_donor)
    resolver.on_token(TokenKind.DIN, lookup_biopsy, when=din_alone)
    resolver.on_prefix("ML", lookup_material)
    resolver.on_prefix("CV", lookup_culture)
    resolver.on_token(TokenKind.DIN, lookup_lot, when=din_alone)
    resolver.on_token(TokenKind.DIN, lookup_dose)
    resolver.on_token(TokenKind.GS1, lookup_material_by_gs1)
    resolver.on_prefix("QS", lookup_sample)
    resolver.on_prefix("DV", lookup_deviation)
    resolver.on_prefix("PT", lookup_patient)
    return resolver


def build_label_sources() -> LabelSources:
    sources = LabelSources()
    sources.register("badge", badge_label)
    sources.register("biopsy", biopsy_label)
    sources.register("material", material_label)
    sources.register("culture", culture_label)
    sources.register("dose", dose_label)
    sources.register("qc-sample", sample_label)
    sources.register("wristband", wristband_label)
    sources.register("allocation", allocation_label)
    return sources

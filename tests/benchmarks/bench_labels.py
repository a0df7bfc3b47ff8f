"""Benchmark: dose labels to PDF with scan-back, one at a time and as a 100-label sheet.

    python -m tests.benchmarks.bench_labels

Targets (labels issue): at least 100 single dose labels per second to PDF including scan-back,
and a 100-label sheet in under 2 s, on the 2-core build machine. Every label has its own DIN, so
no bar code is served from a cache.
"""

from __future__ import annotations

import sys
import time

from mfg.identifiers.isbt128 import Din
from mfg.labeling.fields import din_fields, sample_data
from mfg.labeling.layout import load_layout
from mfg.labeling.pdf import label_pdf, sheet_pdf
from mfg.labeling.service import verify_barcodes

SINGLE_TARGET = 100.0  # labels per second
SHEET_TARGET_S = 2.0


def dose_labels(n: int, start: int) -> list[dict[str, str]]:
    base = sample_data("dose")
    labels = []
    for i in range(start, start + n):
        din = Din("A9999", 26, i)
        fields = din_fields(din)
        labels.append(
            {
                **base,
                **fields,
                "datamatrix": fields["din_barcode"]
                + base["product_code_barcode"]
                + base["expiry_barcode"],
            }
        )
    return labels


def main() -> int:
    layout = load_layout("dose")
    labels = dose_labels(300, 1)
    start = time.perf_counter()
    for data in labels:
        verify_barcodes(layout, data)
        label_pdf(layout, [data], title="dose")
    single = len(labels) / (time.perf_counter() - start)

    sheet_labels = dose_labels(100, 10_000)
    start = time.perf_counter()
    for data in sheet_labels:
        verify_barcodes(layout, data)
    pdf = sheet_pdf(layout, sheet_labels, title="sheet")
    sheet_s = time.perf_counter() - start

    print(
        f"single dose labels, PDF + scan-back : {single:,.0f} labels/s "
        f"(target >= {SINGLE_TARGET:.0f})"
    )
    print(
        f"100-label sheet, PDF + scan-back    : {sheet_s:.2f} s, {len(pdf) / 1024:,.0f} KiB "
        f"(target < {SHEET_TARGET_S:.0f} s)"
    )
    ok = single >= SINGLE_TARGET and sheet_s < SHEET_TARGET_S
    print("RESULT:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

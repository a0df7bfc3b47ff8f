"""Documents generated from the code itself (``python -m mfg.docs rules``): the rule catalogue.

It reads source files with ``ast`` and imports nothing of the application, so it can describe a
module without running it (docs/architecture.md#rule-catalogue).
"""

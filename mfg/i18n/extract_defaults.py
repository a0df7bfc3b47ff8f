"""Babel extraction methods for the definitions the application installs (mfg/defaults/): the
words their pages, refusals and printouts show in the reader's language. The trial's criteria and
arm names (trial.toml); the default specification's test names, methods, the words of its units
and the choices of its qualitative tests (specification.toml). A specification QA approves later
is data: its new words are shown as QA typed them. Named in mfg/i18n/babel.cfg."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

CRITERION_KINDS = ("I", "E")  # inclusion, exclusion: "I: text" per line


def trial_words(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, None, str, list[str]]]:
    """(line, no function, message, comments) for each criterion and arm name."""
    trial = tomllib.loads(fileobj.read().decode("utf-8"))
    for line in trial.get("criteria", "").splitlines():
        kind, _, text = line.partition(":")
        if kind.strip() in CRITERION_KINDS and text.strip():
            yield 0, None, text.strip(), [f"criterion of trial {trial.get('code', '')}"]
    for arm in trial.get("arms", []):
        yield 0, None, arm["name"], [f"arm of trial {trial.get('code', '')}"]


def specification_words(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, None, str, list[str]]]:
    """(line, no function, message, comments) for each test's name, method, unit and choices."""
    specification = tomllib.loads(fileobj.read().decode("utf-8"))
    for test in specification.get("tests", []):
        comment = [f"QC test {test['code']} of the default specification"]
        for key in ("name", "method", "unit"):
            # the words of a unit, its "%" apart ("% of label": "of label"), as a catalog
            # message without a sign a translator could take for a placeholder
            words = test.get(key, "").replace("%", "").strip()
            if words and not words.isupper():
                yield 0, None, words, comment
        for choice in test.get("choices", "").split("|"):
            if choice.strip():
                yield 0, None, choice.strip(), comment

"""The design lives in the repository: every citation points at docs/, and every one resolves.

No file outside docs/ names the design notes the project started from (docs/decisions.md says
where the design came from); a citation ``docs/<page>.md#<anchor>`` names a page that exists and a
heading of it, and the pages' links to each other resolve the same way.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OUTSIDE = re.compile(r"\b(REFERENCE|DESIGN|CONVENTIONS)\.md\b")
CITATION = re.compile(r"\bdocs/([\w./-]+?\.md)(?:#([\w-]+))?")
LINK = re.compile(r"\]\(([\w./-]+?\.md)(?:#([\w-]+))?\)")
SKIPPED_DIRS = {".git", ".venv", "var", "__pycache__", "build", "dist"}


def _files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        paths = [ROOT / name for name in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        paths = [
            p
            for p in ROOT.rglob("*")
            if not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in p.parts)
        ]
    return [p for p in paths if p.is_file()]


def _texts() -> dict[Path, str]:
    texts = {}
    for path in _files():
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, fonts
            continue
    return texts


def slug(heading: str) -> str:
    """A heading's anchor as the usual Markdown renderers make it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            base = slug(line.lstrip("#"))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def _broken(page: str, anchor: str | None, base: Path) -> str | None:
    target = (base / page).resolve()
    if not target.is_file() or DOCS not in target.parents:
        return f"no page docs/{page}"
    if anchor and anchor not in anchors(target):
        return f"no heading #{anchor} in docs/{page}"
    return None


def test_no_file_outside_docs_names_the_design_notes_outside_the_repository() -> None:
    named = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path, text in _texts().items()
        if DOCS not in path.parents
        for n, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not named, "cite docs/ instead:\n" + "\n".join(named)


def test_every_citation_of_docs_names_an_existing_page_and_heading() -> None:
    broken = []
    for path, text in _texts().items():
        for n, line in enumerate(text.splitlines(), 1):
            for page, anchor in CITATION.findall(line):
                problem = _broken(page, anchor, DOCS)
                if problem:
                    broken.append(f"{path.relative_to(ROOT)}:{n}: {problem}")
            if DOCS in path.parents:
                for page, anchor in LINK.findall(line):
                    problem = _broken(page, anchor, path.parent)
                    if problem:
                        broken.append(f"{path.relative_to(ROOT)}:{n}: {problem}")
    assert not broken, "\n".join(broken)


def test_the_docs_have_the_pages_the_code_points_at() -> None:
    for page in ("architecture", "decisions", "rules", "regulation", "process", "isbt128", "fhir"):
        assert (DOCS / f"{page}.md").is_file(), f"docs/{page}.md is missing"


def test_a_citation_of_a_missing_heading_is_found_broken() -> None:
    assert _broken("architecture.md", "no-such-heading", DOCS) is not None
    assert _broken("no-such-page.md", None, DOCS) is not None
    assert slug("Unit of work: one commit point") == "unit-of-work-one-commit-point"
    assert slug("ISBT 128 `=<` product code") == "isbt-128--product-code"

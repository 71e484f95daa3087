"""The ``>>>`` examples in README.md and docs/*.md run, so the documentation never goes stale."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")] if ">>>" in p.read_text())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_in_docs_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (e.g. vf.save to out/...)
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} example(s) failed in {page.name}; run pytest -s"


# --- what the docs point at ------------------------------------------------------------------------

PROSE = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md")])
PRODUCT = [*PROSE, *sorted(ROOT.glob("vizflow/**/*.py")), *sorted(ROOT.glob("vizflow/**/*.md"))]
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REPO_PATH = re.compile(r"`((?:vizflow|docs|tests|benchmarks|dev)/[\w./-]+\.\w+)`")


def test_regression_product_docs_never_point_outside_the_package():
    """README, docs and docstrings sent users to ../shared/data and pitfalls.md, which they do not have."""
    banned = ("../shared", "shared/data", "pitfalls.md", "/work/")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {word}"
        for path in PRODUCT
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for word in banned
        if word in line
    ]
    assert found == []


@pytest.mark.parametrize("page", PROSE, ids=lambda p: p.name)
def test_relative_links_and_quoted_paths_exist(page):
    """Every relative link (and image) resolves from the page; every repository path quoted in
    backticks (``vizflow/...``, ``docs/...``, ``tests/...``) exists."""
    text = page.read_text()
    prose = re.sub(r"`[^`\n]*`", "", FENCED.sub("", text))  # links inside code are not links
    targets = [t.split("#")[0] for t in LINK.findall(prose)]
    relative = [t for t in targets if t and not re.match(r"[a-z][a-z0-9+.-]*:", t)]
    missing = [t for t in relative if not (page.parent / t).exists()]
    missing += [p for p in REPO_PATH.findall(FENCED.sub("", text)) if not (ROOT / p).exists()]
    assert missing == [], f"{page.name} points at missing files"

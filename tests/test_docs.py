"""The README is the door: it keeps the two commands, and its links into the reference
under docs/ lead somewhere. (`make check` builds docs/ with `mkdocs build --strict`,
which checks the links between its pages; the README is outside the site, so it is
checked here.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# [text](target) outside code spans; external links and mail are not ours to check.
LINK = re.compile(r"(?<!`)\[[^\]]+\]\((?P<target>[^)\s]+)\)")


def _relative_links(text: str) -> list[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return [
        match["target"]
        for match in LINK.finditer(prose)
        if not re.match(r"[a-z]+:", match["target"])  # http:, https:, mailto:
    ]


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)
    return {slugify(heading.replace("`", ""), "-") for heading in headings}


def test_readme__keeps_the_two_commands() -> None:
    text = README.read_text()
    assert re.search(r"^make run +# ", text, flags=re.MULTILINE)
    assert re.search(r"^make test +# ", text, flags=re.MULTILINE)


def test_readme__links_into_the_docs() -> None:
    links = _relative_links(README.read_text())
    assert sum(link.startswith("docs/") for link in links) >= 10


@pytest.mark.parametrize("link", _relative_links(README.read_text()))
def test_readme_link__leads_to_a_file_and_heading(link: str) -> None:
    path, _, anchor = link.partition("#")
    target = ROOT / path if path else README
    assert target.is_file(), link
    if anchor:
        assert anchor in _anchors(target), link

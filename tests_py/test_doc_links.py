"""Every link of README.md and docs/**/*.md stays inside the repository and resolves.

`mkdocs build --strict` (`make docs`) checks the links between pages of docs/ but not the
README, and it accepts a link it does not recognise as long as it is a URL. This check reads
both: every Markdown link, image and HTML href/src outside code must be a relative path to a
file a fresh clone has (tracked, or not ignored), inside the repository, and its #anchor (if
any) must be a heading of the target page. A URL (http:, mailto:, //host), an absolute path
or a path climbing out of the repository (../shared/...) fails, naming the file and line.
`make docs` runs this module after the build; `make test` runs it too.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from harness import REPO

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']*)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks, inline code blanked out."""
    lines, fenced = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            if fenced is None:
                fenced = fence.group(1)
            elif fence.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            lines.append((number, INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)))
    return lines


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link, image, reference definition and HTML href/src."""
    found = []
    for number, line in prose_lines(text):
        for pattern in (INLINE_LINK, HTML_LINK):
            found += [(number, match.group(1)) for match in pattern.finditer(line)]
        definition = REFERENCE_DEF.match(line)
        if definition:
            found.append((number, definition.group(1)))
    return found


def slugs(text: str) -> set[str]:
    """The anchors of a page's headings, as MkDocs (toc) and GitHub spell them, with -1, -2 for repeats."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        title = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).strip()
        mkdocs = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
        mkdocs = re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", mkdocs).strip().lower())
        github = re.sub(r" ", "-", re.sub(r"[^\w\- ]", "", title.lower()))
        for slug in {mkdocs, github}:
            count = seen.get(slug, 0)
            anchors.add(slug if count == 0 else f"{slug}-{count}")
            seen[slug] = count + 1
    return anchors


def repository_files(root: Path) -> set[Path]:
    """The files a fresh clone has: tracked, or untracked and not ignored (a new page not yet committed)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {(root / name).resolve() for name in listed.split("\0") if name}


def link_problems(page: Path, root: Path, files: set[Path]) -> list[str]:
    """What is wrong with the links of ``page`` (empty when every link resolves inside ``root``)."""
    text = page.read_text()
    problems = []
    where = page.relative_to(root)
    for number, target in links(text):
        if not target:
            problems.append(f"{where}:{number}: empty link")
            continue
        if SCHEME.match(target) or target.startswith("//"):
            problems.append(f"{where}:{number}: {target}: leaves the repository (a URL)")
            continue
        if target.startswith("/"):
            problems.append(f"{where}:{number}: {target}: an absolute path; link relative to the page")
            continue
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        resolved = (page.parent / path_part).resolve() if path_part else page.resolve()
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{where}:{number}: {target}: leaves the repository")
            continue
        if resolved.is_dir():
            problems.append(f"{where}:{number}: {target}: a folder, not a file; link a page in it")
            continue
        if resolved not in files:
            problems.append(f"{where}:{number}: {target}: no such file in the repository")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in slugs(resolved.read_text()):
            problems.append(f"{where}:{number}: {target}: no heading #{anchor} in {resolved.relative_to(root)}")
    if "../shared" in text:
        problems.append(f"{where}: mentions ../shared, which a clone of this repository does not have")
    return problems


def pages(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def test_readme_and_docs_links_resolve_inside_the_repository():
    files = repository_files(REPO)
    checked = [page for page in pages(REPO) if page.resolve() in files]
    assert REPO / "README.md" in checked and len(checked) > 10, checked
    problems = [problem for page in checked for problem in link_problems(page, REPO, files)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("[design](../shared/DESIGN.md)", "leaves the repository"),
        ("[site](https://example.org/)", "a URL"),
        ("[mail](mailto:someone@example.org)", "a URL"),
        ("[root](/docs/index.md)", "an absolute path"),
        ("[gone](docs/missing.md)", "no such file"),
        ("[anchor](docs/page.md#no-such-heading)", "no heading #no-such-heading"),
        ("[self](#nowhere)", "no heading #nowhere"),
        ("![figure](docs/missing.png)", "no such file"),
        ('<a href="https://example.org/">x</a>', "a URL"),
        ("[ignored](docs/ignored.md)", "no such file"),
        ("[folder](docs)", "a folder"),
        ("[ref]: ../outside.md", "leaves the repository"),
    ],
)
def test_the_check_refuses_each_kind_of_bad_link(tmp_path, link, expected):
    root = make_repository(tmp_path, f"# Title\n\n{link}\n")
    problems = link_problems(root / "README.md", root, repository_files(root))
    assert problems and expected in problems[0], problems


def test_the_check_accepts_good_links_and_ignores_code(tmp_path):
    readme = "\n".join(
        [
            "# Title",
            "## Quick start (fresh machine: Python 3.11)",
            "[page](docs/page.md), [its heading](docs/page.md#the-release-clock), [here](#title),",
            "[github slug](#quick-start-fresh-machine-python-311), ![figure](docs/figure.png)",
            "`[not a link](../outside/x.md)` in code",
            "```sh",
            "[not a link either](https://example.org)",
            "```",
        ]
    )
    root = make_repository(tmp_path, readme)
    assert link_problems(root / "README.md", root, repository_files(root)) == []


def make_repository(tmp_path: Path, readme: str) -> Path:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text(readme)
    (root / "docs" / "page.md").write_text("# Page\n\n## The release clock\n")
    (root / "docs" / "figure.png").write_bytes(b"png")
    (root / "docs" / "ignored.md").write_text("# generated\n")
    (root / ".gitignore").write_text("docs/ignored.md\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root

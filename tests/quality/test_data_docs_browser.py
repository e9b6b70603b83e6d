"""Data Docs in a real browser: headless Debian Chromium renders the index offline.

After the nightly job and the raw validations of the shared build (conftest.py),
the Data Docs index of the project copy is opened in headless Chromium: the DOM the browser
built must list every raw suite in the tables bootstrap-table draws (so the
page works without the network), and a screenshot is taken.

Chromium comes from the project's set-up (`make setup` installs Debian's `chromium` when
it is missing); without it these tests FAIL, they are never skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration.quality.gx_gate import GateResult, build_data_docs
from orchestration.quality.gx_project import DOCS_ASSETS, install_docs_assets
from orchestration.quality.gx_suites import RAW_SUITES, suite_specs

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
# What headless Chromium needs on these machines (DESIGN.md), plus a fresh profile per run.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 60  # seconds per browser run
SCREENSHOT_MIN_BYTES = 10 * 1024
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_REMOTE = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if path is None:
        pytest.fail(
            "Debian's chromium is not installed, and the Data Docs browser tests need it. "
            "Run `make setup` (as root it runs `apt-get update && apt-get install -y "
            "chromium`), or install that package yourself.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def docs_index(project: Path, clean: list[GateResult]) -> Path:
    """The index of the project copy's Data Docs, after the raw validations."""
    assert clean
    index = build_data_docs(project)
    assert index == project / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file()
    return index


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert not profile.exists()  # a fresh profile every run
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {TIMEOUT} s: {' '.join(command)}")
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_the_index_lists_every_suite_in_the_rendered_page(
    chromium: str, docs_index: Path, tmp_path: Path
) -> None:
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", docs_index.as_uri()).stdout
    assert "<html" in dom and "Data Docs" in dom
    # What the browser drew, not the table data the scripts carry.
    rendered = _SCRIPT.sub("", dom)
    names = [s.name for s in suite_specs()]
    assert len(RAW_SUITES) == 12
    missing = [name for name in names if name not in rendered]
    assert not missing, f"not in the rendered index: {missing}"
    # Both tabs exist, and bootstrap-table drew the suites table with every suite: it only
    # does that with jQuery and bootstrap-table loaded, from the site itself (offline).
    assert 'id="Validation-Results-tab"' in rendered
    assert 'id="Expectation-Suites-tab"' in rendered
    assert f"of {len(names)} rows" in rendered, "the suites table was not drawn"
    assert "fa-check-circle" in rendered  # the status icons (Font Awesome classes)


def test_a_screenshot_of_the_index(chromium: str, docs_index: Path, tmp_path_factory) -> None:
    out = tmp_path_factory.mktemp("data_docs_screenshot")
    png = out / "docs.png"
    _run(
        chromium,
        out / "profile",
        f"--screenshot={png}",
        "--window-size=1400,1000",
        docs_index.as_uri(),
    )
    assert png.is_file(), "chromium wrote no screenshot"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    size = png.stat().st_size
    assert size > SCREENSHOT_MIN_BYTES, f"{png}: {size} bytes, an empty page?"
    print(f"Data Docs screenshot: {png} ({size} bytes)")


def test_no_page_loads_anything_from_another_host(docs_index: Path) -> None:
    """Scripts, stylesheets and images come from the site itself (offline; no third party
    learns who reads the reports)."""
    site = docs_index.parent
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > len(suite_specs())  # index, suite pages, result pages
    remote = {str(p.relative_to(site)) for p in pages if _REMOTE.search(p.read_text())}
    assert not remote, f"pages loading remote resources: {sorted(remote)[:5]}"
    for vendored in ("jquery/jquery.min.js", "bootstrap-table/bootstrap-table.min.js"):
        assert (site / "static" / "vendor" / vendored).is_file()


def test_docs_assets_are_copied_once(project: Path, docs_index: Path) -> None:
    assert install_docs_assets(project) == []  # already in place: nothing to copy
    target = docs_index.parent / "static" / "vendor" / "jquery" / "jquery.min.js"
    target.unlink()
    assert install_docs_assets(project) == ["vendor/jquery/jquery.min.js"]
    source = project / DOCS_ASSETS / "vendor" / "jquery" / "jquery.min.js"
    assert target.read_bytes() == source.read_bytes()

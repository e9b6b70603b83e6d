"""No secret in the repository (docs/reliability.md, "Security checks"; issue 18, item 7).

detect-secrets scans every git-tracked file with the plugins and filters recorded in the
committed `.secrets.baseline`; any finding the baseline does not list fails. The baseline
is the one audited list of exceptions: today it lists nothing, and an entry may only ever be
a false positive marked so (`is_secret: false`, by `detect-secrets audit .secrets.baseline`).
Its one filter of our own excludes lines that pin a sha256 digest in a test
(`TINY_DIGEST = "<64 hex>"`: a fingerprint of the sample data, not a credential, and one
that changes whenever the generator does).

`new_secrets` is the scan; the second test plants fake secrets in a scratch repository and
shows the same function reports them.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import string
import subprocess
import sys
from pathlib import Path

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from orchestration.settings import PROJECT_ROOT

BASELINE = PROJECT_ROOT / ".secrets.baseline"


def new_secrets(repo: Path, scratch: Path, baseline: Path = BASELINE) -> list[str]:
    """`file:line: type` of every detect-secrets finding in the git-tracked files of `repo`
    (as they are in the working tree) that `baseline` does not list.

    `detect-secrets scan --baseline` rewrites the baseline it is given, so it scans with a
    copy in `scratch` (named like the original, so the baseline file itself is skipped, as
    detect-secrets does); the copy then holds exactly what the scan found."""
    copy = scratch / baseline.name
    shutil.copy(baseline, copy)
    done = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "-C", str(repo), "scan", "--baseline", str(copy)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    known = {
        (name, entry["type"], entry["hashed_secret"])
        for name, entries in json.loads(baseline.read_text())["results"].items()
        for entry in entries
    }
    return [
        f"{name}:{entry['line_number']}: {entry['type']}"
        for name, entries in json.loads(copy.read_text())["results"].items()
        for entry in entries
        if (name, entry["type"], entry["hashed_secret"]) not in known
    ]


def test_no_secret_in_the_tracked_files(tmp_path: Path) -> None:
    assert new_secrets(PROJECT_ROOT, tmp_path) == []


def test_the_scan_finds_planted_secrets(tmp_path: Path) -> None:
    """Realistic fake secrets, drawn here at random (no such literal in this source, so the
    repository scan has nothing to flag in it) and written to a scratch repository."""
    rng = random.Random(18)

    def draw(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    upper = string.ascii_uppercase + string.digits
    key_header = "-----BEGIN " + "RSA PRIVATE KEY-----"
    key_body = base64.b64encode(rng.randbytes(48)).decode()
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "settings.py").write_text(
        f'AWS_ACCESS_KEY_ID = "AKIA{draw(upper, 16)}"\n'
        f'aws_secret_access_key = "{draw(string.ascii_letters + string.digits + "/+", 40)}"\n'
    )
    (repo / "deploy.pem").write_text(f"{key_header}\n{key_body}\n")
    (repo / "clean.py").write_text('GREETING = "hello"\n')
    (repo / "untracked.py").write_text(f'AWS_ACCESS_KEY_ID = "AKIA{draw(upper, 16)}"\n')
    subprocess.run(["git", "-C", str(repo), "add", "settings.py", "deploy.pem", "clean.py"],
                   check=True)  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    found = new_secrets(repo, scratch)
    assert "settings.py:1: AWS Access Key" in found
    assert "settings.py:2: Secret Keyword" in found
    assert "deploy.pem:1: Private Key" in found
    # a clean file has nothing; a file git does not track is not the repository's
    assert not [f for f in found if f.startswith(("clean.py", "untracked.py"))]


def test_the_baseline_is_audited_and_uses_every_plugin() -> None:
    """Every entry a reviewed false positive; no detector switched off; no secret waved
    through by detect-secrets' inline allowlist pragma (the baseline is the one list)."""
    baseline = json.loads(BASELINE.read_text())
    unaudited = [
        f"{name}:{entry['line_number']}"
        for name, entries in baseline["results"].items()
        for entry in entries
        if entry.get("is_secret") is not False
    ]
    assert unaudited == []
    plugins = {plugin["name"] for plugin in baseline["plugins_used"]}
    every = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    assert plugins == every
    pragma = "allowlist" + " secret"
    allowlisted = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "grep", "-n", "-i", pragma],
        capture_output=True,
        text=True,
    )
    assert allowlisted.returncode == 1, allowlisted.stdout  # 1: no match

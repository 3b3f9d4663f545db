"""Object sizes read from pack headers (whole objects, ofs-deltas and ref-deltas) match git's own answer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from grader_service.git.quarantine import _object_size_at

from .conftest import Git


@pytest.mark.parametrize("delta_flag", ["--delta-base-offset", None])
def test_sizes_from_pack_match_git_cat_file(git: Git, tmp_path: Path, delta_flag: str | None) -> None:
    repo = tmp_path / "r"
    git.run("init", "-q", str(repo))
    text = "".join(f"line {i} of a long notebook\n" for i in range(3000))
    git.commit_files(repo, {"nb.py": text, "blob.bin": os.urandom(5000)}, "one")
    git.commit_files(repo, {"nb.py": text + "".join(f"extra {i}\n" for i in range(2000))}, "two")
    git.commit_files(repo, {"nb.py": text[:1000]}, "three")
    objects = git.run("rev-list", "--objects", "--all", cwd=repo).stdout
    args = ["git", "pack-objects", "-q", str(tmp_path / "p")] + ([delta_flag] if delta_flag else [])
    name = subprocess.run(
        args, input=objects, cwd=repo, capture_output=True, text=True, check=True, env=git.env()
    ).stdout.strip()
    idx, pack = tmp_path / f"p-{name}.idx", tmp_path / f"p-{name}.pack"
    verify = git.run("verify-pack", "-v", str(idx), cwd=repo).stdout.splitlines()
    entries = [line.split() for line in verify if len(line.split()) >= 5 and len(line.split()[0]) == 40]
    deltas = [e for e in entries if len(e) == 7]
    assert deltas, "the pack should contain deltas for this test to mean anything"
    fd = os.open(pack, os.O_RDONLY)
    try:
        for sha, _kind, _size, _packed, offset, *_ in entries:
            expected = int(git.run("cat-file", "-s", sha, cwd=repo).stdout)
            assert _object_size_at(fd, int(offset)) == expected, sha
    finally:
        os.close(fd)

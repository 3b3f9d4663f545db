"""Raw protocol requests: gzip bodies, wrong content types, garbage, truncated packs never damage a repo."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
import requests

from grader_service.git.store import RepoRef

from .conftest import ASSIGNMENT, LECTURE, Git, GitServer

USER = RepoRef(LECTURE, ASSIGNMENT, "user", "alice")
AUTH = {"Authorization": "token tok-alice"}
RECEIVE_TYPE = "application/x-git-receive-pack-request"
UPLOAD_TYPE = "application/x-git-upload-pack-request"


def pkt(line: bytes) -> bytes:
    return b"%04x" % (len(line) + 4) + line


@pytest.fixture
def pushable(git_server: GitServer, git: Git, workdir: Path) -> tuple[str, str, bytes]:
    """(old head, new commit, pack bytes with the new commit's objects) for alice's user repo."""
    git_server.store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "release"), {"hw1.ipynb": b"{}"}, "release")
    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), "c", cwd=workdir)
    old = git.run("rev-parse", "HEAD", cwd=workdir / "c").stdout.strip()
    new = git.commit_files(workdir / "c", {"answer.py": "print(42)\n" * 200}, "answer")
    pack = subprocess.run(
        ["git", "pack-objects", "--stdout", "--revs", "-q"],
        input=f"{new}\n^{old}\n".encode(),
        cwd=workdir / "c",
        capture_output=True,
        check=True,
        env=git.env(),
    ).stdout
    assert pack.startswith(b"PACK")
    return old, new, pack


def _receive_body(old: str, new: str, pack: bytes) -> bytes:
    command = f"{old} {new} refs/heads/main\0report-status side-band-64k agent=test\n".encode()
    return pkt(command) + b"0000" + pack


def _post(
    git_server: GitServer, service: str, body: bytes, content_type: str, **headers: str
) -> requests.Response:
    return requests.post(
        f"{git_server.url('user', 'alice')}/{service}",
        data=body,
        timeout=30,
        headers={**AUTH, "Content-Type": content_type, **headers},
    )


def _assert_intact(git_server: GitServer, git: Git, head: str) -> None:
    assert git_server.store.head(USER) == head
    repo = git_server.store.path(USER)
    assert not list((repo / "objects").glob("incoming-*"))
    assert not list((repo / "objects").rglob("tmp_pack_*"))
    git.fsck(repo)


def test_gzip_encoded_push_and_fetch(
    git_server: GitServer, git: Git, pushable: tuple[str, str, bytes]
) -> None:
    old, new, pack = pushable
    resp = _post(
        git_server,
        "git-receive-pack",
        gzip.compress(_receive_body(old, new, pack)),
        RECEIVE_TYPE,
        **{"Content-Encoding": "gzip"},
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/x-git-receive-pack-result"
    assert b"unpack ok" in resp.content and b"ok refs/heads/main" in resp.content
    assert git_server.store.head(USER) == new

    want = pkt(f"want {new} side-band-64k ofs-delta thin-pack\n".encode()) + b"0000" + pkt(b"done\n")
    resp = _post(
        git_server, "git-upload-pack", gzip.compress(want), UPLOAD_TYPE, **{"Content-Encoding": "gzip"}
    )
    assert resp.status_code == 200 and b"PACK" in resp.content
    _assert_intact(git_server, git, new)


def test_wrong_content_type_and_encoding(
    git_server: GitServer, git: Git, pushable: tuple[str, str, bytes]
) -> None:
    old, new, pack = pushable
    body = _receive_body(old, new, pack)
    for ctype in ("application/x-git-upload-pack-request", "text/plain", "application/octet-stream"):
        resp = _post(git_server, "git-receive-pack", body, ctype)
        assert resp.status_code == 415, ctype
        assert "Content-Type must be application/x-git-receive-pack-request" in resp.text
    resp = _post(git_server, "git-receive-pack", body, RECEIVE_TYPE, **{"Content-Encoding": "br"})
    assert resp.status_code == 415 and "Content-Encoding" in resp.text
    _assert_intact(git_server, git, old)


@pytest.mark.parametrize(
    "body", [b"hello world", b"\x00" * 64, b"zzzzjunk0000", b"0032" + b"x" * 46 + b"0000"]
)
def test_garbage_bodies_are_400(
    git_server: GitServer, git: Git, pushable: tuple[str, str, bytes], body: bytes
) -> None:
    old, _, _ = pushable
    for service, ctype in (("git-receive-pack", RECEIVE_TYPE), ("git-upload-pack", UPLOAD_TYPE)):
        resp = _post(git_server, service, body, ctype)
        assert resp.status_code == 400, (service, resp.status_code, resp.content)
        assert resp.text.startswith("bad git request:")
    _assert_intact(git_server, git, old)


def test_corrupt_gzip_is_400(git_server: GitServer, git: Git, pushable: tuple[str, str, bytes]) -> None:
    old, new, pack = pushable
    compressed = gzip.compress(_receive_body(old, new, pack))
    for bad in (b"not gzip at all", compressed[: len(compressed) // 2]):
        resp = _post(git_server, "git-receive-pack", bad, RECEIVE_TYPE, **{"Content-Encoding": "gzip"})
        assert resp.status_code == 400, resp.content
        assert "gzip" in resp.text
    _assert_intact(git_server, git, old)


@pytest.mark.parametrize("cut", [12, 100, -30, -1])
def test_truncated_or_corrupt_pack_is_refused_cleanly(
    git_server: GitServer, git: Git, pushable: tuple[str, str, bytes], cut: int
) -> None:
    old, new, pack = pushable
    resp = _post(git_server, "git-receive-pack", _receive_body(old, new, pack[:cut]), RECEIVE_TYPE)
    # a clean protocol error: report-status says the unpack failed and the ref was not updated
    assert resp.status_code == 200
    assert b"unpack ok" not in resp.content and b"ng refs/heads/main unpacker error" in resp.content
    flipped = bytearray(pack)
    flipped[len(pack) // 2] ^= 0xFF
    resp = _post(git_server, "git-receive-pack", _receive_body(old, new, bytes(flipped)), RECEIVE_TYPE)
    assert resp.status_code == 200 and b"ng refs/heads/main" in resp.content
    _assert_intact(git_server, git, old)
    # and the real push still works afterwards
    resp = _post(git_server, "git-receive-pack", _receive_body(old, new, pack), RECEIVE_TYPE)
    assert b"ok refs/heads/main" in resp.content
    _assert_intact(git_server, git, new)


def test_dumb_protocol_and_get_on_service_refused(git_server: GitServer) -> None:
    base = git_server.url("user", "alice")
    resp = requests.get(f"{base}/info/refs", headers=AUTH, timeout=10)
    assert resp.status_code == 400 and "dumb HTTP protocol is not served" in resp.text
    resp = requests.get(f"{base}/git-upload-pack", headers=AUTH, timeout=10)
    assert resp.status_code == 405

"""A fetch whose `info/refs` raced a push still gets the tip it was shown (real git client, real server)."""

from __future__ import annotations

import subprocess

from grader_service.git import recent_tips


def test_upload_pack_accepts_a_tip_replaced_since_info_refs(tmp_path):
    """Replays the race deterministically: the client wants the tip it saw, which a push has replaced."""
    from dulwich.repo import Repo

    repo_path = tmp_path / "r.git"
    Repo.init_bare(str(repo_path), mkdir=True)
    work = tmp_path / "w"
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@x",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@x",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }

    def run(*a, cwd=work):
        return subprocess.run(
            ["git", *a],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True, env=env)
    for n in (1, 2):
        (work / "f").write_text(str(n))
        run("add", "f")
        run("commit", "-qm", f"c{n}")
        if n == 1:
            first = run("rev-parse", "HEAD")
    run("push", "-q", str(repo_path), "main")
    second = run("rev-parse", "HEAD")
    # the branch now points at `second`; the client was shown `first` a moment earlier
    recent_tips.remember(repo_path, [first.encode()])
    from io import BytesIO

    from dulwich.protocol import Protocol, pkt_line

    from grader_service.git.receive import BoundUploadPack, RepoBackend

    request = (
        pkt_line(f"want {first} side-band-64k thin-pack ofs-delta\n".encode())
        + pkt_line(None)
        + pkt_line(b"done\n")
    )
    out = BytesIO()
    with Repo(str(repo_path)) as repo:
        backend = RepoBackend(repo, None, None, None)  # type: ignore[arg-type]  # upload-pack needs the repo only
        proto = Protocol(BytesIO(request).read, out.write)
        BoundUploadPack(backend, [str(repo_path)], proto, stateless_rpc=True).handle()
    assert b"PACK" in out.getvalue()
    assert second != first
    assert recent_tips.read(repo_path) == [first.encode()]

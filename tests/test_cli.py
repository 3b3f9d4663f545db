"""The `grader-service` command line as a user runs it: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from grader_service.app import GraderService
from tests.support.gitcli import authed, git
from tests.support.server import free_port

EXE = [sys.executable, "-m", "grader_service"]


def run(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    full_env.update(env or {})
    proc = subprocess.run(EXE + args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


class Server:
    def __init__(self, cwd: Path, args: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        full_env.update({"GRADER_PORT": str(self.port), **(env or {})})
        self.log = cwd / "server.log"
        self.proc = subprocess.Popen(
            EXE + (args or []), cwd=cwd, env=full_env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("service did not become healthy:\n" + self.log.read_text())

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


def test_embedded_defaults():
    app = GraderService()
    assert (app.ip, app.port) == ("127.0.0.1", 4010)
    assert app.data_dir == str(Path("grader_data").resolve())
    assert app.db_url == f"sqlite:///{Path('grader_data').resolve() / 'grader.sqlite'}"
    assert app.upgrade_db is True


@pytest.mark.slow
def test_quick_start_demo_then_serve_and_grade(tmp_path: Path):
    """What the README's first command does: seed the demo (its assignment generated from a real source
    notebook), start with no config, list the assignment; a student clones, answers, pushes and submits,
    and the embedded worker grades it with no other process."""
    demo = json.loads(run(["demo", "--json"], tmp_path).stdout)
    assert set(demo["users"]) == {"instructor", "tutor", "student1", "student2"}
    assert demo["assignment"]["generated"] is True and demo["assignment"]["status"] == "released"
    assert (tmp_path / "grader_data" / "grader.sqlite").exists()
    server = Server(tmp_path)
    try:
        server.wait()
        token = demo["users"]["student1"]["token"]
        auth = {"Authorization": f"token {token}"}
        lid, aid = demo["lecture"]["id"], demo["assignment"]["id"]
        r = requests.get(f"{server.url}/api/lectures/{lid}/assignments", headers=auth, timeout=5)
        assert r.status_code == 200
        assert [a["id"] for a in r.json()] == [aid] and r.json()[0]["status"] == "released"
        work = tmp_path / "work"
        git("clone", authed(r.json()[0]["repos"]["user"], token), str(work), cwd=tmp_path)
        text = (work / "assignment1.ipynb").read_text()
        assert "raise NotImplementedError()" in text and "BEGIN HIDDEN TESTS" not in text
        (work / "assignment1.ipynb").write_text(
            text.replace(
                "raise NotImplementedError()",
                "if not values:\\n        raise ValueError('empty')\\n    return sum(values) / len(values)",
            )
        )
        git("commit", "-am", "answer", cwd=work)
        git("push", cwd=work)
        sub = requests.post(
            f"{server.url}/api/lectures/{lid}/assignments/{aid}/submissions",
            headers=auth,
            json={},
            timeout=10,
        ).json()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            got = requests.get(
                f"{server.url}/api/lectures/{lid}/assignments/{aid}/submissions/{sub['id']}",
                headers=auth,
                timeout=5,
            ).json()
            if got["auto_status"] in ("automatically_graded", "grading_failed"):
                break
            time.sleep(0.2)
        assert got["auto_status"] == "automatically_graded", got
        assert got["auto_score"] == 4.0  # both tests (2 + 2); the manual answer waits for a tutor
    finally:
        assert server.stop() == 0
    assert token not in server.log.read_text(), "a token was written to the log"


def test_demo_is_idempotent_and_rotates_tokens(tmp_path: Path):
    first = json.loads(run(["demo", "--json"], tmp_path).stdout)
    second = json.loads(run(["demo", "--json"], tmp_path).stdout)
    assert first["lecture"] == second["lecture"] and first["assignment"] == second["assignment"]
    server = Server(tmp_path)
    try:
        server.wait()
        old = first["users"]["tutor"]["token"]
        new = second["users"]["tutor"]["token"]
        assert (
            requests.get(server.url + "/api/user", headers={"Authorization": f"token {old}"}).status_code
            == 401
        )
        me = requests.get(server.url + "/api/user", headers={"Authorization": f"Bearer {new}"}).json()
        assert me["lectures"] == [
            {
                "id": first["lecture"]["id"],
                "code": "demo101",
                "name": first["lecture"]["name"],
                "role": "tutor",
            }
        ]
    finally:
        server.stop()
    text = run(["demo"], tmp_path).stdout
    assert "student1" in text and "curl -H 'Authorization: token " in text


def test_generate_config_lists_every_option_with_help(tmp_path: Path):
    run(["--generate-config"], tmp_path)
    text = (tmp_path / "grader_service_config.py").read_text()
    for trait in ("port", "ip", "db_url", "data_dir", "admin_users", "cell_timeout_max", "base_url"):
        assert f"c.GraderService.{trait}" in text
    assert run(["--generate-config"], tmp_path, check=False).returncode != 0  # never overwrites


def test_config_file_env_and_command_line_precedence(tmp_path: Path):
    cfg = tmp_path / "cfg.py"
    cfg.write_text(
        "c.GraderService.port = 1111\nc.GraderService.admin_users = {'root-admin'}\n"
        f"c.GraderService.data_dir = {str(tmp_path / 'from-config')!r}\n"
    )
    app = GraderService()
    os.environ["GRADER_PORT"] = "2222"
    try:
        app.initialize(["-f", str(cfg)])
        assert app.port == 2222 and app.admin_users == {"root-admin"}
        assert app.data_dir == str(tmp_path / "from-config")
        app2 = GraderService()
        app2.initialize(["-f", str(cfg), "--port", "3333"])
        assert app2.port == 3333
    finally:
        del os.environ["GRADER_PORT"]


def test_token_create_admin_and_expiry(tmp_path: Path):
    token = run(["token", "create", "--user", "root", "--admin"], tmp_path).stdout.strip()
    short = run(["token", "create", "--user", "bob", "--expires-in", "1"], tmp_path).stdout.strip()
    assert len(token) == 48 and len(short) == 48
    bad = run(["token", "create", "--user", "../x"], tmp_path, check=False)
    assert bad.returncode != 0 and "--user" in bad.stdout + bad.stderr
    server = Server(tmp_path)
    try:
        server.wait()
        me = requests.get(server.url + "/api/user", headers={"Authorization": f"token {token}"}).json()
        assert me["name"] == "root" and me["admin"] is True
        r = requests.post(
            server.url + "/api/lectures",
            json={"code": "c1", "name": "C"},
            headers={"Authorization": f"token {token}"},
        )
        assert r.status_code == 201
        time.sleep(1.1)
        r = requests.get(server.url + "/api/user", headers={"Authorization": f"token {short}"})
        assert r.status_code == 401 and "expired" in r.json()["message"]
    finally:
        server.stop()
    # the hash is stored, never the token
    assert token.encode() not in (tmp_path / "grader_data" / "grader.sqlite").read_bytes()


def test_db_current_and_upgrade_and_refusal_on_old_schema(tmp_path: Path, make_db_url):
    url = make_db_url("postgresql")
    env = {"GRADER_DB_URL": url}
    from grader_service.orm import migrate
    from grader_service.orm.session import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine, "0001")
    engine.dispose()
    assert "behind" in run(["db", "current"], tmp_path, env=env).stdout
    server = Server(tmp_path, env=env)
    assert server.proc.wait(30) == 1
    assert "grader-service db upgrade" in server.log.read_text()
    out = run(["db", "upgrade"], tmp_path, env=env).stdout
    assert "0001 -> " in out
    assert "up to date" in run(["db", "current"], tmp_path, env=env).stdout
    server = Server(tmp_path, env=env)
    try:
        server.wait()
    finally:
        server.stop()


def test_unknown_config_file_is_an_error(tmp_path: Path):
    proc = run(["-f", "missing.py"], tmp_path, check=False)
    assert proc.returncode != 0 and "missing.py" in proc.stdout + proc.stderr


@pytest.mark.parametrize("value", ["abc"])
def test_bad_port_env(tmp_path: Path, value: str):
    proc = run([], tmp_path, env={"GRADER_PORT": value}, check=False)
    assert proc.returncode != 0 and "GRADER_PORT" in proc.stdout + proc.stderr

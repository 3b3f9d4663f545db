"""Migration files are named in chain order: `NN_rID_slug.py`, NN the position in the chain (from 01),
ID the revision id, which never changes (databases record it). See alembic/README.md.

The chain's order is not the ids' order (0010 applies between 0004 and 0005), so the position prefix,
not the id, makes `ls alembic/versions` show the order migrations run in."""

from __future__ import annotations

import re

from alembic.script import ScriptDirectory

from grader_service.orm import migrate

NAME = re.compile(r"^(?P<position>\d{2,3})_r(?P<revision>[0-9a-z]+)_(?P<slug>[a-z0-9_]+)\.py$")


def chain() -> list[tuple[str, str]]:
    """(revision id, file name) from the base to the head, following down_revision."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    heads = scripts.get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    walked = [(s.revision, s.path.rsplit("/", 1)[-1]) for s in scripts.walk_revisions("base", "heads")]
    return walked[::-1]  # walk_revisions goes from the head down


def test_files_sort_in_chain_order_with_their_position_and_id_in_the_name():
    order = chain()
    assert order[0][0] == "0001"
    files = sorted(p.name for p in (migrate.migrations_dir() / "versions").glob("*.py"))
    assert files == [name for _, name in order], "file names must sort in the order the chain applies"
    width = len(NAME.match(files[0])["position"])
    for position, (revision, name) in enumerate(order, start=1):
        match = NAME.match(name)
        assert match, f"{name}: expected NN_rID_slug.py"
        assert len(match["position"]) == width, f"{name}: positions need one width"
        assert int(match["position"]) == position, f"{name} is number {position} in the chain"
        assert match["revision"] == revision, f"{name} holds revision {revision!r}"


def test_the_chain_known_today_keeps_its_ids():
    ids = [revision for revision, _ in chain()]
    assert ids[:8] == ["0001", "0002", "0003", "0004", "0010", "0005", "0006", "0007"]

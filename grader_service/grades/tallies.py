"""How many members and grade rows a lecture has per role, from the tallies the triggers keep (PostgreSQL).

Counting a lecture's 100,000 members, or its 100,000 grade rows of one assignment, walks 100,000 index
entries (~8 ms each here), and the gradebook's counts needed two such walks for most filters. The tallies
(`GradebookTally`, migration 0007) answer both from a few rows. Every statement that adds or removes rows
appends one, so a scope's rows pile up (one per graded submission of a new learner, say); a read that
finds more than FOLD_AT of them folds them into one per role, in a transaction of its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from grader_service.orm.grades import TALLY_MEMBERS, GradebookTally
from grader_service.orm.session import DATABASE

log = logging.getLogger(__name__)

#: a scope with more rows than this is folded after it is read
FOLD_AT = 32

_FOLD = text("""
WITH gone AS (
    DELETE FROM gradebook_tallies WHERE lecture_id = :lecture_id AND scope = :scope RETURNING role, n
)
INSERT INTO gradebook_tallies (lecture_id, scope, role, n)
SELECT :lecture_id, :scope, role, sum(n) FROM gone GROUP BY role HAVING sum(n) <> 0
""")


def tallies(
    session: Session, lecture_id: int, scopes: Iterable[int] = (TALLY_MEMBERS,)
) -> dict[int, dict[str, int]]:
    """scope → role → how many (roles with none are left out), exact in the session's snapshot."""
    T = GradebookTally
    wanted = sorted(set(scopes))
    rows = session.execute(
        select(T.scope, T.role, func.sum(T.n), func.count())
        .where(T.lecture_id == lecture_id, T.scope.in_(wanted))
        .group_by(T.scope, T.role)
    ).all()
    out: dict[int, dict[str, int]] = {scope: {} for scope in wanted}
    pieces: dict[int, int] = defaultdict(int)
    for scope, role, n, count in rows:
        pieces[scope] += count
        if n:
            out[scope][role] = int(n)
    heaped = [scope for scope, count in pieces.items() if count > FOLD_AT]
    if heaped:
        _fold_later(session, lecture_id, heaped)
    return out


def fold(session: Session, lecture_id: int, scopes: Iterable[int]) -> None:
    """Replace each scope's rows with one per role, and commit. Safe alongside writers (they append rows
    this statement does not see, and keeps) and other folds (a row both would delete is deleted by the
    first; the second, after waiting for it, skips it and sums only what it did delete)."""
    for scope in sorted(set(scopes)):
        session.execute(_FOLD, {"lecture_id": lecture_id, "scope": scope})
    session.commit()


def _fold_later(session: Session, lecture_id: int, scopes: list[int]) -> None:
    database = session.info.get(DATABASE)
    if database is None or not database.runs_aside:
        return  # a session of its own making: the next read through a Database folds them
    future: Future[None] = database.aside(fold, lecture_id, scopes)
    future.add_done_callback(_log_failure)


def _log_failure(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("folding gradebook tallies failed (they stay correct, only longer): %s", exc)


__all__ = ["FOLD_AT", "fold", "tallies"]

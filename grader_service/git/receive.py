"""dulwich receive-pack that quarantines the pack, runs the push checks, then moves refs under a lock."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dulwich.protocol import CAPABILITY_ATOMIC, CAPABILITY_SIDE_BAND_64K, SIDE_BAND_CHANNEL_PROGRESS, Protocol
from dulwich.repo import Repo
from dulwich.server import Backend, BackendRepo, ReceivePackHandler, UploadPackHandler

from . import recent_tips
from . import refs as gitrefs
from .access import GitAccessDecision
from .checks import ZERO_SHA, ContentChecker, PushPolicy, RefCommand, check_ref_update
from .names import RepoRef
from .quarantine import Quarantine
from .store import RepoStore
from .streams import BadRequestBody, ClientGone

if TYPE_CHECKING:
    from dulwich.object_format import ObjectFormat
    from dulwich.object_store import MissingObjectFinder, PackBasedObjectStore
    from dulwich.objects import ObjectID
    from dulwich.refs import Ref, RefsContainer
    from dulwich.server import _ProtocolGraphWalker

log = logging.getLogger(__name__)


@dataclass
class RepoBackend(Backend):
    """A dulwich Backend bound to one already-opened repo and the request's access decision."""

    repo: Repo
    store: RepoStore
    ref: RepoRef
    decision: GitAccessDecision

    def open_repository(self, path: str) -> BackendRepo:
        """Always the bound repo: the URL was resolved and authorised before dulwich runs."""
        return self.repo


def _one_line(text: str, limit: int = 200) -> bytes:
    line = " ".join(text.split())
    return (line if len(line) <= limit else line[: limit - 3] + "...").encode("utf-8", "replace")


class CheckedReceivePack(ReceivePackHandler):
    """Receive-pack whose pack lands in a quarantine; refs move only if every check passes."""

    backend: RepoBackend

    def __init__(
        self,
        backend: RepoBackend,
        args: Sequence[str],
        proto: Protocol,
        stateless_rpc: bool = False,
        advertise_refs: bool = False,
    ) -> None:
        super().__init__(backend, args, proto, stateless_rpc=stateless_rpc, advertise_refs=advertise_refs)
        self.backend = backend
        self.policy = backend.decision.policy or PushPolicy()
        self.updated: dict[str, str] = {}

    def _apply_pack(self, refs: list[tuple[ObjectID, ObjectID, Ref]]) -> Iterator[tuple[bytes, bytes]]:
        commands = [RefCommand(bytes(old), bytes(new), bytes(ref)) for old, new, ref in refs]
        return iter(self._apply(commands))

    def _tell(self, message: str) -> None:
        """Show ``message`` to the pushing user as ``remote: ...`` (needs side-band)."""
        if self.has_capability(CAPABILITY_SIDE_BAND_64K):
            self.proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, message.encode("utf-8", "replace") + b"\n")

    def _apply(self, commands: list[RefCommand]) -> list[tuple[bytes, bytes]]:
        quarantine: Quarantine | None = None
        try:
            if any(c.new != ZERO_SHA for c in commands):
                quarantine = Quarantine(self.backend.repo)
                try:
                    quarantine.receive(
                        self.proto.read,
                        getattr(self.proto, "recv", None),
                        self.policy.max_push_size,
                        self.policy.pack_scanner(),
                    )
                except (BadRequestBody, ClientGone):
                    raise  # not a pack problem: the HTTP layer answers 400 / drops the request
                except Exception as exc:  # noqa: BLE001 - any failure to read the pack is the client's
                    log.info("git push to %s: bad pack: %s", self.backend.ref, exc)
                    reason = _one_line(f"{type(exc).__name__}: {exc}")
                    return [(b"unpack", reason)] + [(c.ref, b"unpacker error") for c in commands]
            results = self._check_and_update(commands, quarantine)
        finally:
            if quarantine is not None:
                quarantine.discard()
        if self.updated and self.backend.decision.on_push is not None:
            try:
                self.backend.decision.on_push(self.backend.ref, dict(self.updated))
            except Exception:  # refs already moved; the push itself succeeded
                log.exception("on_push callback failed for %s", self.backend.ref)
        return [(b"unpack", b"ok")] + results

    def _check_and_update(
        self, commands: list[RefCommand], quarantine: Quarantine | None
    ) -> list[tuple[bytes, bytes]]:
        store = quarantine.store if quarantine is not None else self.repo.object_store
        checker = ContentChecker(
            store,
            self.policy,
            quarantine.is_new if quarantine is not None else (lambda sha: False),
            quarantine.size_of if quarantine is not None else (lambda sha: 0),
        )
        with self.backend.store.lock(self.backend.ref):
            current_refs = gitrefs.all_tips(self.repo.refs)
            reasons: dict[bytes, str | None] = {}
            for cmd in commands:
                reason = check_ref_update(
                    cmd,
                    current_refs.get(cmd.ref),
                    store,
                    self.policy,
                    self.backend.decision.protected_commits,
                )
                if reason is None:
                    problems = checker.check(cmd.new)
                    for problem in problems:
                        self._tell(f"error: {problem}")
                    if problems:
                        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
                        reason = problems[0] + more
                elif reason:
                    self._tell(f"error: {cmd.name}: {reason}")
                reasons[cmd.ref] = reason
            if self.has_capability(CAPABILITY_ATOMIC) and any(reasons.values()):
                reasons = {ref: r or "atomic push failed" for ref, r in reasons.items()}
            accepted = [c for c in commands if reasons[c.ref] is None]
            if accepted and quarantine is not None:
                quarantine.migrate()
            for cmd in accepted:
                old = None if cmd.old == ZERO_SHA else cmd.old
                if gitrefs.move(self.repo.refs, cmd.ref, old, cmd.new):
                    self.updated[cmd.name] = cmd.new.decode("ascii")
                    if old is not None:
                        recent_tips.remember(self.backend.repo.path, [old])
                else:
                    reasons[cmd.ref] = "non-fast-forward: the branch moved while pushing; pull and push again"
        return [(c.ref, _one_line(reasons[c.ref] or "ok")) for c in commands]


class _RefsWithRecentTips:
    """The bound repo, whose refs also list the tips recent pushes replaced (see git/recent_tips.py)."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo

    # dulwich's BackendRepo protocol, spelled out so the wrapper is one; anything else goes to the repo
    @property
    def object_store(self) -> PackBasedObjectStore:
        return self._repo.object_store

    @property
    def refs(self) -> RefsContainer:
        return self._repo.refs

    @property
    def object_format(self) -> ObjectFormat:
        return self._repo.object_format

    def get_refs(self) -> dict[Ref, ObjectID]:
        return self._repo.get_refs()

    def get_peeled(self, ref: Ref) -> ObjectID | None:
        return self._repo.get_peeled(ref)

    def find_missing_objects(
        self,
        determine_wants: Callable[[Mapping[Ref, ObjectID], int | None], list[ObjectID]],
        graph_walker: _ProtocolGraphWalker,
        progress: Callable[[bytes], None] | None,
        *,
        get_tagged: Callable[[], dict[ObjectID, ObjectID]] | None = None,
        depth: int | None = None,
    ) -> MissingObjectFinder | None:
        def with_recent(refs: Mapping[Ref, ObjectID], wants_depth: int | None = None) -> list[ObjectID]:
            extra: dict[Ref, ObjectID] = {}
            current = set(refs.values())
            for i, tip in enumerate(recent_tips.read(self._repo.path)):
                if tip not in current and gitrefs.has_object(self._repo.object_store, tip):
                    extra[gitrefs.as_ref(b"refs/grader-recent/%d" % i)] = gitrefs.as_oid(tip)
            return determine_wants({**refs, **extra}, wants_depth)

        return self._repo.find_missing_objects(
            with_recent, graph_walker, progress, get_tagged=get_tagged, depth=depth
        )

    def __getattr__(self, name: str) -> object:
        return getattr(self._repo, name)


class BoundUploadPack(UploadPackHandler):
    """Upload-pack over the repo bound in a RepoBackend (the ``args`` path is ignored). The POST of a
    stateless fetch also accepts wants of tips replaced since its `info/refs` (a push raced it)."""

    def __init__(
        self,
        backend: RepoBackend,
        args: Sequence[str],
        proto: Protocol,
        stateless_rpc: bool = False,
        advertise_refs: bool = False,
    ) -> None:
        super().__init__(backend, args, proto, stateless_rpc=stateless_rpc, advertise_refs=advertise_refs)
        if stateless_rpc and not advertise_refs:
            # backend.repo is the repo dulwich just opened (RepoBackend.open_repository)
            self.repo = _RefsWithRecentTips(backend.repo)


SERVICES: dict[str, tuple[type[ReceivePackHandler] | type[UploadPackHandler], bool]] = {
    "git-upload-pack": (BoundUploadPack, False),
    "git-receive-pack": (CheckedReceivePack, True),
}

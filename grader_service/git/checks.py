"""Push checks run on received objects before any ref moves: size, file count, file types, paths, history."""

from __future__ import annotations

import fnmatch
import posixpath
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dulwich.object_store import BaseObjectStore
from dulwich.objects import Commit, ObjectID, Tree

from . import refs as gitrefs
from .pack_limits import PackScanner
from .tree_checks import GIT_METADATA_FILES, SymlinkResolver, fsck_problem, path_element_allowed

ZERO_SHA = b"0" * 40
GITLINK_MODE = 0o160000


def _format_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PushPolicy:
    """Limits applied to every push into a repo (None disables a limit).

    File types: if ``allowed_extensions`` (service-wide, e.g. ``{".ipynb", ".py"}``) or ``allowed_files``
    (per-assignment globs matched against the repo-relative path, e.g. ``"data/*.csv"``) is set, every
    file added by the push must match one of the extensions or one of the globs. Files already in the repo
    (e.g. seeded from the release) are not re-checked for type or size.
    """

    max_file_size: int | None = 20 * 1024 * 1024
    max_files: int | None = 1000
    allowed_extensions: frozenset[str] | None = None
    allowed_files: tuple[str, ...] | None = None
    allow_force_push: bool = False
    #: the one branch this repo takes (the one the service reads, e.g. `source`'s main); None: any
    only_branch: str | None = None
    max_push_size: int | None = 2 * 1024 * 1024 * 1024
    #: inflated bytes of all objects of one push (bounds the memory and disk a pack bomb can take)
    max_push_inflated: int | None = 1024 * 1024 * 1024
    #: objects in one pack
    max_objects: int | None = 200_000
    normalized_extensions: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exts = frozenset(
            (e if e.startswith(".") else "." + e).lower() for e in (self.allowed_extensions or ())
        )
        object.__setattr__(self, "normalized_extensions", exts)

    def pack_scanner(self) -> PackScanner:
        """The streaming size checks for an incoming pack: no object over twice the file size limit (at
        least 16 MiB, so a file a little over the limit still gets the message naming its path from the
        tree checks), no pack inflating over `max_push_inflated`."""
        total = self.max_push_inflated or (1 << 62)
        per_object = max(2 * self.max_file_size, 16 << 20) if self.max_file_size else total
        return PackScanner(
            max_object=min(per_object, total),
            max_total=total,
            max_objects=self.max_objects or (1 << 32),
        )

    def file_type_allowed(self, path: str) -> bool:
        """Whether ``path`` passes the extension / glob rules."""
        if self.allowed_extensions is None and self.allowed_files is None:
            return True
        if posixpath.splitext(path)[1].lower() in self.normalized_extensions:
            return True
        return any(fnmatch.fnmatchcase(path, glob) for glob in self.allowed_files or ())

    def describe_allowed_types(self) -> str:
        """Human-readable list of allowed extensions and globs, for rejection messages."""
        allowed = sorted(self.normalized_extensions) + list(self.allowed_files or ())
        return ", ".join(allowed) or "none"


@dataclass(frozen=True)
class RefCommand:
    """One ref update requested by a push (hex shas; ZERO_SHA for create / delete)."""

    old: bytes
    new: bytes
    ref: bytes

    @property
    def name(self) -> str:
        """The ref name as text, for messages."""
        return self.ref.decode("utf-8", "replace")


def ancestors(store: BaseObjectStore, tip: bytes) -> set[bytes]:
    """All commits reachable from ``tip`` (inclusive) through parent links."""
    seen: set[bytes] = set()
    stack = [tip]
    while stack:
        sha = stack.pop()
        if sha in seen or not gitrefs.has_object(store, sha):
            continue
        seen.add(sha)
        obj = store[ObjectID(sha)]
        if isinstance(obj, Commit):
            stack.extend(obj.parents)
    return seen


def check_ref_update(
    cmd: RefCommand,
    current: bytes | None,
    store: BaseObjectStore,
    policy: PushPolicy,
    protected_commits: Callable[[], set[str]] | None,
) -> str | None:
    """Reason to refuse moving ``cmd.ref`` (currently at ``current``), or None if the update may happen."""
    if not cmd.ref.startswith(b"refs/heads/") or not gitrefs.is_valid_ref_name(cmd.ref):
        return f"only branches (refs/heads/...) may be pushed, not {cmd.name}"
    if policy.only_branch is not None and cmd.ref != b"refs/heads/" + policy.only_branch.encode():
        branch = policy.only_branch
        return (
            f"this repository takes only branch {branch!r} (the one the grader service reads), "
            f"not {cmd.name.removeprefix('refs/heads/')!r}: push with git push origin HEAD:{branch}"
        )
    if cmd.new == ZERO_SHA:
        return "deleting branches is not allowed"
    expected = None if cmd.old == ZERO_SHA else cmd.old
    if current != expected:
        return "non-fast-forward: the branch moved since you fetched it; pull and push again"
    if not gitrefs.has_object(store, cmd.new) or not isinstance(store[ObjectID(cmd.new)], Commit):
        return f"{cmd.new.decode()} is not a commit"
    if expected is None:
        return None
    new_history = ancestors(store, cmd.new)
    if expected in new_history:
        return None  # fast-forward
    if not policy.allow_force_push:
        return "non-fast-forward: rewriting history is not allowed; pull, merge and push again"
    protected = {sha.encode("ascii") for sha in (protected_commits() if protected_commits else set())}
    lost = (protected & ancestors(store, expected)) - new_history
    if lost:
        first = sorted(lost)[0].decode()[:12]
        return f"force push would remove submitted commit {first} from history"
    return None


@dataclass
class _TreeScan:
    files: int
    problems: list[str]
    symlinks: list[str] = field(default_factory=list)  # paths, resolved against each commit's root


class ContentChecker:
    """Checks the trees of the commits a push adds, caching per (tree, path prefix)."""

    def __init__(
        self,
        store: BaseObjectStore,
        policy: PushPolicy,
        is_new: Callable[[bytes], bool],
        size_of: Callable[[bytes], int],
    ) -> None:
        self.store = store
        self.policy = policy
        self.is_new = is_new
        self.size_of = size_of
        self._trees: dict[tuple[bytes, str], _TreeScan] = {}

    def new_commits(self, tip: bytes) -> Iterable[Commit]:
        """Commits reachable from ``tip`` that were not in the repo before this push."""
        seen: set[bytes] = set()
        stack = [tip]
        while stack:
            sha = stack.pop()
            if sha in seen or not self.is_new(sha):
                continue
            seen.add(sha)
            commit = self.store[ObjectID(sha)]
            if not isinstance(commit, Commit):
                raise ValueError(f"{sha.decode()} is not a commit")
            stack.extend(commit.parents)
            yield commit

    def check(self, tip: bytes) -> list[str]:
        """Problems with the commits the push adds under ``tip`` (empty list: all fine)."""
        problems: list[str] = []
        for commit in self.new_commits(tip):
            broken = fsck_problem(commit)
            if broken:
                problems.append(f"commit {commit.id.decode()[:12]} is malformed: {broken}")
                continue
            try:
                scan = self._scan(commit.tree, "")
                resolver = SymlinkResolver(self.store, commit.tree)
                links = [(path, resolver.escapes(path)) for path in scan.symlinks]
            except Exception as exc:  # noqa: BLE001 - hostile objects: whatever breaks the check refuses
                problems.append(
                    f"commit {commit.id.decode()[:12]} cannot be checked: {type(exc).__name__}: {exc}"
                )
                continue
            problems.extend(p for p in scan.problems if p not in problems)
            problems.extend(
                f"{path}: {why}" for path, why in links if why and f"{path}: {why}" not in problems
            )
            limit = self.policy.max_files
            if limit is not None and scan.files > limit:
                problems.append(
                    f"commit {commit.id.decode()[:12]} has {scan.files} files, more than the limit of {limit}"
                )
        return problems

    def _scan(self, tree_id: bytes, prefix: str) -> _TreeScan:
        key = (tree_id, prefix)
        cached = self._trees.get(key)
        if cached is not None:
            return cached
        tree = self.store[ObjectID(tree_id)]
        if not isinstance(tree, Tree):
            raise ValueError(f"{tree_id.decode()} is not a tree")
        scan = _TreeScan(0, [])
        broken = fsck_problem(tree) if self.is_new(tree_id) else ""
        if broken:
            scan.problems.append(f"folder {prefix or '/'} is malformed: {broken}")
            self._trees[key] = scan
            return scan
        for entry in tree.iteritems():
            name = entry.path.decode("utf-8", "replace")
            path = prefix + name
            if "\\" in name or not path_element_allowed(entry.path):
                scan.problems.append(f"path {path!r} is not allowed (git refuses it or reads it as .git)")
                continue
            if stat.S_ISLNK(entry.mode) and name.lower() in GIT_METADATA_FILES:
                scan.problems.append(f"{path}: {name} may not be a symlink")
                continue
            if stat.S_ISDIR(entry.mode):
                sub = self._scan(entry.sha, path + "/")
                scan.files += sub.files
                scan.problems.extend(sub.problems)
                scan.symlinks.extend(sub.symlinks)
                continue
            scan.files += 1
            if entry.mode == GITLINK_MODE:
                scan.problems.append(f"{path}: submodules are not allowed")
            elif stat.S_ISLNK(entry.mode):
                scan.symlinks.append(path)
            elif self.is_new(entry.sha):
                self._check_file(path, entry.sha, scan.problems)
        self._trees[key] = scan
        return scan

    def _check_file(self, path: str, sha: bytes, problems: list[str]) -> None:
        if not self.policy.file_type_allowed(path):
            problems.append(
                f"{path}: file type not allowed (allowed: {self.policy.describe_allowed_types()})"
            )
        limit = self.policy.max_file_size
        if limit is not None:
            size = self.size_of(sha)
            if size > limit:
                problems.append(
                    f"{path} is {_format_size(size)}, over the file size limit of {_format_size(limit)}"
                )

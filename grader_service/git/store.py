"""RepoStore: the only code that touches the bare git repos on disk (create, read, commit, copy, export)."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from . import recent_tips
from . import refs as gitrefs
from .locking import LockRegistry
from .maintenance import consolidate_small_packs
from .names import InvalidRepoName, RepoRef, validate_name

__all__ = [
    "DEFAULT_BRANCH",
    "SERVICE_AUTHOR",
    "InvalidRepoName",
    "RepoRef",
    "RepoStore",
    "StoreError",
    "UnknownCommit",
    "UnsafePath",
    "BranchMoved",
]

DEFAULT_BRANCH = "main"
SERVICE_AUTHOR = "Grader Service <grader@localhost>"
GITLINK_MODE = 0o160000
_CURRENT = object()  # sentinel: "the branch's current tip" as commit_tree's parent


class StoreError(Exception):
    """Base class of errors raised by the repo store."""


class UnknownCommit(StoreError, LookupError):
    """A commit (or a path inside it) does not exist in the repo."""


class UnsafePath(StoreError, ValueError):
    """A path in a tree would escape its directory: absolute, '..', symlink or submodule."""


class BranchMoved(StoreError):
    """The branch no longer points at the parent the caller built on."""


def _branch_ref(branch: str) -> Ref:
    validate_name("branch", branch)
    return gitrefs.branch(branch)


def _as_sha(commit: str | bytes) -> ObjectID:
    sha = commit.encode("ascii") if isinstance(commit, str) else commit
    if len(sha) != 40 or not all(c in b"0123456789abcdef" for c in sha):
        raise UnknownCommit(f"{commit!r} is not a 40-character lowercase hex commit id")
    return ObjectID(sha)


def safe_relative_path(path: str) -> tuple[str, ...]:
    """Split a repo-relative path into segments, rejecting absolute paths, '..', '.', '.git' and empties."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        raise UnsafePath(f"path {path!r} must be a non-empty relative POSIX path")
    segments = tuple(path.split("/"))
    for seg in segments:
        if seg in ("", ".", "..") or seg.lower() == ".git":
            raise UnsafePath(f"path {path!r} contains a forbidden segment {seg!r}")
    return segments


class RepoStore:
    """Bare repos under ``root`` laid out as ``<lecture>/<assignment>/<kind>[/<username>].git``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks = LockRegistry()

    # -- paths and lifecycle -------------------------------------------------

    def path(self, ref: RepoRef) -> Path:
        """Directory of the bare repo for ``ref`` (always inside the root; may not exist yet)."""
        *dirs, last = ref.parts
        path = self.root.joinpath(*dirs, last + ".git")
        if not path.resolve().is_relative_to(self.root):
            raise InvalidRepoName(f"repo {ref} resolves outside the store root")
        return path

    def exists(self, ref: RepoRef) -> bool:
        """Whether the bare repo for ``ref`` has been created."""
        return (self.path(ref) / "HEAD").is_file()

    @contextmanager
    def lock(self, ref: RepoRef) -> Iterator[None]:
        """Exclusive write lock on one repo, across threads and processes (re-entrant per thread)."""
        *dirs, last = ref.parts
        with self._locks.hold(self.root.joinpath(*dirs, f".{last}.lock")):
            yield

    def create(self, ref: RepoRef) -> bool:
        """Create the bare repo if missing (HEAD -> refs/heads/main); return True if it was created now."""
        path = self.path(ref)
        with self.lock(ref):
            if self.exists(ref):
                return False
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            repo = Repo.init_bare(str(tmp), mkdir=True, default_branch=DEFAULT_BRANCH.encode())
            repo.close()
            if path.exists():  # a half-created leftover from a crash: no HEAD, so not a repo
                shutil.rmtree(path)
            os.rename(tmp, path)  # atomic: readers see no repo or a complete one
            return True

    @contextmanager
    def open(self, ref: RepoRef, create: bool = True) -> Iterator[Repo]:
        """Open the dulwich Repo for ``ref``, creating it first unless ``create`` is False."""
        if create:
            self.create(ref)
        with self._readers(ref, exclusive=False) as held:
            assert held
            try:
                repo = Repo(str(self.path(ref)))
            except NotGitRepository as exc:
                raise StoreError(f"repo {ref} does not exist") from exc
            try:
                yield repo
            finally:
                repo.close()

    @contextmanager
    def _readers(self, ref: RepoRef, exclusive: bool) -> Iterator[bool]:
        """Shared flock held by everyone using the repo's packs; pack maintenance needs it exclusively and
        skips (yields False) rather than wait, so packs are never deleted under a reader."""
        *dirs, last = ref.parts
        fd = os.open(self.root.joinpath(*dirs, f".{last}.readers"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def maintain(self, ref: RepoRef) -> int:
        """Merge the small packs pushes left in the repo (under its lock); returns packs merged."""
        if not self.exists(ref):
            return 0
        with self.lock(ref), self._readers(ref, exclusive=True) as alone:
            return consolidate_small_packs(self.path(ref)) if alone else 0

    # -- reading ---------------------------------------------------------------

    def head(self, ref: RepoRef, branch: str = DEFAULT_BRANCH) -> str | None:
        """Commit id the branch points at, or None if the repo or branch does not exist yet."""
        if not self.exists(ref):
            return None
        with self.open(ref, create=False) as repo:
            sha = repo.refs.as_dict().get(_branch_ref(branch))
            return sha.decode("ascii") if sha else None

    def has_commit(self, ref: RepoRef, sha: str) -> bool:
        """Whether ``sha`` names a commit object present in the repo."""
        try:
            oid = _as_sha(sha)
        except UnknownCommit:
            return False
        if not self.exists(ref):
            return False
        with self.open(ref, create=False) as repo:
            if oid not in repo.object_store:
                return False
            return isinstance(repo.object_store[oid], Commit)

    def _commit(self, repo: Repo, ref: RepoRef, commit: str) -> Commit:
        oid = _as_sha(commit)
        if oid not in repo.object_store:
            raise UnknownCommit(f"commit {commit} does not exist in repo {ref}")
        obj = repo.object_store[oid]
        if not isinstance(obj, Commit):
            raise UnknownCommit(f"{commit} in repo {ref} is a {obj.type_name.decode()}, not a commit")
        return obj

    def read_file(self, ref: RepoRef, commit: str, path: str) -> bytes:
        """Contents of the regular file ``path`` at ``commit``; UnknownCommit if either is missing."""
        segments = safe_relative_path(path)
        with self.open(ref, create=False) as repo:
            tree = repo.object_store[self._commit(repo, ref, commit).tree]
            for i, seg in enumerate(segments):
                assert isinstance(tree, Tree)
                try:
                    mode, sha = tree[seg.encode()]
                except KeyError:
                    raise UnknownCommit(f"path {path!r} does not exist at commit {commit} in {ref}") from None
                last = i == len(segments) - 1
                if last and not stat.S_ISREG(mode):
                    raise UnknownCommit(f"path {path!r} at commit {commit} in {ref} is not a regular file")
                if not last and not stat.S_ISDIR(mode):
                    raise UnknownCommit(f"path {path!r} at commit {commit} in {ref} is not a directory")
                tree = repo.object_store[sha]
            assert isinstance(tree, Blob)
            return tree.as_raw_string()

    def _walk(
        self, store: BaseObjectStore, tree_id: ObjectID, prefix: str = ""
    ) -> Iterator[tuple[str, int, ObjectID]]:
        tree = store[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            name = entry.path.decode("utf-8", "surrogateescape")
            full = f"{prefix}{name}"
            if stat.S_ISDIR(entry.mode):
                yield from self._walk(store, entry.sha, full + "/")
            else:
                yield full, entry.mode, entry.sha

    def list_files(self, ref: RepoRef, commit: str) -> list[str]:
        """Sorted paths of all non-directory entries of the tree at ``commit``."""
        with self.open(ref, create=False) as repo:
            tree_id = self._commit(repo, ref, commit).tree
            return sorted(path for path, _, _ in self._walk(repo.object_store, tree_id))

    def export(self, ref: RepoRef, commit: str, dest_dir: Path | str) -> list[str]:
        """Write the tree at ``commit`` into ``dest_dir`` (regular files only); return the paths written.

        Raises UnsafePath, before writing anything, if the tree holds a symlink, a submodule or a path that
        is absolute or contains '..', so a worker never reads outside its checkout.
        """
        dest = Path(dest_dir).resolve()
        with self.open(ref, create=False) as repo:
            tree_id = self._commit(repo, ref, commit).tree
            entries = list(self._walk(repo.object_store, tree_id))
            for path, mode, _ in entries:
                safe_relative_path(path)
                if stat.S_ISLNK(mode):
                    raise UnsafePath(f"{path!r} at commit {commit} in {ref} is a symlink; refusing to export")
                if not stat.S_ISREG(mode):
                    raise UnsafePath(f"{path!r} at commit {commit} in {ref} is a submodule; not exported")
            dest.mkdir(parents=True, exist_ok=True)
            for path, mode, sha in entries:
                target = dest.joinpath(*path.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                # a symlinked directory planted in dest before the call must not redirect the write
                if not target.parent.resolve().is_relative_to(dest) or target.is_symlink():
                    raise UnsafePath(f"{path!r} would be written outside {dest}")
                blob = repo.object_store[sha]
                assert isinstance(blob, Blob)
                target.write_bytes(blob.as_raw_string())
                os.chmod(target, 0o755 if mode & 0o111 else 0o644)
            return [path for path, _, _ in entries]

    # -- writing ---------------------------------------------------------------

    def _build_tree(self, repo: Repo, files: dict[str, bytes]) -> ObjectID:
        root: dict[str, object] = {}
        for path, content in files.items():
            if not isinstance(content, bytes):
                raise TypeError(f"content of {path!r} must be bytes, got {type(content).__name__}")
            *dirs, name = safe_relative_path(path)
            node = root
            for d in dirs:
                child = node.setdefault(d, {})
                if not isinstance(child, dict):
                    raise UnsafePath(f"{path!r} uses {d!r} as a directory but it is also a file")
                node = child
            if name in node:
                raise UnsafePath(f"{path!r} is both a file and a directory")
            node[name] = content

        objects: list[Blob | Tree] = []

        def build(node: dict[str, object]) -> ObjectID:
            tree = Tree()
            for name, value in node.items():
                if isinstance(value, dict):
                    tree.add(name.encode(), stat.S_IFDIR, build(value))
                else:
                    assert isinstance(value, bytes)
                    blob = Blob.from_string(value)
                    objects.append(blob)
                    tree.add(name.encode(), 0o100644, blob.id)
            objects.append(tree)
            return tree.id

        tree_id = build(root)
        repo.object_store.add_objects([(obj, None) for obj in objects])
        return tree_id

    def _make_commit(
        self, repo: Repo, tree_id: ObjectID, parents: list[ObjectID], message: str, author: str
    ) -> ObjectID:
        commit = Commit()
        commit.tree = tree_id
        commit.parents = parents
        commit.author = commit.committer = author.encode()
        commit.commit_time = commit.author_time = int(time.time())
        commit.commit_timezone = commit.author_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode() if message.endswith("\n") else (message + "\n").encode()
        repo.object_store.add_object(commit)
        return commit.id

    def commit_tree(
        self,
        ref: RepoRef,
        files: dict[str, bytes],
        message: str,
        author: str = SERVICE_AUTHOR,
        branch: str = DEFAULT_BRANCH,
        parent: str | None | object = _CURRENT,
    ) -> str:
        """Commit ``files`` (the complete tree: path -> content) on ``branch`` and return the commit id.

        ``parent`` defaults to the branch's current tip. Passing a commit id (or None: "the branch must not
        exist yet") is a compare-and-swap: if the branch is elsewhere, BranchMoved is raised and nothing
        changes.
        """
        branch_ref = _branch_ref(branch)
        with self.lock(ref), self.open(ref) as repo:
            current = repo.refs.as_dict().get(branch_ref)
            if parent is _CURRENT:
                parents = [current] if current else []
            else:
                expected = None if parent is None else self._commit(repo, ref, str(parent)).id
                if current != expected:
                    shown = current.decode() if current else "nothing"
                    raise BranchMoved(f"branch {branch} of {ref} points at {shown}, not at parent {parent}")
                parents = [expected] if expected else []
            new = self._make_commit(repo, self._build_tree(repo, files), parents, message, author)
            if not repo.refs.set_if_equals(branch_ref, current, new):
                raise BranchMoved(f"branch {branch} of {ref} moved while committing")
            if current:
                recent_tips.remember(repo.path, [current])
            return new.decode("ascii")

    def copy(
        self,
        src: RepoRef,
        dst: RepoRef,
        commit: str | None = None,
        branch: str = DEFAULT_BRANCH,
        force: bool = False,
    ) -> str:
        """Copy ``commit`` (default: src's branch tip) and its history into ``dst``; point dst's branch at it.

        Without ``force`` the dst branch must be empty or an ancestor of the commit (fast-forward).
        """
        with self.open(src, create=False) as src_repo:
            if commit is None:
                tip = src_repo.refs.as_dict().get(_branch_ref(branch))
                if tip is None:
                    raise UnknownCommit(f"branch {branch} of {src} has no commits to copy")
                commit = tip.decode("ascii")
            head = self._commit(src_repo, src, commit).id
            with self.lock(dst), self.open(dst) as dst_repo:
                current = dst_repo.refs.as_dict().get(_branch_ref(branch))
                haves = [sha for sha in dst_repo.get_refs().values() if sha in src_repo.object_store]
                count, records = src_repo.object_store.generate_pack_data(haves, [head], ofs_delta=True)
                dst_repo.object_store.add_pack_data(count, records)
                if current and not force and not _is_ancestor(dst_repo.object_store, current, head):
                    raise BranchMoved(f"branch {branch} of {dst} has commits not in {commit}; use force=True")
                if not dst_repo.refs.set_if_equals(_branch_ref(branch), current, head):
                    raise BranchMoved(f"branch {branch} of {dst} moved while copying")
                if current:
                    recent_tips.remember(dst_repo.path, [current])
                return commit

    def seed_user_repo(self, lecture: str, assignment: str, username: str) -> str | None:
        """Create the student's ``user`` repo seeded from ``release`` as ONE commit; return its head.

        Idempotent: an existing user repo is left alone. If ``release`` has no commit yet the user repo is
        created empty and None is returned.
        """
        user = RepoRef(lecture, assignment, "user", username)
        release = RepoRef(lecture, assignment, "release")
        with self.lock(user):
            if self.exists(user):
                return self.head(user)
            release_head = self.head(release)
            if release_head is None:
                self.create(user)
                return None
            with self.open(release, create=False) as rel, self.open(user) as usr:
                tree_id = self._commit(rel, release, release_head).tree
                shas = [tree_id, *self._subtree_objects(rel.object_store, tree_id)]
                usr.object_store.add_objects([(rel.object_store[sha], None) for sha in shas])
                new = self._make_commit(usr, tree_id, [], f"Seed {assignment} from release", SERVICE_AUTHOR)
                usr.refs.set_if_equals(_branch_ref(DEFAULT_BRANCH), None, new)
                return new.decode("ascii")

    def _subtree_objects(self, store: BaseObjectStore, tree_id: ObjectID) -> Iterator[ObjectID]:
        """Ids of every blob and subtree below ``tree_id`` (submodule commits are not objects of ours)."""
        tree = store[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            if stat.S_ISDIR(entry.mode):
                yield entry.sha
                yield from self._subtree_objects(store, entry.sha)
            elif entry.mode != GITLINK_MODE:
                yield entry.sha


def _is_ancestor(store: BaseObjectStore, ancestor: ObjectID, descendant: ObjectID) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant`` through parent links."""
    seen: set[bytes] = set()
    stack = [descendant]
    while stack:
        sha = stack.pop()
        if sha == ancestor:
            return True
        if sha in seen or sha not in store:
            continue
        seen.add(sha)
        obj = store[sha]
        if isinstance(obj, Commit):
            stack.extend(obj.parents)
    return False

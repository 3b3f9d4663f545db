"""Tree and path checks as git applies them: fsck of objects, path names, symlinks resolved in the tree.

Path names go through dulwich's own validators (the ones its checkout uses, ported from git's
`verify_path`): `.git` in any case, `.git.`/`.git ` and `git~1` (NTFS) and `.git` with ignorable code
points (HFS+) are refused, as git refuses them on the machines that will clone the repository. Symlinks
are resolved the way the kernel would after a checkout, following links inside the tree (`up -> .` then
`esc -> up/..` leaves the repository although neither target says `..` at the top).
"""

from __future__ import annotations

import stat
from collections import deque

from dulwich.errors import ObjectFormatException
from dulwich.index import (
    validate_path_element_default,
    validate_path_element_hfs,
    validate_path_element_ntfs,
)
from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, ObjectID, ShaFile, Tree, parse_tree

#: files git reads as configuration; as symlinks they can point git at files outside the repository
GIT_METADATA_FILES = frozenset({".gitmodules", ".gitattributes", ".gitignore", ".mailmap"})
#: links followed while resolving one path, as Linux's limit
MAX_SYMLINK_HOPS = 40


def path_element_allowed(name: bytes) -> bool:
    """Whether a tree entry name is safe on every file system git checks out to."""
    return (
        validate_path_element_default(name)
        and validate_path_element_ntfs(name)
        and validate_path_element_hfs(name)
    )


def fsck_problem(obj: ShaFile) -> str:
    """What `git fsck` would object to in `obj` (bad modes, zero-padded modes, unsorted or duplicate
    tree entries, malformed commit headers...), or '' when it is well-formed."""
    try:
        obj.check()
    except (ObjectFormatException, ValueError, AssertionError) as exc:
        return str(exc) or type(exc).__name__
    if isinstance(obj, Tree):
        # dulwich compares neighbours only; a file `a` and a folder `a` need not be neighbours in git's order
        names = [name for name, _, _ in parse_tree(obj.as_raw_string(), obj.object_format.oid_length)]
        if len(set(names)) != len(names):
            duplicate = next(n for n in names if names.count(n) > 1)
            return f"duplicate entry {duplicate.decode('utf-8', 'replace')!r}"
    return ""


class SymlinkResolver:
    """Resolves paths inside one commit's tree, following its symlinks, to see whether they leave it."""

    def __init__(self, store: BaseObjectStore, root: bytes) -> None:
        self.store = store
        self.root = root
        self._dirs: dict[bytes, dict[str, tuple[int, bytes]]] = {}

    def _listing(self, tree_id: bytes) -> dict[str, tuple[int, bytes]]:
        listing = self._dirs.get(tree_id)
        if listing is None:
            tree = self.store[ObjectID(tree_id)]
            assert isinstance(tree, Tree)
            listing = {e.path.decode("utf-8", "replace"): (e.mode, e.sha) for e in tree.iteritems()}
            self._dirs[tree_id] = listing
        return listing

    def _lookup(self, parts: list[str]) -> tuple[int, bytes] | None:
        tree_id, entry = self.root, None
        for part in parts:
            if entry is not None:
                if not stat.S_ISDIR(entry[0]):
                    return None
                tree_id = entry[1]
            entry = self._listing(tree_id).get(part)
            if entry is None:
                return None
        return entry

    def escapes(self, path: str) -> str:
        """Why the symlink at `path` (or a link it leads to) leaves the repository, or ''."""
        first = self._target(self._lookup(path.split("/")))
        queue: deque[str] = deque(path.split("/"))
        resolved: list[str] = []
        hops = 0
        while queue:
            part = queue.popleft()
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    return f"symlink to {first!r} points outside the repository"
                resolved.pop()
                continue
            entry = self._lookup([*resolved, part])
            if entry is not None and stat.S_ISLNK(entry[0]):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return f"symlink to {first!r} never resolves (a loop of symlinks)"
                target = self._target(entry)
                if target.startswith("/") or "\0" in target:
                    return f"symlink to {first!r} points outside the repository"
                queue.extendleft(reversed(target.split("/")))
                continue
            resolved.append(part)
        return ""

    def _target(self, entry: tuple[int, bytes] | None) -> str:
        if entry is None or not stat.S_ISLNK(entry[0]):
            return ""
        blob = self.store[ObjectID(entry[1])]
        assert isinstance(blob, Blob)
        return blob.as_raw_string().decode("utf-8", "replace")

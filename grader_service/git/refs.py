"""Typed bridge to dulwich's ref and object-id NewTypes: the git package passes plain bytes around."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from dulwich.object_store import BaseObjectStore
from dulwich.objects import ObjectID
from dulwich.refs import Ref, RefsContainer, check_ref_format


def as_ref(name: bytes) -> Ref:
    """``name`` (e.g. b"refs/heads/main") as dulwich's Ref."""
    return Ref(name)


def as_oid(sha: bytes) -> ObjectID:
    """A 40-character hex id as dulwich's ObjectID."""
    return ObjectID(sha)


def branch(name: str) -> Ref:
    """The full ref of branch ``name`` (the caller validates the name)."""
    return Ref(b"refs/heads/" + name.encode())


def is_valid_ref_name(name: bytes) -> bool:
    """Whether ``name`` is a well-formed ref name (git check-ref-format)."""
    return check_ref_format(Ref(name))


def has_object(store: BaseObjectStore, sha: bytes) -> bool:
    """Whether the object with hex id ``sha`` is in ``store``."""
    return ObjectID(sha) in store


def all_tips(refs: RefsContainer) -> Mapping[bytes, bytes]:
    """Every ref name → the object id it points at (one read of the refs)."""
    # the Ref/ObjectID keys and values are bytes at run time; callers look them up by plain bytes
    return cast("Mapping[bytes, bytes]", refs.as_dict())


def tip(refs: RefsContainer, name: bytes) -> ObjectID | None:
    """The object id ref ``name`` points at, or None if the ref does not exist."""
    return refs.as_dict().get(Ref(name))


def move(refs: RefsContainer, name: bytes, old: bytes | None, new: bytes) -> bool:
    """Compare-and-swap: point ``name`` at ``new`` if it is still at ``old`` (None: must not exist)."""
    return refs.set_if_equals(Ref(name), None if old is None else ObjectID(old), ObjectID(new))

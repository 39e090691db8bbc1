"""Which local WebSockets are in which group: this process's memory only.

Every backend keeps membership here; a backend only decides how a message
reaches the processes that have members (directly, or through Redis).
"""

from __future__ import annotations

import threading
from typing import Any

from .fanout import Member

#: Longest group name, in UTF-8 bytes (it becomes part of a Redis channel name).
MAX_GROUP_NAME_BYTES = 200


def check_group_name(group: object) -> str:
    """``group`` if it is a valid group name, else ``TypeError``/``ValueError``."""
    if not isinstance(group, str):
        raise TypeError(f"a group name must be a str, not {type(group).__name__}")
    if not group or len(group.encode("utf-8")) > MAX_GROUP_NAME_BYTES:
        raise ValueError(
            f"a group name must be 1 to {MAX_GROUP_NAME_BYTES} UTF-8 bytes long, not {group!r}"
        )
    return group


class Registry:
    """group name -> the local members in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, set[Member]] = {}

    def add(self, group: str, member: Member) -> bool:
        """Put ``member`` in ``group``. True if it is the group's first local member."""
        with self._lock:
            members = self._groups.get(group)
            if members is None:
                self._groups[group] = {member}
                return True
            members.add(member)
            return False

    def remove(self, group: str, member: Member) -> bool:
        """Take ``member`` out of ``group``. True if the group has no local member left."""
        with self._lock:
            members = self._groups.get(group)
            if members is None or member not in members:
                return False
            members.discard(member)
            if not members:
                del self._groups[group]
                return True
            return False

    def members(self, group: str) -> tuple[Member, ...]:
        """A snapshot (deliveries happen outside the lock)."""
        with self._lock:
            members = self._groups.get(group)
            return tuple(members) if members else ()

    def has_members(self, group: str) -> bool:
        with self._lock:
            return group in self._groups

    def group_names(self) -> list[str]:
        with self._lock:
            return sorted(self._groups)


#: The process's registry.
registry = Registry()


def deliver_local(group: str, frame: bytes) -> int:
    """Offer ``frame`` to every local member of ``group``; how many there were.

    Members that negotiated permessage-deflate without context takeover on
    our side (the default) get the message compressed, once per process for
    all those whose encoders build the same frames (``FrameEncoder.share_key``:
    the same parameters), not once per member. A member whose frames depend
    on its own history (context takeover) gets ``frame`` uncompressed, which
    RFC 7692 allows; so does one without the extension.
    """
    members = registry.members(group)
    compressed: dict[Any, bytes] = {}
    for member in members:
        member.offer(_frame_for(member, frame, compressed))
    return len(members)


def _frame_for(member: Member, frame: bytes, compressed: dict[Any, bytes]) -> bytes:
    encoder = getattr(member.websocket, "_encoder", None)
    if encoder is None or not encoder.deflate or encoder.share_key is None:
        return frame
    key = encoder.share_key
    shared = compressed.get(key)
    if shared is None:
        opcode, payload = unframe(frame)
        shared = encoder.encode(opcode, payload) if encoder.compresses(len(payload)) else frame
        compressed[key] = shared
    return shared


def unframe(frame: bytes) -> tuple[int, memoryview]:
    """The opcode and payload of a whole unmasked frame built by the core."""
    length = frame[1] & 0x7F
    start = 2 if length < 126 else 4 if length == 126 else 10
    return frame[0] & 0x0F, memoryview(frame)[start:]

"""Windows security descriptors as Active Directory returns them in nTSecurityDescriptor
(self-relative form, MS-DTYP 2.4.6), read far enough to answer one question: does this
account's token hold a control-access (extended) right on the object, such as Reset
Password (User-Force-Change-Password)? That right is not a property write, so
allowedAttributesEffective never shows it; only the DACL does.

Read with the LDAP_SERVER_SD_FLAGS control set to 0x4 (DACL only), which every account may
read on ordinary objects [observed on Samba 4.17; doc: MS-ADTS 3.1.1.3.4.1.11]."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Collection
from dataclasses import dataclass

# The extended right Reset Password (rightsGuid of User-Force-Change-Password) [doc: MS-ADTS 5.1.3.2.1].
RESET_PASSWORD = uuid.UUID("00299570-246d-11d0-a768-00aa006e0529")
USER_CLASS = uuid.UUID("bf967aba-0de6-11d0-a285-00aa003049e2")  # schemaIDGUID of class user

# Access mask bits (MS-ADTS 5.1.3.2, MS-DTYP 2.4.3).
CONTROL_ACCESS = 0x00000100  # ADS_RIGHT_DS_CONTROL_ACCESS: extended rights
GENERIC_ALL = 0x10000000

# ACE types (MS-DTYP 2.4.4.1).
ACCESS_ALLOWED = 0x00
ACCESS_DENIED = 0x01
ACCESS_ALLOWED_OBJECT = 0x05
ACCESS_DENIED_OBJECT = 0x06
ACCESS_ALLOWED_CALLBACK = 0x09
ACCESS_DENIED_CALLBACK = 0x0A
ACCESS_ALLOWED_CALLBACK_OBJECT = 0x0B
ACCESS_DENIED_CALLBACK_OBJECT = 0x0C
_OBJECT_TYPES = (
    ACCESS_ALLOWED_OBJECT,
    ACCESS_DENIED_OBJECT,
    ACCESS_ALLOWED_CALLBACK_OBJECT,
    ACCESS_DENIED_CALLBACK_OBJECT,
)
_DENY = (ACCESS_DENIED, ACCESS_DENIED_OBJECT, ACCESS_DENIED_CALLBACK, ACCESS_DENIED_CALLBACK_OBJECT)
_CALLBACK = (
    ACCESS_ALLOWED_CALLBACK,
    ACCESS_DENIED_CALLBACK,
    ACCESS_ALLOWED_CALLBACK_OBJECT,
    ACCESS_DENIED_CALLBACK_OBJECT,
)

# ACE flags and object ACE flags.
INHERIT_ONLY = 0x08
INHERITED = 0x10
OBJECT_TYPE_PRESENT = 0x1
INHERITED_OBJECT_TYPE_PRESENT = 0x2

# Security descriptor control bits.
SE_DACL_PRESENT = 0x0004
SE_SELF_RELATIVE = 0x8000

# Well-known SIDs every authenticated LDAP bind's token holds [doc: MS-DTYP 2.4.2.4]:
# Everyone, Authenticated Users, This Organization. tokenGroups lists only the account's
# groups, not these.
EVERYONE = "S-1-1-0"
AUTHENTICATED_USERS = "S-1-5-11"
THIS_ORGANIZATION = "S-1-5-15"
PRINCIPAL_SELF = "S-1-5-10"
WELL_KNOWN_TOKEN_SIDS = (EVERYONE, AUTHENTICATED_USERS, THIS_ORGANIZATION)


class BadDescriptor(ValueError):
    """The bytes are not a self-relative security descriptor (or are cut short)."""


@dataclass(frozen=True)
class Ace:
    type: int
    flags: int
    mask: int
    sid: str
    object_type: uuid.UUID | None = None
    inherited_object_type: uuid.UUID | None = None

    @property
    def deny(self) -> bool:
        return self.type in _DENY


@dataclass(frozen=True)
class Dacl:
    """The DACL of a descriptor; `aces` is None for a NULL DACL (which grants everything)."""

    aces: tuple[Ace, ...] | None


def _take(data: bytes, offset: int, size: int) -> bytes:
    if offset < 0 or offset + size > len(data):
        raise BadDescriptor(f"{size} bytes at offset {offset} are past the end ({len(data)} bytes)")
    return data[offset : offset + size]


def parse_sid(data: bytes, offset: int = 0) -> tuple[str, int]:
    """A binary SID (MS-DTYP 2.4.2.2) at `offset`: its string form and its length."""
    head = _take(data, offset, 8)
    revision, count = head[0], head[1]
    if revision != 1 or count > 15:
        raise BadDescriptor(f"not a SID at offset {offset} (revision {revision}, {count} sub-authorities)")
    authority = int.from_bytes(head[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", _take(data, offset + 8, 4 * count))
    return "S-1-" + "-".join(str(v) for v in (authority, *subs)), 8 + 4 * count


def sid_bytes(sid: str) -> bytes:
    """The binary form of 'S-1-5-21-…' (for filters and tests)."""
    parts = sid.split("-")
    if len(parts) < 3 or parts[0].upper() != "S" or parts[1] != "1":
        raise ValueError(f"not a SID: {sid}")
    authority, subs = int(parts[2]), [int(p) for p in parts[3:]]
    return bytes([1, len(subs)]) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)


def _parse_ace(data: bytes, offset: int) -> tuple[Ace | None, int]:
    ace_type, flags, size = struct.unpack_from("<BBH", _take(data, offset, 4))
    if size < 8 or offset + size > len(data):
        raise BadDescriptor(f"ACE at offset {offset} has a bad size {size}")
    body = data[offset : offset + size]
    if ace_type not in (
        ACCESS_ALLOWED,
        ACCESS_DENIED,
        ACCESS_ALLOWED_CALLBACK,
        ACCESS_DENIED_CALLBACK,
        *_OBJECT_TYPES,
    ):
        return None, size  # audit, alarm, label, resource attribute … : not about access
    (mask,) = struct.unpack_from("<I", body, 4)
    pos = 8
    object_type = inherited = None
    if ace_type in _OBJECT_TYPES:
        (object_flags,) = struct.unpack_from("<I", _take(body, pos, 4))
        pos += 4
        if object_flags & OBJECT_TYPE_PRESENT:
            object_type = uuid.UUID(bytes_le=_take(body, pos, 16))
            pos += 16
        if object_flags & INHERITED_OBJECT_TYPE_PRESENT:
            inherited = uuid.UUID(bytes_le=_take(body, pos, 16))
            pos += 16
    sid, _length = parse_sid(body, pos)
    return Ace(ace_type, flags, mask, sid, object_type, inherited), size


def parse_dacl(data: bytes) -> Dacl | None:
    """The DACL of a self-relative security descriptor; None when it has none (e.g. the
    server left it out)."""
    revision, _sbz1, control, _owner, _group, _sacl, dacl_at = struct.unpack_from(
        "<BBHIIII", _take(data, 0, 20)
    )
    if revision != 1:
        raise BadDescriptor(f"security descriptor revision {revision}, expected 1")
    if not control & SE_SELF_RELATIVE:
        raise BadDescriptor("not a self-relative security descriptor")
    if not control & SE_DACL_PRESENT:
        return None
    if dacl_at == 0:
        return Dacl(None)  # a NULL DACL: no restriction at all
    acl_revision, _s1, acl_size, count, _s2 = struct.unpack_from("<BBHHH", _take(data, dacl_at, 8))
    if acl_revision not in (2, 4):
        raise BadDescriptor(f"ACL revision {acl_revision}, expected 2 or 4")
    _take(data, dacl_at, acl_size)
    aces: list[Ace] = []
    pos = dacl_at + 8
    for _i in range(count):
        ace, size = _parse_ace(data, pos)
        if ace is not None:
            aces.append(ace)
        pos += size
    return Dacl(tuple(aces))


def control_access(
    dacl: Dacl, token: Collection[str], right: uuid.UUID, object_class: uuid.UUID | None = None
) -> bool | None:
    """Whether a token holding the SIDs `token` is granted the control-access right `right`
    on the object, by the DACL in order (MS-DTYP 2.5.3.2: the first ACE that decides the
    right wins; an explicit deny comes before the allows in canonical order). ACEs marked
    inherit-only do not apply to the object itself; an object ACE with another object type
    is about another right; one whose inherited object type names another class than
    `object_class` does not apply. None: a conditional (callback) ACE decides, which this
    cannot evaluate."""
    if dacl.aces is None:
        return True
    for ace in dacl.aces:
        if ace.flags & INHERIT_ONLY or ace.sid not in token:
            continue
        if not ace.mask & (CONTROL_ACCESS | GENERIC_ALL):
            continue
        if ace.object_type is not None and ace.object_type != right:
            continue
        if (
            ace.inherited_object_type is not None
            and object_class is not None
            and ace.inherited_object_type != object_class
        ):
            continue
        if ace.type in _CALLBACK:
            return None
        return not ace.deny
    return False

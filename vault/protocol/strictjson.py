"""JSON decoding that refuses duplicate object keys, which msgspec (like most parsers) silently accepts.

Two parsers that keep different copies of a duplicated key see different messages under one signature,
so every inbound object here must have unique keys. msgspec decodes first (so the text is valid JSON),
then we count the members written in the text and compare with the distinct members decoded: any
duplicate makes the text count larger.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

# One match per JSON string token; group 1 is ":" when the string is an object key. Possessive
# quantifiers keep this linear. Only used when the text has escapes (see `written_member_count`).
_STRING_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"\s*+(:?)')


class DuplicateKey(ValueError):
    pass


def written_member_count(data: bytes) -> int:
    """How many `"key": value` members the (already validated) JSON text contains, in all objects."""
    if b"\\" not in data:
        # Without escapes every `"` delimits a string, so the even pieces of a split are outside
        # strings, and outside strings a colon only ever separates a key from its value.
        return b"".join(data.split(b'"')[::2]).count(b":")
    return _STRING_TOKEN.findall(data).count(b":")


def distinct_member_count(value: Any) -> int:
    """Members in a decoded value: dict keys plus Struct fields that are set (optional fields are None)."""
    if isinstance(value, msgspec.Struct):
        count = 0
        for name in value.__struct_fields__:
            field = getattr(value, name)
            if field is not None:
                count += 1 + distinct_member_count(field)
        return count
    if isinstance(value, dict):
        return len(value) + sum(distinct_member_count(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(distinct_member_count(item) for item in value)
    return 0


def decode_unique(data: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode with `decoder`, then refuse the text if any object in it repeats a key.

    Raises msgspec.DecodeError / ValidationError from msgspec, or DuplicateKey. Optional Struct fields
    must default to None, and an explicit `null` for one counts as a duplicate (it is refused).
    """
    value = decoder.decode(data)
    if written_member_count(data) != distinct_member_count(value):
        raise DuplicateKey("duplicate key")
    return value

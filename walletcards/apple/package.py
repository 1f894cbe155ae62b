"""A minimal ZIP writer for .pkpass files: stored (uncompressed) entries, with the static
entries (images, strings) encoded once per programme design and reused for every pass.

PNGs do not compress and deflating them made a prototype 8x slower; only pass.json,
manifest.json and signature are new per pass (FACTS: Apple Wallet).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00: reproducible


@dataclass(frozen=True)
class Entry:
    name: bytes
    crc: int
    size: int
    local: bytes  # local header + data

    @classmethod
    def of(cls, name: str, data: bytes) -> Entry:
        encoded = name.encode("ascii")
        crc = zlib.crc32(data)
        header = _LOCAL.pack(
            0x04034B50, 20, 0, 0, _DOS_TIME, _DOS_DATE, crc, len(data), len(data), len(encoded), 0
        )
        return cls(encoded, crc, len(data), header + encoded + data)

    def central(self, offset: int) -> bytes:
        header = _CENTRAL.pack(
            0x02014B50,
            20,
            20,
            0,
            0,
            _DOS_TIME,
            _DOS_DATE,
            self.crc,
            self.size,
            self.size,
            len(self.name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        return header + self.name


class Archive:
    """Static entries first, at fixed offsets, so their central records are prebuilt too."""

    def __init__(self, static: list[Entry]) -> None:
        self.static_count = len(static)
        self.static_local = b"".join(entry.local for entry in static)
        offsets = []
        position = 0
        for entry in static:
            offsets.append(position)
            position += len(entry.local)
        self.static_central = b"".join(e.central(o) for e, o in zip(static, offsets, strict=True))

    def with_entries(self, dynamic: list[Entry]) -> list[bytes]:
        """The archive as chunks: the static part is shared, never copied per pass (a WSGI
        server writes the chunks as they are; ``b"".join`` them for one bytes object)."""
        parts = [self.static_local]
        central = [self.static_central]
        position = len(self.static_local)
        for entry in dynamic:
            parts.append(entry.local)
            central.append(entry.central(position))
            position += len(entry.local)
        directory = b"".join(central)
        count = self.static_count + len(dynamic)
        end = _END.pack(0x06054B50, 0, 0, count, count, len(directory), position, 0)
        return [*parts, directory, end]

"""One Parquet file put together from the row groups of others, their bytes copied, not decoded and encoded again.

A 0.1% run changes one day of ``fct_posts``' 366; writing its 5M rows again for that day was 3.9 s of the run's
publish, and every large mart did the same (`benchmarks/README.md`, session 31). So the published Parquet file of a
large mart with a day column holds its rows grouped by month: every row group is of one month (the month of the
mart's day column, `publish.MONTH_KEY`), and the file's footer says which (``socialcx.row_group_months``). The next
publish copies the row groups of the months whose days are unchanged, byte for byte, from the previous version's
file, writes only the changed months' rows (DuckDB's Parquet writer), and writes the footer that lists them all.

Parquet keeps everything a reader needs about a row group in the footer (the file's ``FileMetaData``, Thrift's
compact protocol): its columns' byte offsets, sizes, encodings and statistics. Moving a row group's bytes to another
offset is only a matter of moving those offsets. The footer is read and written here by a small, schema-free codec
of Thrift's compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md):
fields are kept as read, in order, and only the offsets are changed. What would point outside the row group's bytes
(page indexes, bloom filters) is dropped: both are optional, and neither is needed to read the rows.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"PAR1"
MONTHS_KEY = "socialcx.row_group_months"

# compact protocol types
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)

# Parquet's field ids (parquet.thrift) this module reads or changes
_FILE_NUM_ROWS, _FILE_ROW_GROUPS, _FILE_KEY_VALUES, _FILE_SCHEMA = 3, 4, 5, 2
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_OFFSET, _CHUNK_META = 2, 3
_CHUNK_OUTSIDE = {4, 5, 6, 7}  # offset and column index: written after every row group
_META_COMPRESSED, _META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE = 7, 9, 10, 11
_META_OUTSIDE = {14, 15}  # bloom filter offset and length


class ParquetLayoutError(ValueError):
    """A Parquet file this module cannot take row groups from (not Parquet, encrypted, columns not contiguous)."""


# --- Thrift's compact protocol, schema-free: a struct is a list of [field id, type, value] -----------------------

class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int):
        if kind in (_TRUE, _FALSE, _BYTE):  # a byte; a bool inside a list or map is one too
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.pos += 8
            return self.data[self.pos - 8:self.pos]
        if kind == _BINARY:
            size = self.varint()
            self.pos += size
            return self.data[self.pos - size:self.pos]
        if kind in (_LIST, _SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return [element, [self.value(element) for _ in range(size)]]
        if kind == _MAP:
            size = self.varint()
            types = self.byte() if size else 0
            return [types, [(self.value(types >> 4), self.value(types & 0x0F)) for _ in range(size)]]
        if kind == _STRUCT:
            return self.struct()
        raise ParquetLayoutError(f"unknown Thrift compact type {kind}")

    def struct(self) -> list[list]:
        fields, last = [], 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            delta, kind = header >> 4, header & 0x0F
            field = last + delta if delta else self.zigzag()
            value = kind == _TRUE if kind in (_TRUE, _FALSE) else self.value(kind)
            fields.append([field, kind, value])
            last = field


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while n > 0x7F:
            self.out.append((n & 0x7F) | 0x80)
            n >>= 7
        self.out.append(n)

    def zigzag(self, n: int) -> None:
        self.varint((n << 1) ^ (n >> 63))

    def value(self, kind: int, value) -> None:
        if kind in (_TRUE, _FALSE, _BYTE):
            self.out.append(value)
        elif kind in (_I16, _I32, _I64):
            self.zigzag(value)
        elif kind in (_DOUBLE, _BINARY):
            if kind == _BINARY:
                self.varint(len(value))
            self.out += value
        elif kind in (_LIST, _SET):
            element, items = value
            if len(items) < 15:
                self.out.append(len(items) << 4 | element)
            else:
                self.out.append(0xF0 | element)
                self.varint(len(items))
            for item in items:
                self.value(element, item)
        elif kind == _MAP:
            types, pairs = value
            self.varint(len(pairs))
            if pairs:
                self.out.append(types)
            for key, item in pairs:
                self.value(types >> 4, key)
                self.value(types & 0x0F, item)
        elif kind == _STRUCT:
            self.struct(value)
        else:
            raise ParquetLayoutError(f"unknown Thrift compact type {kind}")

    def struct(self, fields: list[list]) -> None:
        last = 0
        for field, kind, value in fields:
            if kind in (_TRUE, _FALSE):
                kind = _TRUE if value else _FALSE
            delta = field - last
            if 0 < delta <= 15:
                self.out.append(delta << 4 | kind)
            else:
                self.out.append(kind)
                self.zigzag(field)
            if kind not in (_TRUE, _FALSE):
                self.value(kind, value)
            last = field
        self.out.append(0)


def decode(data: bytes) -> list[list]:
    """A Thrift struct in the compact protocol, as [field id, type, value] lists."""
    return _Reader(data).struct()


def encode(fields: list[list]) -> bytes:
    writer = _Writer()
    writer.struct(fields)
    return bytes(writer.out)


def _get(fields: list[list], field: int, default=None):
    return next((value for fid, _, value in fields if fid == field), default)


def _set(fields: list[list], field: int, kind: int, value) -> None:
    for entry in fields:
        if entry[0] == field:
            entry[1], entry[2] = kind, value
            return
    fields.append([field, kind, value])
    fields.sort(key=lambda entry: entry[0])


# --- Parquet files -------------------------------------------------------------------------------------------------

@dataclass
class Footer:
    path: Path
    meta: list[list]  # FileMetaData

    @property
    def row_groups(self) -> list[list[list]]:
        return (_get(self.meta, _FILE_ROW_GROUPS) or [_STRUCT, []])[1]

    @property
    def schema(self) -> bytes:
        """The file's columns and types, as written (two files whose row groups go together have the same)."""
        return encode([[_FILE_SCHEMA, _LIST, _get(self.meta, _FILE_SCHEMA)]])

    def key_value(self, key: str) -> str | None:
        for entry in (_get(self.meta, _FILE_KEY_VALUES) or [_STRUCT, []])[1]:
            if _get(entry, 1) == key.encode():
                value = _get(entry, 2)
                return value.decode() if value is not None else None
        return None

    def months(self) -> list[str | None] | None:
        """The month of each row group (`MONTHS_KEY`), or None when the file does not say (another layout)."""
        try:
            months = json.loads(self.key_value(MONTHS_KEY) or "null")
        except ValueError:
            return None
        if not isinstance(months, list) or len(months) != len(self.row_groups) or not all(
                month is None or isinstance(month, str) for month in months):
            return None
        return months


def read_footer(path: Path) -> Footer:
    size = path.stat().st_size
    with path.open("rb") as file:
        if size < 12 or file.read(4) != MAGIC:
            raise ParquetLayoutError(f"{path} is not a Parquet file")
        file.seek(size - 8)
        tail = file.read(8)
        length = struct.unpack("<I", tail[:4])[0]
        if tail[4:] != MAGIC or length > size - 12:  # b"PARE": an encrypted footer
            raise ParquetLayoutError(f"{path} has no plain Parquet footer")
        file.seek(size - 8 - length)
        try:
            return Footer(path, decode(file.read(length)))
        except (IndexError, ParquetLayoutError) as exc:
            raise ParquetLayoutError(f"{path}: unreadable Parquet footer ({exc})") from None


def group_rows(group: list[list]) -> int:
    return _get(group, _GROUP_NUM_ROWS, 0)


def _span(group: list[list]) -> tuple[int, int]:
    """The bytes a row group's column chunks occupy: [start, end). Its chunks must lie one after the other."""
    start = end = None
    for chunk in _get(group, _GROUP_COLUMNS, [_STRUCT, []])[1]:
        meta = _get(chunk, _CHUNK_META)
        if meta is None or _get(chunk, 1) is not None:  # no metadata (encrypted), or a chunk in another file
            raise ParquetLayoutError("a column chunk without its metadata in the file")
        offsets = [_get(meta, field) for field in (_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE)]
        first = min((offset for offset in offsets if offset), default=0)
        if start is None:
            start = end = first
        if first != end or first < len(MAGIC):
            raise ParquetLayoutError("a row group whose column chunks do not follow one another")
        end = first + _get(meta, _META_COMPRESSED, 0)
    if start is None:
        raise ParquetLayoutError("a row group without columns")
    return start, end


def _moved(group: list[list], shift: int, ordinal: int) -> list[list]:
    """A copy of a row group's metadata for its bytes moved by ``shift``; what lies outside them is dropped."""
    moved = []
    for field, kind, value in group:
        if field == _GROUP_COLUMNS:
            chunks = []
            for chunk in value[1]:
                copied = []
                for cfield, ckind, cvalue in chunk:
                    if cfield in _CHUNK_OUTSIDE:
                        continue
                    if cfield == _CHUNK_FILE_OFFSET and cvalue:
                        cvalue += shift
                    elif cfield == _CHUNK_META:
                        cvalue = [[mfield, mkind, mvalue + shift if mfield in (
                            _META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE) and mvalue else mvalue]
                                  for mfield, mkind, mvalue in cvalue if mfield not in _META_OUTSIDE]
                    copied.append([cfield, ckind, cvalue])
                chunks.append(copied)
            value = [value[0], chunks]
        elif field == _GROUP_FILE_OFFSET and value:
            value += shift
        elif field == _GROUP_ORDINAL:
            value = ordinal
        moved.append([field, kind, value])
    return moved


def _copy_range(source, target, start: int, length: int) -> None:
    """``length`` bytes of ``source`` from ``start`` to the end of ``target``, in the kernel where it can."""
    target.flush()
    done = 0
    try:
        while done < length:
            copied = os.copy_file_range(source.fileno(), target.fileno(), length - done, start + done)
            if copied == 0:
                raise ParquetLayoutError("the file ended inside a row group")
            done += copied
        target.seek(0, os.SEEK_END)
        return
    except (AttributeError, OSError):
        target.seek(0, os.SEEK_END)  # what was copied stays; the rest through Python
    source.seek(start + done)
    while done < length:
        block = source.read(min(8 << 20, length - done))
        if not block:
            raise ParquetLayoutError("the file ended inside a row group")
        target.write(block)
        done += len(block)


def stitch(target: Path, pieces: list[tuple[Footer, int, str | None]]) -> int:
    """Write ``target``: the row groups ``pieces`` name (a file's footer, the row group's index in it, its month),
    in that order, bytes copied; its footer is the first piece's file's, with these row groups, their months
    (`MONTHS_KEY`) and their row count. Every piece's file must have the same columns. Returns the rows written."""
    if not pieces:
        raise ParquetLayoutError("nothing to put together")
    template = pieces[0][0]
    if any(footer.schema != template.schema for footer, _, _ in pieces):
        raise ParquetLayoutError("row groups of files with different columns")
    groups, rows, handles = [], 0, {}
    try:
        with target.open("wb") as out:
            out.write(MAGIC)
            for footer, index, _ in pieces:
                group = footer.row_groups[index]
                start, end = _span(group)
                source = handles.get(footer.path) or handles.setdefault(footer.path, footer.path.open("rb"))
                position = out.tell()
                _copy_range(source, out, start, end - start)
                if out.tell() != position + end - start:
                    raise ParquetLayoutError("a row group was not copied whole")
                groups.append(_moved(group, position - start, len(groups)))
                rows += group_rows(group)
            meta = [list(entry) for entry in template.meta]
            _set(meta, _FILE_ROW_GROUPS, _LIST, [_STRUCT, groups])
            _set(meta, _FILE_NUM_ROWS, _I64, rows)
            kept = [entry for entry in (_get(meta, _FILE_KEY_VALUES) or [_STRUCT, []])[1]
                    if _get(entry, 1) != MONTHS_KEY.encode()]
            months = json.dumps([month for _, _, month in pieces]).encode()
            _set(meta, _FILE_KEY_VALUES, _LIST,
                 [_STRUCT, [*kept, [[1, _BINARY, MONTHS_KEY.encode()], [2, _BINARY, months]]]])
            footer_bytes = encode(meta)
            out.write(footer_bytes)
            out.write(struct.pack("<I", len(footer_bytes)))
            out.write(MAGIC)
    finally:
        for handle in handles.values():
            handle.close()
    return rows

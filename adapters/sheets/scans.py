"""The scans an import sheet names (附件 column), from a folder or a zip beside it.

A sheet names each scan by its path in the folder or zip (`扫描件/张一授权书.jpg`), or by the end
of its path — its file name alone — when exactly one file there ends so (a zip made from a
folder puts the folder's name in front of every path).

Nothing is extracted to disk: a zip's members are read in memory, each at most `limit` bytes
however large its header says it is, so a zip bomb costs at most a limit's worth of memory
before it is refused; a path that climbs out of the folder or zip (`../`, an absolute path, a
drive) is never read, and neither is a symbolic link leading out of the folder. Every failure is
a `ScanError` whose reason a clerk reads (reported under 附件 at the row that named the scan).
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

ZIP_UTF8_FLAG = 0x800  # general purpose bit 11: the member's name is UTF-8 (APPNOTE 4.4.4)


class ScanError(ValueError):
    """A named scan that cannot be read; the reason is in Chinese."""


def safe_path(name: str) -> str | None:
    """A relative path with `/` separators, or None when it climbs out (`..`), is absolute or
    names a drive."""
    text = name.replace("\\", "/").strip()
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


class ScanSource(Protocol):
    """Where an import's scans are: `read(name, limit)` gives a named file's bytes."""

    def read(self, name: str, limit: int) -> bytes:
        """The content of `name` (a path or a unique file name); `ScanError` when it is not
        there, is ambiguous, climbs out, or has more than `limit` bytes."""
        ...


class _Indexed:
    """Lookup shared by folders and zips: path → handle, with unique file names as a fallback."""

    def __init__(self) -> None:
        self._paths: dict[str, object] | None = None

    def _entries(self) -> Iterator[tuple[str, object]]:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the source holds open (a zip)."""

    def _index(self) -> dict[str, object]:
        if self._paths is None:
            self._paths = dict(self._entries())
        return self._paths

    def find(self, name: str) -> object:
        path = safe_path(name)
        if path is None:
            raise ScanError(f"“{name}”：路径不能跳出附件文件夹或压缩包（不能含“..”或绝对路径）")
        paths = self._index()
        if path in paths:
            return paths[path]
        # a zip made from a folder puts the folder's name in front of every path
        same = [p for p in paths if p.endswith("/" + path)]
        if len(same) == 1:
            return paths[same[0]]
        if len(same) > 1:
            raise ScanError(f"“{name}”有{len(same)}个同名文件，请写明路径：{'、'.join(same[:3])}")
        raise ScanError(f"附件文件夹或压缩包中没有“{name}”")


def _too_large(name: str, limit: int) -> ScanError:
    mb = 1024 * 1024
    size = f"{limit // mb}MB" if limit % mb == 0 else f"{limit}字节"
    return ScanError(f"“{name}”超过单个附件{size}的上限")


class FolderScans(_Indexed):
    """Scans in a folder (and its subfolders)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()
        if not self.root.is_dir():
            raise ScanError(f"附件文件夹不存在：{root}")

    def _entries(self) -> Iterator[tuple[str, object]]:
        for folder, _, names in os.walk(self.root):
            for n in names:
                full = Path(folder, n)
                yield full.relative_to(self.root).as_posix(), full

    def read(self, name: str, limit: int) -> bytes:
        found = self.find(name)
        assert isinstance(found, Path)  # noqa: S101 — what `_entries` indexes
        real = found.resolve()
        if not real.is_relative_to(self.root) or not real.is_file():
            raise ScanError(f"“{name}”：路径不能跳出附件文件夹")
        if real.stat().st_size > limit:
            raise _too_large(name, limit)
        with real.open("rb") as f:
            content = f.read(limit + 1)
        if len(content) > limit:
            raise _too_large(name, limit)
        return content


class ZipScans(_Indexed):
    """Scans in a zip (a path or an open, seekable file such as an upload's spooled file)."""

    def __init__(self, file: Path | IO[bytes]) -> None:
        super().__init__()
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise ScanError(f"附件压缩包无法读取（须为zip）：{error}") from None

    def _entries(self) -> Iterator[tuple[str, object]]:
        for info in self.zip.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if not info.flag_bits & ZIP_UTF8_FLAG:
                # Windows' own zips write names in the local code page (GBK on a Chinese
                # Windows) without the UTF-8 flag; Python decodes them as cp437
                with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                    name = name.encode("cp437").decode("gb18030")
            path = safe_path(name)
            if path is not None:  # a member whose path climbs out is never read
                yield path, info

    def read(self, name: str, limit: int) -> bytes:
        info = self.find(name)
        assert isinstance(info, zipfile.ZipInfo)  # noqa: S101 — what `_entries` indexes
        if info.file_size > limit:
            raise _too_large(name, limit)
        try:
            with self.zip.open(info) as member:
                # the header's size may lie: read no more than the limit allows, whatever it says
                content = member.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise ScanError(f"“{name}”无法从压缩包中读取：{error}") from None
        except RuntimeError:  # an encrypted member
            raise ScanError(f"“{name}”已加密，无法读取") from None
        if len(content) > limit:
            raise _too_large(name, limit)
        return content

    def close(self) -> None:
        self.zip.close()


def scans_at(path: Path) -> FolderScans | ZipScans:
    """The scans in a folder or a zip file."""
    if path.is_dir():
        return FolderScans(path)
    if not path.is_file():
        raise ScanError(f"附件文件夹或压缩包不存在：{path}")
    return ZipScans(path)

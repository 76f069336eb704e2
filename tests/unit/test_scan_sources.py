"""Where an import's scans are read from (`adapters.sheets.scans`): paths that stay inside the
folder or zip, names found by their path's end, sizes bounded whatever a zip says."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from adapters.runtime.settings import Settings
from adapters.sheets.scans import ScanError, ZipScans, safe_path, scans_at


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("a.jpg", "a.jpg"),
        ("扫描件/张一.jpg", "扫描件/张一.jpg"),
        ("扫描件\\张一.jpg", "扫描件/张一.jpg"),
        ("./扫描件//张一.jpg", "扫描件/张一.jpg"),
        ("../a.jpg", None),
        ("扫描件/../../a.jpg", None),
        ("/etc/passwd", None),
        ("C:\\a.jpg", None),
        ("", None),
    ],
)
def test_a_path_is_kept_inside_the_folder_or_zip(written: str, path: str | None) -> None:
    assert safe_path(written) == path


def zipped(names: list[str]) -> ZipScans:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, name.encode())
    out.seek(0)
    return ZipScans(out)


class TestAZipsScans:
    def test_are_found_by_path_or_by_its_end_when_only_one_ends_so(self) -> None:
        scans = zipped(["档案/扫描件/a.jpg", "档案/b.jpg", "其他/b.jpg"])

        assert (
            scans.read("档案/扫描件/a.jpg", 100)
            == b"\xe6\xa1\xa3\xe6\xa1\x88/\xe6\x89\xab\xe6\x8f\x8f\xe4\xbb\xb6/a.jpg"
        )
        assert scans.read("扫描件/a.jpg", 100) == scans.read("a.jpg", 100)
        with pytest.raises(ScanError, match="有2个同名文件"):
            scans.read("b.jpg", 100)

    def test_that_climb_out_are_never_indexed(self) -> None:
        scans = zipped(["../evil.jpg", "/abs.jpg", "ok.jpg"])

        with pytest.raises(ScanError, match=r"没有“evil\.jpg”"):
            scans.read("evil.jpg", 100)
        with pytest.raises(ScanError, match="路径不能跳出"):
            scans.read("../evil.jpg", 100)
        assert scans.read("ok.jpg", 100) == b"ok.jpg"

    def test_over_the_limit_are_refused(self) -> None:
        scans = zipped(["a.jpg"])

        with pytest.raises(ScanError, match="超过单个附件3字节的上限"):
            scans.read("a.jpg", 3)

    def test_of_a_file_that_is_no_zip_are_refused_as_unreadable(self) -> None:
        with pytest.raises(ScanError, match="附件压缩包无法读取"):
            ZipScans(io.BytesIO(b"not a zip"))


def test_an_imports_body_limit_is_256_mb_unless_set() -> None:
    assert Settings.from_env({}).import_max_bytes == 256 * 1024 * 1024
    assert Settings.from_env({"BANGFU_IMPORT_MAX_BYTES": "1000"}).import_max_bytes == 1000


class TestTheAttachmentsArgument:
    def test_is_a_folder_or_a_zip_file(self, tmp_path: Path) -> None:
        (tmp_path / "扫描件").mkdir()
        (tmp_path / "扫描件" / "a.jpg").write_bytes(b"a")
        with zipfile.ZipFile(tmp_path / "扫描件.zip", "w") as z:
            z.writestr("a.jpg", b"z")

        assert scans_at(tmp_path / "扫描件").read("a.jpg", 10) == b"a"
        assert scans_at(tmp_path / "扫描件.zip").read("a.jpg", 10) == b"z"

    def test_that_does_not_exist_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ScanError, match="附件文件夹或压缩包不存在"):
            scans_at(tmp_path / "没有")

"""``icb-book fetch``: download a datahub study archive (cached) and import it.

A local HTTP server on 127.0.0.1 (a thread of the test process) serves archives the tests
build from the real Rizvi 2018 table: a good one, one whose download breaks off half way, a
corrupt one, one that tries to write outside its folder, and a 404. No real network is used.
"""

from __future__ import annotations

import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.analysis.validation import pfs_months
from helpers.book.cli import main
from helpers.data.fetch import fetch_study, study_url
from helpers.errors import WITHHELD, FetchError, ParameterError
from helpers.stats.survival import kaplan_meier, km_median
from test_sources import write_rizvi_study


def _tar_gz(folder: Path, arcname: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server(public_dir, tmp_path_factory):
    """Serve /good.tar.gz, /truncated.tar.gz, /corrupt.tar.gz, /escape.tar.gz and
    /unimportable.tar.gz (a PFS status no one can read); count requests."""
    study = write_rizvi_study(public_dir, tmp_path_factory.mktemp("build") / "good")
    good = _tar_gz(study, "good")
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        data = b"type_of_cancer: x\n"
        info = tarfile.TarInfo("../../outside/meta_study.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    broken = write_rizvi_study(public_dir, tmp_path_factory.mktemp("build") / "unimportable")
    clinical = broken / "data_clinical_patient.txt"
    clinical.write_text(clinical.read_text().replace("0:Not Progressed", "Unclear", 1))
    files = {
        "/good.tar.gz": good,
        "/truncated.tar.gz": good,
        "/unimportable.tar.gz": _tar_gz(broken, "x"),
        "/corrupt.tar.gz": b"\x1f\x8b\x08\x00 this is not a gzip stream " * 50,
        "/escape.tar.gz": evil.getvalue(),
    }
    hits: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            hits[self.path] = hits.get(self.path, 0) + 1
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path == "/truncated.tar.gz":
                self.wfile.write(body[: len(body) // 2])  # then the connection closes
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, *args):  # keep the test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    ids = {line.split("\t")[0] for line in clinical.read_text().splitlines() if not line.startswith("#")}
    yield {
        "url": f"http://127.0.0.1:{httpd.server_address[1]}",
        "hits": hits,
        "patient_ids": ids - {"PATIENT_ID"},
    }
    httpd.shutdown()
    httpd.server_close()


def test_download_import_and_cache(server, tmp_path):
    cache = tmp_path / "cache"
    res = fetch_study("good", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False)
    c = res.cohort
    assert len(c.patients) == 240 and c.access == "restricted"
    pfs = pfs_months(c)
    assert int(pfs["event"].sum()) == 198
    assert round(km_median(kaplan_meier(pfs["months"], pfs["event"])), 2) == 3.43
    # the cache keeps the archive only (the unpacked study is removed)
    assert [p.name for p in cache.iterdir()] == ["good.tar.gz"]
    assert (tmp_path / "cohort.pseudonyms.tsv").is_file()
    n = server["hits"]["/good.tar.gz"]
    fetch_study("good", tmp_path / "again", base_url=server["url"], cache_dir=cache, progress=False)
    assert server["hits"]["/good.tar.gz"] == n  # served from the cache


def test_truncated_download_leaves_the_cache_clean(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError, match="broke off before the end"):
        fetch_study("truncated", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False)
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "cohort").exists()


def test_corrupt_archive_is_removed(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError, match="corrupt.tar.gz is not a readable study archive"):
        fetch_study("corrupt", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False)
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "cohort").exists()


def test_archive_cannot_write_outside_its_folder(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError, match="not a readable study archive"):
        fetch_study("escape", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False)
    assert not (tmp_path / "outside").exists() and not (cache.parent / "outside").exists()
    assert list(cache.iterdir()) == []


def test_missing_study_and_bad_identifier(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError, match="HTTP 404 \\(no such study on the datahub\\?\\)"):
        fetch_study("absent", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False)
    assert list(cache.iterdir()) == []
    with pytest.raises(ParameterError, match="not a cBioPortal study identifier"):
        study_url("../etc/passwd")
    assert (
        study_url("nsclc_pd1_msk_2018", "https://example.org/")
        == "https://example.org/nsclc_pd1_msk_2018.tar.gz"
    )


def test_study_that_cannot_be_imported(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError) as info:
        fetch_study(
            "unimportable", tmp_path / "cohort", base_url=server["url"], cache_dir=cache, progress=False
        )
    message = str(info.value)
    assert message.startswith("study unimportable was downloaded but cannot be imported:")
    assert "table 'data_clinical_patient.txt', column 'PFS_STATUS': cannot read the status" in message
    assert "Unclear" in message and WITHHELD in message and "line" in message
    assert len(server["patient_ids"]) == 240 and not any(p in message for p in server["patient_ids"])
    assert not (tmp_path / "cohort").exists()
    assert [p.name for p in cache.iterdir()] == ["unimportable.tar.gz"]  # a good archive stays


def test_base_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("ICB_BOOK_DATAHUB_URL", "http://127.0.0.1:9/hub")
    assert study_url("x1") == "http://127.0.0.1:9/hub/x1.tar.gz"
    monkeypatch.delenv("ICB_BOOK_DATAHUB_URL")
    assert study_url("x1") == "https://datahub.assets.cbioportal.org/x1.tar.gz"


def test_cli(server, tmp_path, capsys):
    args = ["--base-url", server["url"], "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    assert main(["fetch", "good", "--out", str(tmp_path / "c"), "--open", *args]) == 0
    out = capsys.readouterr().out
    assert "access: open" in out and "icb-book run -p cohort=" in out
    assert main(["fetch", "corrupt", "--out", str(tmp_path / "d"), *args]) == 1
    assert "icb-book fetch: error: corrupt.tar.gz is not a readable study archive" in capsys.readouterr().err

"""Download a public cBioPortal datahub study and import it (``icb-book fetch STUDY_ID``).

The datahub publishes every study as ``<base>/<STUDY_ID>.tar.gz``. The archive is downloaded
once into a cache with :mod:`pooch` (with a progress bar), unpacked into a temporary folder,
imported with :func:`helpers.data.importers.cbioportal.import_cbioportal`, and the unpacked files are removed:
the cache keeps only complete archives. A download that breaks off, a server error or an
archive that cannot be unpacked gives a :class:`helpers.errors.FetchError` and leaves nothing in
the cache; a study that is downloaded but cannot be imported gives a ``FetchError`` too, with
the importer's message.

The base URL is :data:`DEFAULT_BASE_URL`, or the environment variable ``ICB_BOOK_DATAHUB_URL``,
or the ``base_url`` argument (``--base-url`` on the command line); the cache folder is
``.cache/datahub`` in the repository, or ``ICB_BOOK_CACHE``, or ``cache_dir``.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

import pooch
import requests

from helpers.data.importers.cbioportal import import_cbioportal
from helpers.data.importers.common import ImportResult
from helpers.errors import FetchError, InputError, ParameterError

DEFAULT_BASE_URL = "https://datahub.assets.cbioportal.org"
BASE_URL_ENV = "ICB_BOOK_DATAHUB_URL"
CACHE_ENV = "ICB_BOOK_CACHE"
#: cBioPortal study identifiers: letters, digits, underscores, dots and hyphens.
STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def study_url(study_id: str, base_url: str | None = None) -> str:
    """The archive URL of a study.

    Raises
    ------
    helpers.errors.ParameterError
        If ``study_id`` is not a cBioPortal study identifier (it becomes part of a URL).
    """
    if not STUDY_ID.match(study_id or ""):
        raise ParameterError(
            f"'{study_id}' is not a cBioPortal study identifier (letters, digits, "
            "'_', '.', '-'), e.g. nsclc_pd1_msk_2018"
        )
    base = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}/{study_id}.tar.gz"


def default_cache_dir() -> Path:
    """Where downloaded archives are kept."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[3] / ".cache" / "datahub"


def download_study(
    study_id: str,
    *,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download (or reuse from the cache) the archive of a study; return its path.

    Raises
    ------
    FetchError
        On an HTTP error, a broken-off or failed download; nothing is left in the cache.
    """
    url = study_url(study_id, base_url)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{study_id}.tar.gz"
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    try:
        path = pooch.retrieve(url, known_hash=None, fname=target.name, path=cache, downloader=downloader)
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        hint = " (no such study on the datahub?)" if status == 404 else ""
        raise FetchError(f"downloading {url} failed: HTTP {status}{hint}") from None
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
    ) as exc:
        target.unlink(missing_ok=True)
        raise FetchError(
            f"downloading {url} broke off before the end ({type(exc).__name__}); "
            "nothing was kept in the cache, try again"
        ) from None
    except requests.exceptions.RequestException as exc:
        target.unlink(missing_ok=True)
        raise FetchError(f"downloading {url} failed: {exc}") from None
    return Path(path)


def extract_study(archive: str | Path, dest: str | Path) -> Path:
    """Unpack a study archive into ``dest``; return the folder holding ``meta_study.txt``.

    Members that would land outside ``dest`` (absolute paths, '..', links) are refused.

    Raises
    ------
    FetchError
        If the archive cannot be read or has no ``meta_study.txt``.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise FetchError(
            f"{archive.name} is not a readable study archive ({type(exc).__name__}: {exc})"
        ) from None
    metas = sorted(dest.rglob("meta_study.txt"), key=lambda p: len(p.parts))
    if not metas:
        raise FetchError(f"{archive.name} holds no meta_study.txt: not a cBioPortal study")
    return metas[0].parent


def fetch_study(
    study_id: str,
    out_dir: str | Path,
    *,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    open_data: bool = False,
    death_is_progression: bool = False,
    progress: bool = True,
) -> ImportResult:
    """Download a datahub study (cached) and import it into the canonical cohort ``out_dir``.

    A corrupt archive is removed from the cache before the error is raised, so the next
    attempt downloads it again. See :func:`helpers.data.importers.cbioportal.import_cbioportal`
    for the import.

    Raises
    ------
    helpers.errors.FetchError
        If the download or the unpacking fails, or the study cannot be imported.
    """
    archive = download_study(study_id, base_url=base_url, cache_dir=cache_dir, progress=progress)
    work = Path(tempfile.mkdtemp(prefix=f".{study_id}.", dir=archive.parent))
    try:
        try:
            study = extract_study(archive, work)
        except FetchError:
            archive.unlink(missing_ok=True)
            raise
        try:
            return import_cbioportal(
                study, out_dir, open_data=open_data, death_is_progression=death_is_progression
            )
        except InputError as exc:
            raise FetchError(f"study {study_id} was downloaded but cannot be imported: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)

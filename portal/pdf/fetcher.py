"""What the PDF renderer may read: the app's own static files, from disk, and nothing else."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

# The document's base URL. `.invalid` never resolves (RFC 2606), so even a fetcher
# that went to the network could not reach anything with it.
ASSET_ORIGIN = "https://afterword.invalid"
STATIC_PREFIX = "/static/"


class RefusedURL(ValueError):
    """The document asked for something outside the static files; WeasyPrint skips it."""


class StaticAssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves `https://afterword.invalid/static/<path>` from `static_dir`; refuses the rest.

    Everything WeasyPrint would fetch passes through `fetch`: stylesheets, images,
    fonts named in `@font-face`, whatever the document's text could sneak in. The
    network, `file://` and `data:` URLs are refused, so no text shown in a PDF can
    make the renderer reach anything; system fonts come from fontconfig, not here.
    """

    def __init__(self, static_dir: Path, **kwargs: Any) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False, **kwargs)
        self._root = static_dir.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.local_path(url)
        if path is None:
            raise RefusedURL(f"not one of the portal's static files: {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def local_path(self, url: str) -> Path | None:
        """The file a URL names under the static directory, or None if it names anything else."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != ASSET_ORIGIN or parts.query:
            return None
        if not parts.path.startswith(STATIC_PREFIX):
            return None
        path = (self._root / unquote(parts.path[len(STATIC_PREFIX) :])).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            return None
        return path

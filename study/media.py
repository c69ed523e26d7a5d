"""Audio responses for the participant pages: byte ranges, validators and caching headers.

Browsers fetch stems whole for Web Audio and in ranges for ``<audio>`` seeking; both must
work, and a stem that has not changed must not be downloaded twice. These helpers answer
``Range`` (206, or 416 when unsatisfiable), ``If-Range``, ``If-None-Match`` and
``If-Modified-Since`` (304) and set ``ETag``, ``Last-Modified``, ``Accept-Ranges`` and
``Cache-Control``. They never take a path from the request: the caller resolves which file
belongs to the participant and ``resolve_inside`` refuses anything outside its root.
"""

import hashlib
import mimetypes
import re
from pathlib import Path

from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

CHUNK_BYTES = 64 * 1024
CACHE_CONTROL = "private, max-age=86400"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

mimetypes.add_type("audio/flac", ".flac")
mimetypes.add_type("audio/wav", ".wav")


def resolve_inside(root, relative):
    """Return ``root / relative`` as an existing file, or raise Http404 if it escapes ``root``.

    Symlinks and ``..`` are resolved before the check, so no stored path can reach a file
    outside ``root``.
    """
    root = Path(root).resolve()
    candidate = (root / str(relative)).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise Http404("No such audio file.")
    return candidate


def parse_range(header, size):
    """Parse a single ``bytes=`` range against a body of ``size`` bytes.

    Returns
    -------
    tuple of (int, int) or None or str
        ``(first, last)`` inclusive for a satisfiable range; ``None`` when the header is absent,
        malformed or asks for several ranges (then the whole body is sent, as RFC 9110 allows);
        ``"unsatisfiable"`` when the range starts beyond the end.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:
        suffix = int(end)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size:
        return "unsatisfiable"
    if last < first:
        return None
    return first, last


def _not_modified(request, etag, modified):
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and modified is not None and int(modified) <= since


def _range_for(request, etag, modified, size):
    if_range = request.headers.get("If-Range")
    if if_range is not None:
        if if_range.startswith(('"', "W/")):
            if if_range.strip() != etag:
                return None
        else:
            since = parse_http_date_safe(if_range)
            if since is None or modified is None or int(modified) > since:
                return None
    return parse_range(request.headers.get("Range"), size)


def _headers(response, *, etag, modified, content_type, cache_control):
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = cache_control
    if content_type:
        response["Content-Type"] = content_type
    return response


def _read(path, first, length):
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def file_response(request, path, *, cache_control=CACHE_CONTROL):
    """Serve ``path`` (already resolved and authorised) with ranges and validators."""
    stat = path.stat()
    size = stat.st_size
    modified = stat.st_mtime
    etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return _respond(
        request,
        size=size,
        etag=etag,
        modified=modified,
        content_type=content_type,
        cache_control=cache_control,
        body=lambda first, length: _read(path, first, length),
    )


def bytes_response(request, data, *, content_type, cache_control=CACHE_CONTROL):
    """Serve in-memory ``data`` (a generated stimulus) with ranges and a content-hash ETag."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    return _respond(
        request,
        size=len(data),
        etag=etag,
        modified=None,
        content_type=content_type,
        cache_control=cache_control,
        body=lambda first, length: [data[first : first + length]],
    )


def _respond(request, *, size, etag, modified, content_type, cache_control, body):
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    headers = {"etag": etag, "modified": modified, "content_type": None, "cache_control": cache_control}
    if _not_modified(request, etag, modified):
        return _headers(HttpResponseNotModified(), **headers)
    byte_range = _range_for(request, etag, modified, size)
    if byte_range == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return _headers(response, **headers)
    first, last = byte_range if byte_range else (0, size - 1)
    length = max(0, last - first + 1)
    chunks = [] if request.method == "HEAD" else body(first, length)
    response = StreamingHttpResponse(chunks, status=206 if byte_range else 200)
    response["Content-Length"] = str(length)
    if byte_range:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return _headers(response, **{**headers, "content_type": content_type})

"""Zips streamed on the fly from the store: nothing is assembled on disk or in memory."""

from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from zipstream import ZipStream

from aicenter.store import get_store


def blob_chunks(key: str) -> Iterator[bytes]:
    # A generator, so the object is opened only when the zip reaches this entry.
    yield from get_store().open_stream(key)


def zip_stream(
    files: Iterable[tuple[str, str | Iterable[bytes], int]], folders: Iterable[str] = ()
) -> ZipStream:
    """A zip of (name in the zip, store key or the content's chunks, size) entries, plus folders.

    Stored without compression, so its exact size is known before the first byte.
    """
    stream = ZipStream(sized=True)
    for folder in folders:
        stream.mkdir(folder)
    for arcname, source, size in files:
        chunks = blob_chunks(source) if isinstance(source, str) else source
        stream.add(chunks, arcname, size=size)
    return stream


def zip_response(stream: ZipStream, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response

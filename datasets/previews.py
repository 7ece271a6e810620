"""Previews of a dataset file, read from the store up to a cap and never further."""

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import PurePosixPath

import nh3
from django.http import Http404, StreamingHttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from aicenter.store import get_store
from datasets.models import DatasetFile

TEXT_HEAD_BYTES = 64 * 1024
TABLE_ROWS = 50
JSON_MAX_BYTES = 256 * 1024
IMAGE_MAX_BYTES = 10 * 1024 * 1024
# Raster formats only: an SVG opened on its own runs scripts in the site's origin.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}
TABLE_TYPES = {"text/csv": ",", "text/tab-separated-values": "\t"}
TEXT_TYPES = {"application/json", "application/xml", "application/yaml", "application/x-yaml"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
# Markdown's own HTML is dropped when parsing; the sanitiser is the second wall. Images are
# left out: a preview must not make the browser fetch from wherever a file points.
MARKDOWN = MarkdownIt("commonmark", {"html": False})
MARKDOWN_TAGS = nh3.ALLOWED_TAGS - {"img"}
TEXT_SUFFIXES = {".log", ".jsonl", ".ndjson", ".yml", ".yaml", ".toml", ".ini", ".cfg", ".env"}


@dataclass
class Preview:
    kind: str  # image, table, json, markdown, text or none
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False


def read_head(key: str, limit: int) -> bytes:
    """At most `limit` bytes from the start of the object; the rest is never asked for."""
    chunks = get_store().open_stream(key, chunk_size=limit)
    head = bytearray()
    try:
        for chunk in chunks:
            head += chunk[: limit - len(head)]
            if len(head) >= limit:
                break
    finally:
        chunks.close()
    return bytes(head)


def decoded(head: bytes, complete: bool) -> str:
    # An incomplete head may end inside a character: hold that tail back instead of mangling it.
    return codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=complete)


def preview_kind(file: DatasetFile) -> str:
    kind = file.content_type
    if kind in IMAGE_TYPES:
        return "image" if file.size <= IMAGE_MAX_BYTES else "none"
    if kind in TABLE_TYPES:
        return "table"
    if kind == "application/json" and file.size <= JSON_MAX_BYTES:
        return "json"
    if kind == "text/markdown" or PurePosixPath(file.path).suffix.lower() in MARKDOWN_SUFFIXES:
        return "markdown"
    textual = kind.startswith("text/") or kind in TEXT_TYPES
    if textual or PurePosixPath(file.path).suffix.lower() in TEXT_SUFFIXES:
        return "text"
    return "none"


def preview_for(file: DatasetFile) -> Preview:
    kind = preview_kind(file)
    if kind == "table":
        return table_preview(file)
    if kind == "json":
        return json_preview(file)
    if kind == "text":
        return text_preview(file)
    if kind == "markdown":
        return markdown_preview(file)
    return Preview(kind)


def text_preview(file: DatasetFile) -> Preview:
    head = read_head(file.key, TEXT_HEAD_BYTES)
    complete = len(head) >= file.size
    return Preview("text", text=decoded(head, complete), truncated=not complete)


def markdown_preview(file: DatasetFile) -> Preview:
    text = text_preview(file)
    return Preview("markdown", text=rendered_markdown(text.text), truncated=text.truncated)


def rendered_markdown(text: str) -> SafeString:
    """The Markdown as HTML that keeps no script, style, event handler or image."""
    return mark_safe(nh3.clean(MARKDOWN.render(text), tags=MARKDOWN_TAGS))  # noqa: S308  # nosec B308 B703 - sanitised by nh3 first


def table_preview(file: DatasetFile) -> Preview:
    head = read_head(file.key, TEXT_HEAD_BYTES)
    complete = len(head) >= file.size
    text = decoded(head, complete)
    if not complete:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut short
    reader = csv.reader(io.StringIO(text), delimiter=TABLE_TYPES[file.content_type])
    try:
        rows = list(islice(reader, TABLE_ROWS + 2))
    except csv.Error:
        return Preview("text", text=text, truncated=not complete)
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    more = not complete or len(body) > TABLE_ROWS
    return Preview("table", header=header, rows=body[:TABLE_ROWS], truncated=more)


def json_preview(file: DatasetFile) -> Preview:
    text = decoded(read_head(file.key, JSON_MAX_BYTES), complete=True)
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return Preview("text", text=text[:TEXT_HEAD_BYTES], truncated=len(text) > TEXT_HEAD_BYTES)
    return Preview("json", text=pretty)


def image_response(file: DatasetFile) -> StreamingHttpResponse:
    """The image itself, for an <img> on the file's page; other types are not served inline."""
    if preview_kind(file) != "image":
        raise Http404(_("This file has no inline preview."))
    response = StreamingHttpResponse(
        get_store().open_stream(file.key), content_type=file.content_type
    )
    response["Content-Length"] = str(file.size)
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, max-age=300"
    return response

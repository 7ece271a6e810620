import json

import pytest
from django.urls import reverse

from aicenter.store import get_store
from datasets import previews
from datasets.previews import JSON_MAX_BYTES, TABLE_ROWS, TEXT_HEAD_BYTES, preview_for
from tests.factories import make_dataset

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def bytes_read(monkeypatch):
    """How many bytes each open_stream handed out, to show a preview stops at its cap."""
    store, counts = get_store(), []
    original = store.open_stream

    def counting(key, chunk_size=1 << 20):
        counts.append(0)
        for chunk in original(key, chunk_size):
            counts[-1] += len(chunk)
            yield chunk

    monkeypatch.setattr(store, "open_stream", counting)
    return counts


def one_file(project, path: str, content):
    return make_dataset(project, files={path: content}).files.get()


def test_a_csv_shows_its_header_and_first_rows_from_its_head_only(project, bytes_read):
    rows = "\n".join(f"{n},{'x' * 40}" for n in range(20_000))
    file = one_file(project, "big.csv", "id,text\n" + rows)
    preview = preview_for(file)
    assert preview.kind == "table"
    assert preview.header == ["id", "text"]
    assert len(preview.rows) == TABLE_ROWS
    assert preview.rows[0] == ["0", "x" * 40]
    assert preview.truncated
    assert bytes_read == [TEXT_HEAD_BYTES]


def test_a_small_tsv_shows_every_row(project):
    preview = preview_for(one_file(project, "t.tsv", "a\tb\n1\t2\n"))
    assert (preview.header, preview.rows, preview.truncated) == (["a", "b"], [["1", "2"]], False)


def test_a_5_mb_text_file_previews_only_its_head(project, bytes_read):
    file = one_file(project, "log.txt", "é" * (5 * 1024 * 1024 // 2))
    preview = preview_for(file)
    assert preview.kind == "text"
    assert preview.truncated
    assert len(preview.text.encode()) == TEXT_HEAD_BYTES
    assert bytes_read == [TEXT_HEAD_BYTES]


def test_json_is_pretty_printed(project):
    preview = preview_for(one_file(project, "config.json", '{"b":[1,2],"a":"é"}'))
    assert preview.kind == "json"
    assert preview.text == json.dumps({"b": [1, 2], "a": "é"}, indent=2, ensure_ascii=False)


def test_json_over_its_cap_shows_the_text_head(project, bytes_read):
    content = json.dumps(list(range(JSON_MAX_BYTES)))
    preview = preview_for(one_file(project, "big.json", content))
    assert (preview.kind, preview.truncated) == ("text", True)
    assert bytes_read == [TEXT_HEAD_BYTES]


def test_invalid_json_is_shown_as_text(project):
    preview = preview_for(one_file(project, "broken.json", "{not json"))
    assert (preview.kind, preview.text) == ("text", "{not json")


def test_a_binary_file_offers_only_its_download(project, bytes_read):
    assert preview_for(one_file(project, "model.bin", b"\0\1\2")).kind == "none"
    assert bytes_read == []


def test_an_image_is_shown_inline_from_an_authorised_view(project, viewer_client):
    file = one_file(project, "images/cat.png", PNG)
    page = viewer_client.get(file.get_absolute_url())
    src = reverse("datasets:image", args=[project.id, file.dataset_id, file.path])
    assert f'<img class="preview-image" src="{src}"' in page.text
    response = viewer_client.get(src)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG))
    assert b"".join(response.streaming_content) == PNG


def test_an_svg_or_an_image_over_the_cap_is_not_served_inline(project, viewer_client, monkeypatch):
    monkeypatch.setattr(previews, "IMAGE_MAX_BYTES", len(PNG) - 1)
    dataset = make_dataset(project, files={"logo.svg": "<svg onload='alert(1)'/>", "big.png": PNG})
    for path in ["logo.svg", "big.png"]:
        url = reverse("datasets:image", args=[project.id, dataset.id, path])
        assert viewer_client.get(url).status_code == 404
    assert preview_for(dataset.files.get(path="big.png")).kind == "none"


def test_an_outsider_cannot_see_an_image(project, outsider_client):
    file = one_file(project, "cat.png", PNG)
    url = reverse("datasets:image", args=[project.id, file.dataset_id, file.path])
    assert outsider_client.get(url).status_code == 404


MARKDOWN = """# Flowers

Photos of **five** kinds, from [the survey](https://example.org/survey).

<script>alert(1)</script>
<div onclick="alert(2)">raw</div>

[click](javascript:alert(3)) ![tracker](https://example.org/pixel.png)
"""


def test_markdown_is_rendered_to_sanitised_html(project):
    preview = preview_for(one_file(project, "README.md", MARKDOWN))
    assert preview.kind == "markdown"
    assert "<h1>Flowers</h1>" in preview.text
    assert "<strong>five</strong>" in preview.text
    assert 'href="https://example.org/survey"' in preview.text
    for unsafe in ("<script", "<div", "<img", 'href="javascript:'):
        assert unsafe not in preview.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.text  # shown, never run


def test_a_markdown_file_page_shows_it_rendered(project, viewer_client):
    file = one_file(project, "notes/README.md", MARKDOWN)
    page = viewer_client.get(
        reverse("datasets:file", args=[project.id, file.dataset_id, file.path])
    )
    assert '<div class="preview-markdown"><h1>Flowers</h1>' in page.text
    assert "<script>alert(1)" not in page.text

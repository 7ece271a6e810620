"""The zip bomb rules, read from the sizes a zip's headers declare."""

import zipfile

import pytest

from aicenter.archives import ArchiveLimits, size_problems

MiB = 1024 * 1024
LIMITS = ArchiveLimits(max_entries=100_000, max_uncompressed_bytes=20 * 1024**3)


def members(count: int, size: int, packed: int) -> list[zipfile.ZipInfo]:
    infos = []
    for index in range(count):
        info = zipfile.ZipInfo(f"m{index}")
        info.file_size, info.compress_size = size, packed
        infos.append(info)
    return infos


@pytest.mark.parametrize(
    ("count", "size", "packed", "refused"),
    [
        (2_000, MiB, 1_040, True),  # 2 GiB of zeros from 2 MB
        (200, MiB, 100_000, False),  # 200 MiB of text compressed 10x
        (90, MiB, 1_040, False),  # under 100 MB: nothing large can come out
        (101, MiB, MiB // 199, False),  # just under 200x
        (101, MiB, MiB // 201, True),  # just over it
    ],
)
def test_a_whole_archive_over_100_mb_may_inflate_at_most_200_times(count, size, packed, refused):
    problems = size_problems(members(count, size, packed), LIMITS)
    assert bool(problems) is refused
    if refused:
        assert "which looks like a zip bomb" in str(problems[0])

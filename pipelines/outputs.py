"""What a run produced, shaped for its page: the artifact tree, previews, log windows, zips."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from aicenter.wording import shown
from datasets.paths import content_type_of
from pipelines.models import Artifact, LogLine, Run

ARTIFACTS_SHOWN = 500
SNAPSHOT_FILES_SHOWN = 200
LOG_TAIL = 500
LOG_PAGE = 1000


@dataclass
class TreeNode:
    """A folder of the artifact tree, or one artifact file (then `artifact` is set)."""

    name: str
    path: str
    artifact: Artifact | None = None
    children: dict[str, "TreeNode"] = field(default_factory=dict)

    @property
    def entries(self) -> list["TreeNode"]:
        """Folders first, then files, each by name."""
        return sorted(
            self.children.values(), key=lambda node: (node.artifact is not None, node.name)
        )


def artifact_tree(artifacts: Iterable[Artifact]) -> list[TreeNode]:
    root = TreeNode(name="", path="")
    for artifact in artifacts:
        node = root
        *folders, name = artifact.path.split("/")
        for folder in folders:
            path = f"{node.path}/{folder}" if node.path else folder
            node = node.children.setdefault(folder, TreeNode(name=folder, path=path))
        node.children[name] = TreeNode(name=name, path=artifact.path, artifact=artifact)
    return root.entries


def previewable(artifact: Artifact) -> Artifact:
    """The artifact with the content type the dataset previews go by, guessed from its name."""
    artifact.content_type = content_type_of(artifact.path)
    return artifact


def snapshot_files(run: Run) -> list:
    if run.snapshot is None:
        return []
    return list(run.snapshot.files.all()[:SNAPSHOT_FILES_SHOWN])


def log_tail(run: Run) -> list[LogLine]:
    return run.log_lines.order_by("-n")[:LOG_TAIL][::-1]


def log_before(run: Run, before: int) -> list[LogLine]:
    return run.log_lines.filter(n__lt=before).order_by("-n")[:LOG_TAIL][::-1]


def log_after(run: Run, after: int) -> list[LogLine]:
    return list(run.log_lines.filter(n__gt=after).order_by("n")[:LOG_PAGE])


def earlier_than(lines: list[LogLine]) -> int:
    """How many lines come before these; line numbers start at 1 without gaps."""
    return lines[0].n - 1 if lines else 0


def log_text(run: Run, last: int | None = None) -> Iterator[str]:
    """The whole log as text (up to line `last`), one line at a time, for the download."""
    lines = run.log_lines.order_by("n")
    if last is not None:
        lines = lines.filter(n__lte=last)
    rows = lines.values_list("time", "stream", "text", "said").iterator(2000)
    for time, stream, text, said in rows:
        # The service's lines in the reader's language, the run's own as written.
        yield f"{time.isoformat(timespec='milliseconds')} {stream} {shown(said, text)}\n"


def log_entry(run: Run) -> tuple[str, Iterator[bytes], int] | None:
    """The log as a zip entry: the lines written so far, measured first since a zip is sized."""
    last = run.log_lines.order_by("-n").values_list("n", flat=True).first()
    if last is None:
        return None
    size = sum(len(line.encode()) for line in log_text(run, last))
    return "run.log", (line.encode() for line in log_text(run, last)), size


def results_key(run: Run) -> str:
    return f"runs/{run.id}/_results.json"


def results_file(run: Run) -> bytes:
    """_results.json from the run's own copy, registered with its success: pages serve this,
    so a download never depends on the upload beside the artifacts that follows."""
    return json.dumps(run.results).encode()


def artifact_entries(run: Run, folder: str = "") -> Iterator[tuple[str, str, int]]:
    """(name in the zip, store key, size) of every artifact, for datasets.zips.zip_stream."""
    for artifact in run.artifacts.order_by("path").iterator(chunk_size=1000):
        yield folder + artifact.path, artifact.key, artifact.size


def everything_entries(run: Run) -> Iterator[tuple[str, str | Iterator[bytes], int]]:
    """The run's outputs in one zip: _results.json, the new version, artifacts, snapshot, log."""
    if run.results is not None:
        results = results_file(run)
        yield "_results.json", iter([results]), len(results)
    if version := run.produced_version:
        yield f"package/{version.download_name}", version.zip_key, version.size
    yield from artifact_entries(run, "artifacts/")
    if run.snapshot:
        for path, key, size in run.snapshot.zip_entries():
            yield f"snapshot/{path}", key, size
    if log := log_entry(run):
        yield log

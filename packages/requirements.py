"""What a package's requirements.txt may ask of the installer: packages from an index or
from an http(s) URL, never a file or folder of the worker that builds the environment.

The installer runs on the worker, with its disk and its environment: a line naming a
local path, another requirements file or an environment variable would read them.
The file is read as pip and uv read it: continuations joined, comments dropped, options
on lines of their own, and only --hash after a requirement.
"""

import re
import shlex
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from packaging.requirements import InvalidRequirement, Requirement

# A comment starts a line or follows whitespace; a '#' inside a URL is its fragment.
COMMENT = re.compile(r"(^|\s)#.*$")
ENVIRONMENT_VARIABLE = re.compile(r"\$\{\w+\}")
# Before its first option that follows whitespace, a line is one requirement.
OPTIONS_START = re.compile(r"\s+(?=-)")
ARCHIVES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")
ARCHIVES += (".tar.lz", ".tlz", ".tar.lzma", ".tar.zst")
SHORT_OPTIONS = {
    "-i": "--index-url",
    "-f": "--find-links",
    "-e": "--editable",
    "-r": "--requirement",
    "-c": "--constraint",
}
URL_OPTIONS = {"--index-url", "--extra-index-url", "--find-links"}
VALUE_OPTIONS = {"--trusted-host", "--no-binary", "--only-binary"}
FLAG_OPTIONS = {"--pre", "--no-index", "--prefer-binary"}
REFUSED_OPTIONS = {
    "--requirement": gettext_lazy(
        "%(option)s reads another file, which the upload cannot check; "
        "list its requirements in requirements.txt itself."
    ),
    "--constraint": gettext_lazy(
        "%(option)s reads another file, which the upload cannot check; "
        "pin the versions in requirements.txt itself."
    ),
    "--editable": gettext_lazy(
        "%(option)s (editable) installs from a folder of the worker's disk; name the package "
        "(numpy==2.1.0) or an http(s) URL (name @ https://...) instead."
    ),
}
ALLOWED_OPTIONS = (
    "--index-url (-i), --extra-index-url, --find-links (-f) with http(s) URLs, "
    "--trusted-host, --no-binary, --only-binary, --no-index, --prefer-binary and --pre"
)


def requirement_problems(text: str) -> list[str]:
    """One message for each problem of each line, naming the line; [] when all is allowed."""
    return [
        _("requirements.txt, line %(number)s: %(problem)s") % {"number": number, "problem": problem}
        for number, line in logical_lines(text)
        for problem in line_problems(line)
    ]


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(number of its first line, text) of each non-blank line, continuations joined and
    comments dropped."""
    lines, pending, first = [], "", 1
    for number, physical in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        if physical.endswith("\\"):
            pending += physical[:-1]
        else:
            lines.append((first, pending + physical))
            pending = ""
    if pending:
        lines.append((first, pending))
    stripped = [(number, COMMENT.sub("", line).strip()) for number, line in lines]
    return [(number, line) for number, line in stripped if line]


def line_problems(line: str) -> list[str]:
    if ENVIRONMENT_VARIABLE.search(line):
        return [_("environment variables (${...}) would be read from the worker; write the value.")]
    if line.startswith("-"):
        return option_problems(line, after_requirement=False)
    specifier, *options = OPTIONS_START.split(line, maxsplit=1)
    return specifier_problems(specifier) + option_problems(
        " ".join(options), after_requirement=True
    )


def specifier_problems(text: str) -> list[str]:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        if is_remote(text):
            return []
        if looks_local(text):
            return [local_problem(text)]
        reason = str(error).splitlines()[0].rstrip(".")
        return [
            _("%(text)s is not a requirement (%(reason)s); write it as numpy==2.1.0.")
            % {"text": repr(text), "reason": reason}
        ]
    if requirement.url is not None and not is_remote(requirement.url):
        return [
            _(
                "%(url)s is not an http(s) URL: it names a file or folder of the worker's disk; "
                "name the package (numpy==2.1.0) or an http(s) URL (name @ https://...) instead."
            )
            % {"url": repr(requirement.url)}
        ]
    if requirement.url is None and requirement.name.lower().endswith(ARCHIVES):
        return [local_problem(text)]
    return []


def local_problem(text: str) -> str:
    return _(
        "%(text)s names a file or folder of the worker's disk; name the package "
        "(numpy==2.1.0) or an http(s) URL (name @ https://...) instead."
    ) % {"text": repr(text)}


def option_problems(text: str, after_requirement: bool) -> list[str]:
    try:
        tokens = shlex.split(text)
    except ValueError:
        return [_("a quote is not closed in %(text)s.") % {"text": repr(text)}]
    problems = []
    while tokens:
        spelled, value = next_option(tokens)
        if after_requirement:
            follows = _("%(option)s may not follow a requirement.") % {"option": spelled}
            problems += [] if spelled == "--hash" else [follows]
        else:
            problems += global_option_problems(spelled, value)
    return problems


def next_option(tokens: list[str]) -> tuple[str, str | None]:
    """The option at the head of `tokens` as it was spelled, and its value; both consumed."""
    token = tokens.pop(0)
    if token.startswith("-") and not token.startswith("--") and len(token) > 2:
        return token[:2], token[2:]  # -ihttps://...
    name, equals, value = token.partition("=")
    if equals:
        return name, value
    takes_value = name.startswith("-") and SHORT_OPTIONS.get(name, name) not in FLAG_OPTIONS
    if takes_value and tokens and not tokens[0].startswith("-"):
        return name, tokens.pop(0)
    return name, None


def global_option_problems(spelled: str, value: str | None) -> list[str]:
    name = SHORT_OPTIONS.get(spelled, spelled)
    said = {"option": spelled, "value": repr(value), "allowed": ALLOWED_OPTIONS}
    if not name.startswith("-"):
        said["option"] = repr(spelled)
        problem = _("%(option)s follows an option; put each requirement on a line of its own.")
    elif name in REFUSED_OPTIONS:
        problem = REFUSED_OPTIONS[name]
    elif name in URL_OPTIONS and value is None:
        problem = _("%(option)s needs an http(s) URL.")
    elif name in URL_OPTIONS and not is_remote(value):
        problem = _(
            "%(option)s %(value)s is not an http(s) URL: it names a file or folder of the "
            "worker's disk."
        )
    elif name in URL_OPTIONS | VALUE_OPTIONS | FLAG_OPTIONS:
        return []
    else:
        problem = _("%(option)s is not allowed; the options allowed are %(allowed)s.")
    return [problem % said]


def is_remote(url: str) -> bool:
    """An http(s) URL with a host, a version control system's (git+https://) included."""
    parts = urlsplit(url)
    return parts.scheme.rpartition("+")[2].lower() in {"http", "https"} and bool(parts.netloc)


def looks_local(text: str) -> bool:
    return (
        text.startswith((".", "~", "file:"))
        or "/" in text
        or "\\" in text
        or text.lower().endswith(ARCHIVES)
    )

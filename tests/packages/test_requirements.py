"""requirements.txt may name packages of an index or http(s) URLs, never the worker's files."""

import pytest

from packages.requirements import logical_lines, requirement_problems

ALLOWED = """\
# Pinned for the tests.
numpy==2.1.0
scikit-learn>=1.5

pandas[performance]>=2 ; python_version < "3.13"  # markers and comments
--index-url https://index.example.com/simple
-i https://index.example.com/simple
--extra-index-url=https://mirror.example.org/simple
--find-links https://download.example.org/wheels/
-f https://download.example.org/wheels/
--trusted-host mirror.example.org
--no-binary :all:
--only-binary=:none:
--pre
--prefer-binary
torch @ https://download.pytorch.org/whl/cpu/torch-2.5.0-cp312-linux_x86_64.whl
mylib @ git+https://github.com/example/mylib@v1.0#egg=mylib
https://files.example.org/tool-1.0-py3-none-any.whl
requests==2.32.3 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
"""


def test_index_options_specifiers_and_remote_urls_are_allowed():
    assert requirement_problems(ALLOWED) == []


def test_an_empty_file_or_only_comments_is_allowed():
    assert requirement_problems("") == []
    assert requirement_problems("# nothing to install\n\n   \n") == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("./mylib", "names a file or folder of the worker's disk"),
        ("../x", "names a file or folder of the worker's disk"),
        (".", "names a file or folder of the worker's disk"),
        ("/opt/x.whl", "names a file or folder of the worker's disk"),
        ("~/wheels/x.whl", "names a file or folder of the worker's disk"),
        ("file:///etc/passwd", "names a file or folder of the worker's disk"),
        ("mylib-1.0-py3-none-any.whl", "names a file or folder of the worker's disk"),
        ("mylib-1.0.tar.gz", "names a file or folder of the worker's disk"),
        ("mylib @ file:///srv/mylib", "'file:///srv/mylib' is not an http(s) URL"),
        ("pkg @ /abs/path", "'/abs/path' is not an http(s) URL"),
        ("pkg @ ./src", "'./src' is not an http(s) URL"),
        ("pkg @ git+file:///srv/repo", "'git+file:///srv/repo' is not an http(s) URL"),
        ("-e ./src", "-e (editable) installs from a folder of the worker's disk"),
        ("-e file:///srv/src", "-e (editable) installs from a folder of the worker's disk"),
        ("--editable=./src", "--editable (editable) installs from a folder"),
        ("-r other.txt", "-r reads another file, which the upload cannot check"),
        ("--requirement other.txt", "--requirement reads another file"),
        ("-c constraints.txt", "-c reads another file, which the upload cannot check"),
        ("--constraint=constraints.txt", "--constraint reads another file"),
        ("--find-links /local/dir", "--find-links '/local/dir' is not an http(s) URL"),
        ("-f ./wheels", "-f './wheels' is not an http(s) URL"),
        ("--index-url file:///srv/index", "--index-url 'file:///srv/index' is not an http(s)"),
        ("--extra-index-url /srv/index", "--extra-index-url '/srv/index' is not an http(s)"),
        ("--index-url", "--index-url needs an http(s) URL."),
        ("--frobnicate", "--frobnicate is not allowed; the options allowed are --index-url"),
        ("numpy==2.1.0 -i https://x.org/simple", "-i may not follow a requirement."),
        ("--pre numpy", "'numpy' follows an option; put each requirement on a line of its own."),
        ("numpy>=", "'numpy>=' is not a requirement ("),
        ("pkg @ https://example.org/${UV_INDEX_URL}", "environment variables (${...})"),
        ("--index-url 'https://x.org", "a quote is not closed"),
    ],
)
def test_a_line_reaching_outside_the_index_is_refused_with_its_reason(line, reason):
    problems = [str(problem) for problem in requirement_problems(f"numpy==2.1.0\n\n{line}\n")]
    assert len(problems) == 1, problems
    assert problems[0].startswith("requirements.txt, line 3: "), problems
    assert reason in problems[0], problems


def test_every_refused_line_is_named_once():
    text = "./a\nnumpy==2.1.0\n-r b.txt\n# ./c\n--find-links /d\n"
    lines = [str(problem).split(":")[0] for problem in requirement_problems(text)]
    assert lines == [
        "requirements.txt, line 1",
        "requirements.txt, line 3",
        "requirements.txt, line 5",
    ]


def test_a_continued_line_is_checked_whole_and_named_by_its_first_line():
    text = "numpy==2.1.0\nmylib \\\n  @ file:///srv/mylib\n"
    assert logical_lines(text) == [(1, "numpy==2.1.0"), (2, "mylib   @ file:///srv/mylib")]
    (problem,) = map(str, requirement_problems(text))
    assert problem.startswith("requirements.txt, line 2: 'file:///srv/mylib'")


def test_a_hash_in_a_url_is_its_fragment_not_a_comment():
    assert logical_lines("pkg @ https://x.org/p.zip#sha256=ab  # note\n") == [
        (1, "pkg @ https://x.org/p.zip#sha256=ab")
    ]

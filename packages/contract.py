"""The zip contract of an ML package, checked with `ast` and without running anything."""

import ast
import zipfile
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_noop, pgettext_lazy

from aicenter.archives import UNREADABLE, member_chunks, unreadable_member
from aicenter.wording import Said, say
from packages.requirements import requirement_problems

MAX_SOURCE_BYTES = 2 * 1024 * 1024


class PipelineType(models.TextChoices):
    TRAINING = "training", pgettext_lazy("pipeline type", "Training")
    EVALUATION = "evaluation", pgettext_lazy("pipeline type", "Evaluation")
    FULL = "full", pgettext_lazy("pipeline type", "Full")


# A pipeline type inside a sentence the service keeps (aicenter.wording).
TYPE_WORDS = {
    PipelineType.TRAINING: gettext_noop("training"),
    PipelineType.EVALUATION: gettext_noop("evaluation"),
    PipelineType.FULL: gettext_noop("full"),
}


# Method name -> the arguments it takes after self.
TRAIN_METHODS = {
    "train": ["training_directory"],
    "evaluate": ["evaluation_directory"],
    "save": [],
    "process_data": ["input_directory"],
}
NEEDED_METHODS = {
    PipelineType.TRAINING: {"train", "save"},
    PipelineType.EVALUATION: {"evaluate"},
    PipelineType.FULL: {"process_data", "train", "evaluate", "save"},
}


@dataclass
class Contract:
    """What a package zip offers, and what is wrong with it."""

    root: str = ""
    problems: list[Said] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)
    requirements: str = ""

    @property
    def supported_types(self) -> list[str]:
        return [kind.value for kind, needs in NEEDED_METHODS.items() if needs <= self.methods]


def package_root(names: list[str]) -> str:
    """'' or 'folder/' when the zip's only top-level entry is one folder."""
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) == 1:
        top = tops.pop()
        if any(name.startswith(top + "/") for name in names):
            return top + "/"
    return ""


def check_contract(archive: zipfile.ZipFile) -> Contract:
    names = [member.filename for member in archive.infolist()]
    contract = Contract(root=package_root(names))
    train = read_source(archive, contract, "train.py")
    if train is not None:
        check_train(train, contract)
    main = read_source(archive, contract, "main.py")
    if main is not None:
        check_main(main, contract)
    requirements = read_source(archive, contract, "requirements.txt")
    contract.requirements = requirements or ""
    contract.problems += requirement_problems(contract.requirements)
    return contract


def read_source(archive: zipfile.ZipFile, contract: Contract, name: str) -> str | None:
    try:
        member = archive.getinfo(contract.root + name)
    except KeyError:
        contract.problems.append(
            say(gettext_noop("%(name)s is missing at the root of the package."), name=name)
        )
        return None
    if member.file_size > MAX_SOURCE_BYTES:
        contract.problems.append(
            say(
                gettext_noop("%(name)s is larger than %(limit)s bytes."),
                name=name,
                limit=f"{MAX_SOURCE_BYTES:,}",
            )
        )
        return None
    try:
        return b"".join(member_chunks(archive, member)).decode("utf-8")
    except UnicodeDecodeError:
        contract.problems.append(say(gettext_noop("%(name)s is not UTF-8 text."), name=name))
    except UNREADABLE:
        contract.problems.append(unreadable_member(member))
    return None


def main_class(source: str, filename: str, contract: Contract) -> ast.ClassDef | None:
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        contract.problems.append(
            say(
                gettext_noop("%(file)s, line %(line)s: %(error)s."),
                file=filename,
                line=error.lineno,
                error=error.msg,
            )
        )
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Main":
            return node
    contract.problems.append(say(gettext_noop("%(file)s has no class Main."), file=filename))
    return None


def methods_of(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def check_train(source: str, contract: Contract) -> None:
    cls = main_class(source, "train.py", contract)
    if cls is None:
        return
    methods = methods_of(cls)
    if "__init__" in methods and required_arguments(methods["__init__"]):
        contract.problems.append(
            say(gettext_noop("train.py: Main.__init__ must take no argument besides self."))
        )
    for name, expected in TRAIN_METHODS.items():
        if name in methods:
            if accepts(methods[name], len(expected)):
                contract.methods.add(name)
            else:
                wanted = ", ".join(["self", *expected])
                contract.problems.append(
                    say(
                        gettext_noop("train.py: Main.%(name)s must take (%(wanted)s)."),
                        name=name,
                        wanted=wanted,
                    )
                )
    if not contract.supported_types and not contract.problems:
        contract.problems.append(
            say(
                gettext_noop(
                    "train.py: Main supports no pipeline type: training needs train and save, "
                    "evaluation needs evaluate, full needs process_data, train, evaluate and save."
                )
            )
        )


def check_main(source: str, contract: Contract) -> None:
    cls = main_class(source, "main.py", contract)
    if cls is None:
        return
    predict = methods_of(cls).get("predict")
    if predict is None or not accepts(predict, 1):
        contract.problems.append(
            say(gettext_noop("main.py: Main must have predict(self, mlskill_input)."))
        )


def required_arguments(function: ast.FunctionDef) -> list[str]:
    """Positional parameters after self that have no default."""
    positional = [*function.args.posonlyargs, *function.args.args][1:]
    without_default = len(positional) - len(function.args.defaults)
    names = [arg.arg for arg in positional[:without_default]]
    keyword_only = [
        arg.arg
        for arg, default in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
        if default is None
    ]
    return names + keyword_only


def accepts(function: ast.FunctionDef, count: int) -> bool:
    """Whether the method can be called with `count` positional arguments after self."""
    positional = [*function.args.posonlyargs, *function.args.args]
    if not positional:
        return False
    takes = len(positional) - 1
    required = len(required_arguments(function))
    if any(default is None for default in function.args.kw_defaults):
        return False
    return required <= count and (count <= takes or function.args.vararg is not None)

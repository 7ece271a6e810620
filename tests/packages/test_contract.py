import io
import zipfile

import pytest

from packages.contract import check_contract, package_root
from tests.factories import package_zip


def contract_of(content: bytes):
    return check_contract(zipfile.ZipFile(io.BytesIO(content)))


def test_a_complete_package_supports_every_pipeline_type():
    contract = contract_of(package_zip(**{"requirements.txt": "numpy==2.1.0\n"}))
    assert contract.problems == []
    assert contract.supported_types == ["training", "evaluation", "full"]
    assert contract.requirements == "numpy==2.1.0\n"


def test_a_single_top_level_folder_is_unwrapped():
    contract = contract_of(package_zip(folder="sentiment/"))
    assert contract.problems == []
    assert contract.root == "sentiment/"


def test_package_root_keeps_a_zip_with_several_top_level_entries():
    assert package_root(["a/train.py", "b.txt"]) == ""
    assert package_root(["train.py"]) == ""


def test_only_evaluate_supports_evaluation_pipelines_only():
    train = "class Main:\n    def evaluate(self, evaluation_directory):\n        return 1.0\n"
    contract = contract_of(package_zip(**{"train.py": train}))
    assert contract.problems == []
    assert contract.supported_types == ["evaluation"]


def test_train_and_save_without_evaluate_support_training_only():
    train = (
        "class Main:\n    def train(self, d):\n        pass\n    def save(self):\n        pass\n"
    )
    assert contract_of(package_zip(**{"train.py": train})).supported_types == ["training"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train.py": None}, "train.py is missing at the root of the package."),
        ({"main.py": None}, "main.py is missing at the root of the package."),
        ({"requirements.txt": None}, "requirements.txt is missing at the root of the package."),
        ({"train.py": "class Main:\n    def train(self\n"}, "train.py, line 2: "),
        ({"train.py": "class Model:\n    pass\n"}, "train.py has no class Main."),
        (
            {"train.py": "class Main:\n    def __init__(self, path):\n        pass\n"},
            "train.py: Main.__init__ must take no argument besides self.",
        ),
        (
            {"train.py": "class Main:\n    def train(self):\n        pass\n"},
            "train.py: Main.train must take (self, training_directory).",
        ),
        (
            {"train.py": "class Main:\n    def save(self, where):\n        pass\n"},
            "train.py: Main.save must take (self).",
        ),
        (
            {"train.py": "class Main:\n    def predict(self, x):\n        pass\n"},
            "train.py: Main supports no pipeline type",
        ),
        (
            {"main.py": "class Main:\n    def run(self, x):\n        pass\n"},
            "main.py: Main must have predict(self, mlskill_input).",
        ),
        ({"main.py": b"\xff\xfe not utf-8"}, "main.py is not UTF-8 text."),
        (
            {"requirements.txt": "numpy==2.1.0\n-e ./src\n"},
            "requirements.txt, line 2: -e (editable) installs from a folder",
        ),
    ],
)
def test_contract_names_what_to_fix(overrides, message):
    problems = [str(problem) for problem in contract_of(package_zip(**overrides)).problems]
    assert any(problem.startswith(message) for problem in problems), problems


def test_every_problem_is_listed_at_once():
    broken = package_zip(**{"train.py": "def (", "main.py": None, "requirements.txt": None})
    assert len(contract_of(broken).problems) == 3


def test_defaults_and_varargs_are_accepted():
    train = (
        "class Main:\n"
        "    def __init__(self, seed=1):\n        pass\n"
        "    def train(self, *directories):\n        pass\n"
        "    def save(self, compress=True):\n        pass\n"
    )
    contract = contract_of(package_zip(**{"train.py": train}))
    assert contract.problems == []
    assert contract.supported_types == ["training"]

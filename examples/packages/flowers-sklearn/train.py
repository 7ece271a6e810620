"""A logistic-regression classifier for the flowers dataset, with scikit-learn."""

import csv
import json
import os
import pickle
import random
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

MODEL_FILE = Path("model.pkl")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def read_table(directory):
    rows = []
    for path in sorted(Path(directory).rglob("*.csv")):
        with open(path, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"No CSV rows found in {directory}")
    return [[float(row[name]) for name in FEATURES] for row in rows], [r["species"] for r in rows]


class Main:
    def __init__(self):
        self.model = None
        if MODEL_FILE.exists():
            self.model = pickle.loads(MODEL_FILE.read_bytes())  # noqa: S301 - our own file

    def process_data(self, input_directory):
        x, y = read_table(input_directory)
        rows = list(zip(x, y))
        random.Random(42).shuffle(rows)
        cut = int(len(rows) * 0.8)
        for variable, part in [
            ("training_data_directory", rows[:cut]),
            ("evaluation_data_directory", rows[cut:]),
        ]:
            folder = Path(os.environ[variable])
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "flowers.csv", "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([*FEATURES, "species"])
                writer.writerows([*values, label] for values, label in part)

    def train(self, training_directory):
        x, y = read_table(training_directory)
        max_iter = int(os.environ.get("max_iter", "200"))
        self.model = LogisticRegression(max_iter=max_iter).fit(x, y)
        print(f"Trained on {len(y)} rows with max_iter={max_iter}")

    def evaluate(self, evaluation_directory):
        x, y = read_table(evaluation_directory)
        accuracy = float(accuracy_score(y, self.model.predict(x)))
        folder = Path(os.environ.get("artifacts_directory", "artifacts"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps({"accuracy": accuracy, "rows": len(y)}))
        return accuracy

    def save(self):
        MODEL_FILE.write_bytes(pickle.dumps(self.model))

"""A linear classifier for the flowers dataset, with scikit-learn, trained epoch by epoch.

Each epoch's loss and accuracy go to the run's metrics file (the environment variable
`metrics_file`), one JSON line per epoch, so the run's page charts them as it trains.
"""

import csv
import json
import os
import pickle
import random
from pathlib import Path

from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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


def report(step, **values):
    """One line of the run's metrics file; nothing when the code runs elsewhere."""
    path = os.environ.get("metrics_file")
    if path:
        with open(path, "a") as metrics:
            metrics.write(json.dumps({**values, "step": step}) + "\n")


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
        epochs = int(os.environ.get("epochs", "30"))
        scaler = StandardScaler().fit(x)
        scaled, classes = scaler.transform(x), sorted(set(y))
        classifier = SGDClassifier(loss="log_loss", random_state=0)
        for epoch in range(1, epochs + 1):
            classifier.partial_fit(scaled, y, classes=classes)
            loss = log_loss(y, classifier.predict_proba(scaled), labels=classes)
            accuracy = accuracy_score(y, classifier.predict(scaled))
            report(epoch, loss=float(loss), accuracy=float(accuracy))
        self.model = make_pipeline(scaler, classifier)
        print(f"Trained on {len(y)} rows for {epochs} epochs: loss {loss:.3f}")

    def evaluate(self, evaluation_directory):
        x, y = read_table(evaluation_directory)
        accuracy = float(accuracy_score(y, self.model.predict(x)))
        folder = Path(os.environ.get("artifacts_directory", "artifacts"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps({"accuracy": accuracy, "rows": len(y)}))
        return accuracy

    def save(self):
        MODEL_FILE.write_bytes(pickle.dumps(self.model))

"""A softmax classifier for the flowers dataset, trained epoch by epoch, reporting with MLflow.

The code is what one writes for MLflow: `mlflow.log_params`, `mlflow.set_tag` and
`mlflow.log_metrics` per epoch. Run as a pipeline, the calls report to the run's page
(MLFLOW_TRACKING_URI points at the run's own tracking endpoint), even with no network.
Plain Python beside mlflow: nothing else to install.
"""

import csv
import json
import math
import os
import random
from pathlib import Path

import mlflow

MODEL_FILE = Path("model.json")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def read_table(directory):
    rows = []
    for path in sorted(Path(directory).rglob("*.csv")):
        with open(path, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"No CSV rows found in {directory}")
    return [[float(row[name]) for name in FEATURES] for row in rows], [r["species"] for r in rows]


def softmax(scores):
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    return [value / sum(exps) for value in exps]


class Main:
    def __init__(self):
        self.model = json.loads(MODEL_FILE.read_text()) if MODEL_FILE.exists() else None

    def probabilities(self, values):
        scaled = [(v - m) / s for v, m, s in zip(values, self.model["mean"], self.model["std"])]
        weights, bias = self.model["weights"], self.model["bias"]
        return softmax([sum(w * x for w, x in zip(row, scaled)) + b for row, b in zip(weights, bias)])

    def predict_one(self, values):
        found = self.probabilities(values)
        return self.model["classes"][found.index(max(found))]

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
        learning_rate = float(os.environ.get("learning_rate", "0.5"))
        mlflow.log_params({"epochs": epochs, "learning_rate": learning_rate, "rows": len(y)})
        mlflow.set_tag("model", "softmax regression")
        classes = sorted(set(y))
        columns = list(zip(*x))
        mean = [sum(column) / len(column) for column in columns]
        std = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0 for c, m in zip(columns, mean)]
        self.model = {
            "classes": classes,
            "mean": mean,
            "std": std,
            "weights": [[0.0] * len(FEATURES) for _ in classes],
            "bias": [0.0] * len(classes),
        }
        for epoch in range(1, epochs + 1):
            loss = self.epoch(x, [classes.index(label) for label in y], learning_rate)
            accuracy = sum(self.predict_one(v) == label for v, label in zip(x, y)) / len(y)
            mlflow.log_metrics({"loss": loss, "accuracy": accuracy}, step=epoch)
        print(f"Trained on {len(y)} rows for {epochs} epochs: loss {loss:.3f}")

    def epoch(self, x, targets, learning_rate):
        """One pass of gradient descent over all rows; the mean cross-entropy before it."""
        weights, bias = self.model["weights"], self.model["bias"]
        grad_w = [[0.0] * len(FEATURES) for _ in weights]
        grad_b = [0.0] * len(bias)
        loss = 0.0
        for values, target in zip(x, targets):
            found = self.probabilities(values)
            loss -= math.log(max(found[target], 1e-12))
            scaled = [(v - m) / s for v, m, s in zip(values, self.model["mean"], self.model["std"])]
            for k, probability in enumerate(found):
                error = probability - (k == target)
                grad_b[k] += error
                for j, feature in enumerate(scaled):
                    grad_w[k][j] += error * feature
        for k in range(len(weights)):
            bias[k] -= learning_rate * grad_b[k] / len(x)
            for j in range(len(FEATURES)):
                weights[k][j] -= learning_rate * grad_w[k][j] / len(x)
        return loss / len(x)

    def evaluate(self, evaluation_directory):
        x, y = read_table(evaluation_directory)
        accuracy = sum(self.predict_one(v) == label for v, label in zip(x, y)) / len(y)
        mlflow.log_metric("evaluation_accuracy", accuracy)
        return accuracy

    def save(self):
        MODEL_FILE.write_text(json.dumps(self.model))

"""A nearest-centroid classifier for the flowers dataset, using only the standard library."""

import csv
import json
import os
import random
from pathlib import Path

MODEL_FILE = Path("model.json")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def read_rows(directory):
    rows = []
    for path in sorted(Path(directory).rglob("*.csv")):
        with open(path, newline="") as handle:
            rows.extend(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"No CSV rows found in {directory}")
    return rows


def features(row):
    return [float(row[name]) for name in FEATURES]


class Main:
    def __init__(self):
        self.centroids = {}
        if MODEL_FILE.exists():
            self.centroids = json.loads(MODEL_FILE.read_text())

    def process_data(self, input_directory):
        rows = read_rows(input_directory)
        random.Random(42).shuffle(rows)
        cut = int(len(rows) * 0.8)
        for variable, part in [
            ("training_data_directory", rows[:cut]),
            ("evaluation_data_directory", rows[cut:]),
        ]:
            folder = Path(os.environ[variable])
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "flowers.csv", "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=[*FEATURES, "species"])
                writer.writeheader()
                writer.writerows(part)

    def train(self, training_directory):
        sums, counts = {}, {}
        for row in read_rows(training_directory):
            label = row["species"]
            values = features(row)
            total = sums.setdefault(label, [0.0] * len(values))
            sums[label] = [a + b for a, b in zip(total, values)]
            counts[label] = counts.get(label, 0) + 1
        self.centroids = {label: [v / counts[label] for v in total] for label, total in sums.items()}
        print(f"Trained on {sum(counts.values())} rows, {len(counts)} species")

    def evaluate(self, evaluation_directory):
        rows = read_rows(evaluation_directory)
        correct = sum(self.predict_one(features(row)) == row["species"] for row in rows)
        accuracy = correct / len(rows)
        self.write_artifact("metrics.json", json.dumps({"accuracy": accuracy, "rows": len(rows)}))
        print(f"Accuracy {accuracy:.3f} on {len(rows)} rows")
        return accuracy

    def save(self):
        MODEL_FILE.write_text(json.dumps(self.centroids, indent=2))
        self.write_artifact("centroids.json", json.dumps(self.centroids, indent=2))

    def predict_one(self, values):
        def distance(label):
            return sum((a - b) ** 2 for a, b in zip(values, self.centroids[label]))

        return min(self.centroids, key=distance)

    def write_artifact(self, name, text):
        folder = Path(os.environ.get("artifacts_directory", "artifacts"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)

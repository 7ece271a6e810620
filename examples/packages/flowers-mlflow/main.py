"""Serves the trained classifier: input is JSON {"features": [4 numbers]}."""

import json

from train import Main as Trainer


class Main:
    def __init__(self):
        self.model = Trainer()

    def predict(self, mlskill_input):
        values = json.loads(mlskill_input)["features"]
        return json.dumps({"species": self.model.predict_one([float(v) for v in values])})

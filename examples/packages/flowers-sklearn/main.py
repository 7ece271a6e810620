"""Serves the trained model: input is JSON {"features": [4 numbers]}."""

import json

from train import Main as Trainer


class Main:
    def __init__(self):
        self.model = Trainer().model

    def predict(self, mlskill_input):
        values = [float(v) for v in json.loads(mlskill_input)["features"]]
        return json.dumps({"species": str(self.model.predict([values])[0])})

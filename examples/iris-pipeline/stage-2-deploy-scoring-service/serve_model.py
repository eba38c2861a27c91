"""
Stage 2 (service): serve the model trained by stage 1 over HTTP.

Downloads the model stage 1 uploaded (s3://$S3_BUCKET/models/iris_tree_classifier.joblib, with boto3;
endpoint and credentials from the Secret named in config.ini's [secrets]) once at start-up, and
exposes POST /iris/v1/score on port 5000, e.g.

    curl -X POST http://<service>:5000/iris/v1/score -H 'Content-Type: application/json' \
        -d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}'

answers

    {"species_prediction": "setosa",
     "probabilities": "setosa=1.0|versicolor=0.0|virginica=0.0",
     "model_info": "DecisionTreeClassifier(class_weight='balanced', random_state=42)"}
"""
import os
import sys
import tempfile
from typing import Dict

import boto3
import joblib
import numpy as np
from flask import Flask, Response, jsonify, make_response, request

MODEL_KEY = 'models/iris_tree_classifier.joblib'
FEATURES = ('sepal_length', 'sepal_width', 'petal_length', 'petal_width')

app = Flask(__name__)
model = None


@app.route('/iris/v1/score', methods=['POST'])
def score() -> Response:
    """Iris species classification API endpoint"""
    request_data = request.get_json(silent=True)
    problem = check_request_data(request_data)
    if problem:
        return make_response(jsonify({'error': problem}), 400)
    X = make_features_from_request_data(request_data)
    model_output = model_predictions(X)
    response_data = jsonify({**model_output, 'model_info': str(model)})
    return make_response(response_data)


def check_request_data(request_data) -> str:
    """An error message for a request that is not four numeric measurements, else ''."""
    if not isinstance(request_data, dict):
        return f'expected a JSON object with {", ".join(FEATURES)}'
    for name in FEATURES:
        value = request_data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f'expected {name} to be a number, got {value!r}'
    return ''


def make_features_from_request_data(request_data: Dict[str, float]) -> np.ndarray:
    """One row of features, in the column order the model was trained with."""
    return np.array([[float(request_data[name]) for name in FEATURES]])


def model_predictions(X: np.ndarray) -> Dict[str, str]:
    """The predicted species and the probability of every species."""
    prediction = model.predict(X)[0]
    probabilities = model.predict_proba(X)[0]
    return {
        'species_prediction': str(prediction),
        'probabilities': '|'.join(
            f'{species}={round(float(p), 3)}' for species, p in zip(model.classes_, probabilities)
        ),
    }


def get_model(bucket: str, key: str):
    """Download and load the model uploaded by stage 1, or exit with a clear message."""
    s3 = boto3.client('s3', endpoint_url=os.environ.get('AWS_ENDPOINT_URL') or None)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'model.joblib')
        try:
            s3.download_file(bucket, key, path)
        except Exception as e:  # botocore's ClientError (404) or a connection error
            print(f'no model at s3://{bucket}/{key}: run stage-1-train-model first ({e})',
                  file=sys.stderr)
            sys.exit(1)
        return joblib.load(path)


if __name__ == '__main__':
    model = get_model(os.environ['S3_BUCKET'], MODEL_KEY)
    print(f'loaded model={model}')
    print('starting API server')
    app.run(host='0.0.0.0', port=5000)

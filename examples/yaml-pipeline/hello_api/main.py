"""Service stage: answers GET/POST /v1/predict with {"y": "hello_world"} on port 5000."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route('/v1/predict', methods=['GET', 'POST'])
def predict():
    return jsonify({'y': 'hello_world'})


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)

"""
Service stage that depends on another service: it calls the hello-api stage by its Service name
(http://hello-api:5000, resolvable from any pod in the same namespace) and serves GET /v1/relay.

It checks hello-api at start-up and exits with an error if it cannot reach it, so a broken
dependency fails this stage's deployment instead of going unnoticed. HELLO_API_URL overrides the
address (e.g. for running outside the cluster).
"""
import json
import os
import sys
import time
from urllib.error import URLError
from urllib.request import urlopen

from flask import Flask, jsonify

HELLO_API_URL = os.environ.get('HELLO_API_URL', 'http://hello-api:5000/v1/predict')

app = Flask(__name__)


def ask_hello_api() -> dict:
    with urlopen(HELLO_API_URL, timeout=5) as response:
        return json.loads(response.read().decode('utf-8'))


@app.route('/v1/relay', methods=['GET'])
def relay():
    try:
        return jsonify({'from': HELLO_API_URL, 'answer': ask_hello_api()})
    except (URLError, OSError, ValueError) as e:
        return jsonify({'error': f'cannot reach {HELLO_API_URL}: {e}'}), 502


def wait_for_hello_api(attempts: int = 10, delay_seconds: float = 3.0) -> None:
    for attempt in range(1, attempts + 1):
        try:
            print(f'hello-api answered {ask_hello_api()}')
            return
        except (URLError, OSError, ValueError) as e:
            print(f'attempt {attempt}/{attempts}: cannot reach {HELLO_API_URL}: {e}')
            time.sleep(delay_seconds)
    print(f'giving up: {HELLO_API_URL} did not answer', file=sys.stderr)
    sys.exit(1)


if __name__ == '__main__':
    wait_for_hello_api()
    app.run(host='0.0.0.0', port=5000)

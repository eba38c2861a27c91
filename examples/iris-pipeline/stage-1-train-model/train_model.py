"""
Stage 1 (batch): train the iris classifier and upload it to the model store, an S3 bucket.

As in the tutorial, the model is first saved next to this script (the stage runs in a writable
copy of the project) and then uploaded with boto3, to s3://$S3_BUCKET/models/iris_tree_classifier.joblib,
where stage 2 downloads it from. The bucket, endpoint and credentials come from the Secret named in
config.ini's [secrets] (the sandbox's object store fills it; on a cluster, create it).
The data is scikit-learn's bundled copy of the iris data set (no download).
"""
import os
import sys
from pathlib import Path

import boto3
import joblib
from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

MODEL_FILE = 'iris_tree_classifier.joblib'
MODEL_KEY = f'models/{MODEL_FILE}'


def main() -> None:
    """Main script to be executed."""
    features, labels = load_data()
    trained_model = train_model(features, labels)
    persist_model(trained_model, Path(MODEL_FILE))
    upload_model(Path(MODEL_FILE), os.environ['S3_BUCKET'], MODEL_KEY)


def load_data():
    """Iris measurements and species names (the labels are the species, e.g. 'setosa')."""
    iris = load_iris()
    return iris.data, iris.target_names[iris.target]


def train_model(features, labels) -> DecisionTreeClassifier:
    """Train a decision tree on 80% of the data and print its metrics on the other 20%."""
    X_train, X_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.2, stratify=labels, random_state=42
    )
    model = DecisionTreeClassifier(class_weight='balanced', random_state=42)
    model.fit(X_train, y_train)

    y_pred = model.predict(X_test)
    print(f'trained model={model}')
    print(f'accuracy={accuracy_score(y_test, y_pred):.3f}')
    print(f'f1_macro={f1_score(y_test, y_pred, average="macro"):.3f}')
    print(classification_report(y_test, y_pred))
    return model


def persist_model(model: DecisionTreeClassifier, path: Path) -> None:
    """Save the model in the working directory, as the tutorial's script does."""
    joblib.dump(model, path)
    print(f'saved model to {path.resolve()}')


def s3_client():
    """boto3's S3 client; AWS_ENDPOINT_URL names a store other than AWS (older boto3 reads it only this way)."""
    return boto3.client('s3', endpoint_url=os.environ.get('AWS_ENDPOINT_URL') or None)


def upload_model(path: Path, bucket: str, key: str) -> None:
    """Upload the saved model; S3 replaces an object whole, so a reader never sees half a model."""
    s3_client().upload_file(str(path), bucket, key)
    print(f'uploaded model to s3://{bucket}/{key}')


if __name__ == '__main__':
    try:
        main()
    except KeyError as e:
        print(f'missing environment variable {e}: add it to the Secret named in config.ini [secrets]', file=sys.stderr)
        sys.exit(1)

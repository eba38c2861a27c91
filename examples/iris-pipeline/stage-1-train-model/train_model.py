"""
Stage 1 (batch): train the iris classifier and save it to the model store.

Runs offline: the data is scikit-learn's bundled copy of the iris data set (no download), and the
model is written to the directory named by the MODEL_STORE environment variable (default
/tmp/bodywork-models), where stage 2 loads it from.
"""
import os
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

MODEL_STORE = Path(os.environ.get('MODEL_STORE', '/tmp/bodywork-models'))
MODEL_FILE = 'iris_tree_classifier.joblib'


def main() -> None:
    """Main script to be executed."""
    features, labels = load_data()
    trained_model = train_model(features, labels)
    persist_model(trained_model, MODEL_STORE / MODEL_FILE)


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
    """Save the model; write a temporary file first so a reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + '.partial')
    joblib.dump(model, partial)
    os.replace(partial, path)
    print(f'saved model to {path}')


if __name__ == '__main__':
    try:
        main()
    except OSError as e:
        print(f'could not save the model to MODEL_STORE={MODEL_STORE}: {e}', file=sys.stderr)
        sys.exit(1)

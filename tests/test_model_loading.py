"""Loading MLflow models for serving: the light path for pickled scikit-learn, pyfunc for the rest."""

from __future__ import annotations

import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

from pipelines.serving.loading import LoadError, SklearnModel, load
from pipelines.serving.payload import PayloadError, column_types


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"amount": rng.normal(50, 10, 200), "age": rng.integers(1, 90, 200)})


@pytest.fixture(scope="module")
def saved(tmp_path_factory, frame):
    labels = (frame["amount"] > 50).astype(int)
    model = LogisticRegression().fit(frame, labels)
    path = tmp_path_factory.mktemp("models") / "sklearn"
    mlflow.sklearn.save_model(
        model,
        str(path),
        pyfunc_predict_fn="predict_proba",
        serialization_format="cloudpickle",
        signature=infer_signature(frame, model.predict_proba(frame)),
    )
    return path


def test_a_pickled_sklearn_model_loads_without_mlflow_and_predicts_as_pyfunc_does(saved, frame):
    light = load(str(saved))
    assert isinstance(light, SklearnModel)
    reference = mlflow.pyfunc.load_model(str(saved)).predict(frame)
    np.testing.assert_allclose(light.predict(frame), reference)
    assert column_types(light) == {"amount": "float64", "age": "int64"}


def test_the_light_path_refuses_rows_missing_a_required_column(saved, frame):
    with pytest.raises(PayloadError, match="missing required column"):
        load(str(saved)).predict(frame.drop(columns=["age"]))


def test_other_flavors_load_through_pyfunc(tmp_path, frame):
    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input["amount"] * 2

    mlflow.pyfunc.save_model(str(tmp_path / "pyfunc"), python_model=Doubler())
    model = load(str(tmp_path / "pyfunc"))
    assert not isinstance(model, SklearnModel)
    assert list(model.predict(frame.head(2))) == list(frame["amount"].head(2) * 2)


def test_a_directory_without_a_model_is_named(tmp_path):
    with pytest.raises(LoadError, match="no MLmodel file there"):
        load(str(tmp_path))

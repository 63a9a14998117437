"""The model server in process: MLflow's scoring protocol, metrics, errors and the prediction log."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import pandas as pd
import pytest
from mlflow.types import ColSpec, Schema
from sklearn.linear_model import LogisticRegression

from pipelines.serving import server as server_module
from pipelines.serving.__main__ import main, version_of
from pipelines.serving.payload import PayloadError, column_types, conform, jsonable, parse_request, scores
from pipelines.serving.server import ModelServer, PredictionLog, ServedModel

T = TypeVar("T")
URI = "models:/fraud-detector/7"


def run(coroutine: Awaitable[T]) -> T:
    async def wrapped() -> T:
        return await coroutine

    return asyncio.run(wrapped())


class SumModel:
    """Predicts the sum of each row's values, and remembers the frames it was given."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.frames.append(frame)
        return frame.to_numpy(dtype=float).sum(axis=1)


class ProbabilityModel:
    """Answers two class probabilities per row, the positive one from column 'p'."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        positive = frame["p"].to_numpy(dtype=float)
        return np.column_stack([1 - positive, positive])


class FailingModel:
    def __init__(self) -> None:
        self.calls = 0

    def predict(self, frame: pd.DataFrame) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("feature 'amount' is missing")
        return np.zeros(len(frame))


class SklearnModel:
    """A fitted scikit-learn classifier behind the pyfunc predict: positive-class probabilities."""

    def __init__(self, classifier: LogisticRegression) -> None:
        self.classifier = classifier

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(frame)


class _Metadata:
    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema

    def get_input_schema(self) -> Schema | None:
        return self.schema


class SignedModel(SumModel):
    """A model with an MLflow signature declaring 'amount' a double and 'count' a long."""

    def __init__(self) -> None:
        super().__init__()
        self.metadata = _Metadata(Schema([ColSpec("double", "amount"), ColSpec("long", "count")]))


def make_server(model: Any, log: PredictionLog | None = None, version: str = "7") -> ModelServer:
    return ModelServer(ServedModel(model=model, uri=URI, version=version), prediction_log=log)


def call(
    server: ModelServer,
    work: Callable[[httpx.AsyncClient], Awaitable[T]],
    *,
    raise_app_exceptions: bool = True,
) -> T:
    async def go() -> T:
        transport = httpx.ASGITransport(app=server, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await work(client)

    return run(go())


def post(server: ModelServer, body: Any, **kwargs: Any) -> httpx.Response:
    return call(server, lambda client: client.post("/invocations", json=body, **kwargs))


def post_raw(server: ModelServer, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return call(
        server,
        lambda client: client.post("/invocations", content=content, headers={"content-type": content_type}),
    )


def get(server: ModelServer, path: str) -> httpx.Response:
    return call(server, lambda client: client.get(path))


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    return None


# The scoring protocol's formats


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 4.5]]}},
            id="dataframe_split",
        ),
        pytest.param(
            {"dataframe_records": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.5}]}, id="dataframe_records"
        ),
        pytest.param({"instances": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.5}]}, id="instances_of_dicts"),
        pytest.param({"instances": [[1.0, 2.0], [3.0, 4.5]]}, id="instances_of_lists"),
        pytest.param({"inputs": {"a": [1.0, 3.0], "b": [2.0, 4.5]}}, id="inputs_of_columns"),
    ],
)
def test_every_format_of_the_scoring_protocol_is_predicted(body):
    model = SumModel()
    response = post(make_server(model), body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": [3.0, 7.5]}
    (frame,) = model.frames
    assert frame.shape == (2, 2)


def test_named_formats_keep_their_column_names():
    model = SumModel()
    for body in (
        {"dataframe_split": {"columns": ["amount", "age"], "data": [[1, 2]]}},
        {"dataframe_records": [{"amount": 1, "age": 2}]},
        {"instances": [{"amount": 1, "age": 2}]},
        {"inputs": {"amount": [1], "age": [2]}},
    ):
        assert post(make_server(model), body).status_code == 200
    assert [list(frame.columns) for frame in model.frames] == [["amount", "age"]] * 4


def test_inputs_of_scalars_make_one_row():
    model = SumModel()
    response = post(make_server(model), {"inputs": {"a": 1.5, "b": 2}})
    assert response.json() == {"predictions": [3.5]}
    assert model.frames[0].shape == (1, 2)


def test_a_scikit_learn_classifier_answers_its_probabilities():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"amount": rng.normal(size=200), "age": rng.normal(size=200)})
    labels = (features["amount"] > 0).astype(int)
    classifier = LogisticRegression().fit(features, labels)
    rows = [{"amount": 3.0, "age": 0.0}, {"amount": -3.0, "age": 0.0}]

    server = make_server(SklearnModel(classifier))
    response = post(server, {"dataframe_records": rows})

    assert response.status_code == 200
    predictions = response.json()["predictions"]
    expected = classifier.predict_proba(pd.DataFrame(rows))
    assert np.allclose(predictions, expected)
    assert predictions[0][1] > 0.9 > predictions[1][1]
    text = get(server, "/metrics").text
    assert metric(text, "model_prediction_score_count", model_version="7") == 2
    assert metric(text, "model_rows_total", model_version="7") == 2


def test_a_content_type_with_parameters_is_accepted():
    response = post_raw(
        make_server(SumModel()), b'{"instances": [[1, 2]]}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200
    assert response.json() == {"predictions": [3.0]}


# The other endpoints


@pytest.mark.parametrize("path", ["/ping", "/health"])
def test_liveness_endpoints_answer_ok(path):
    response = get(make_server(SumModel()), path)
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_version_names_the_uri_and_version():
    response = get(make_server(SumModel(), version="7"), "/version")
    assert response.status_code == 200
    assert response.json() == {"model_uri": URI, "model_version": "7"}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("GET", "/invocations"), ("POST", "/ping")]
)
def test_unknown_routes_are_404(method, path):
    response = call(make_server(SumModel()), lambda client: client.request(method, path))
    assert response.status_code == 404
    assert response.json() == {"error": f"no route {method} {path}"}


def test_metrics_count_requests_latency_errors_and_scores():
    server = make_server(ProbabilityModel())
    assert post(server, {"dataframe_records": [{"p": 0.05}, {"p": 0.95}, {"p": 0.55}]}).status_code == 200
    assert post(server, {"instances": [{"p": 0.15}]}).status_code == 200
    assert post_raw(server, b"not json").status_code == 400

    response = get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE model_request_latency_seconds histogram" in text
    assert "# TYPE model_prediction_score histogram" in text
    assert metric(text, "model_requests_total", code="200", model_version="7") == 2
    assert metric(text, "model_requests_total", code="400", model_version="7") == 1
    assert metric(text, "model_errors_total", kind="payload", model_version="7") == 1
    assert metric(text, "model_errors_total", kind="model") is None
    assert metric(text, "model_request_latency_seconds_count", model_version="7") == 3
    assert metric(text, "model_request_latency_seconds_bucket", le="+Inf", model_version="7") == 3
    assert metric(text, "model_request_latency_seconds_sum", model_version="7") > 0
    assert metric(text, "model_rows_total", model_version="7") == 4
    # The positive-class probabilities 0.05, 0.95, 0.55 and 0.15 went into the score histogram.
    assert metric(text, "model_prediction_score_count", model_version="7") == 4
    assert metric(text, "model_prediction_score_sum", model_version="7") == pytest.approx(1.7)
    assert metric(text, "model_prediction_score_bucket", le="0.1", model_version="7") == 1
    assert metric(text, "model_prediction_score_bucket", le="0.5", model_version="7") == 2
    assert metric(text, "model_prediction_score_bucket", le="0.9", model_version="7") == 3
    assert metric(text, "model_prediction_score_bucket", le="+Inf", model_version="7") == 4


def test_each_server_has_metrics_of_its_own():
    first, second = make_server(SumModel(), version="1"), make_server(SumModel(), version="2")
    post(first, {"instances": [[1]]})
    text = get(second, "/metrics").text
    assert metric(text, "model_requests_total") is None
    assert metric(get(first, "/metrics").text, "model_requests_total", code="200", model_version="1") == 1


# Bad requests


@pytest.mark.parametrize(
    ("content", "named"),
    [
        pytest.param(b"{not json", "not JSON", id="not-json"),
        pytest.param(b'[{"a": 1}]', "JSON object", id="json-list"),
        pytest.param(b'"instances"', "JSON object", id="json-string"),
        pytest.param(
            b'{"instances": [[1]], "inputs": {"a": [1]}}', "found instances, inputs", id="two-formats"
        ),
        pytest.param(b'{"rows": [[1]]}', "found none", id="no-format"),
        pytest.param(b'{"dataframe_split": {"columns": ["a"]}}', "needs 'data'", id="split-without-data"),
        pytest.param(b'{"dataframe_records": {"a": 1}}', "must be a list of objects", id="records-not-list"),
        pytest.param(b'{"instances": 5}', "got int", id="instances-scalar"),
        pytest.param(b'{"inputs": {"a": [1, 2], "b": [1]}}', "inputs does not make a table", id="ragged"),
    ],
)
def test_a_malformed_body_is_400_naming_the_problem(content, named):
    model = SumModel()
    server = make_server(model)
    response = post_raw(server, content)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error_code"] == "BAD_REQUEST"
    assert named in answer["message"]
    assert model.frames == []
    text = get(server, "/metrics").text
    assert metric(text, "model_errors_total", kind="payload", model_version="7") == 1
    assert metric(text, "model_requests_total", code="400", model_version="7") == 1
    assert metric(text, "model_requests_total", code="200") is None


def test_a_body_that_is_not_json_is_415():
    model = SumModel()
    server = make_server(model)
    response = post_raw(server, b"a,b\n1,2\n", content_type="text/csv")
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]
    assert model.frames == []
    text = get(server, "/metrics").text
    assert metric(text, "model_errors_total", kind="content_type", model_version="7") == 1
    assert metric(text, "model_requests_total", code="415", model_version="7") == 1


def test_a_body_over_the_limit_is_413(monkeypatch):
    monkeypatch.setattr(server_module, "MAX_BODY_BYTES", 32)
    server = make_server(SumModel())
    response = post(server, {"instances": [[1.0] * 50]})
    assert response.status_code == 413
    assert "32 bytes" in response.json()["message"]
    assert metric(get(server, "/metrics").text, "model_errors_total", kind="too_large") == 1
    assert post(server, {"instances": [[1]]}).status_code == 200


def test_a_failing_model_is_500_and_the_server_keeps_answering():
    model = FailingModel()
    server = make_server(model)

    failed = post(server, {"instances": [[1.0, 2.0]]})
    assert failed.status_code == 500
    assert failed.json() == {
        "error_code": "INTERNAL_ERROR",
        "message": "RuntimeError: feature 'amount' is missing",
    }

    answered = post(server, {"instances": [[1.0, 2.0], [3.0, 4.0]]})
    assert answered.status_code == 200
    assert answered.json() == {"predictions": [0.0, 0.0]}
    assert get(server, "/ping").status_code == 200
    text = get(server, "/metrics").text
    assert metric(text, "model_errors_total", kind="model", model_version="7") == 1
    assert metric(text, "model_requests_total", code="500", model_version="7") == 1
    assert metric(text, "model_requests_total", code="200", model_version="7") == 1


def test_predictions_that_are_not_scores_are_still_answered():
    class Labels:
        def predict(self, frame: pd.DataFrame) -> list[str]:
            return ["fraud"] * len(frame)

    server = make_server(Labels())
    response = post(server, {"instances": [[1], [2]]})
    assert response.status_code == 200
    assert response.json() == {"predictions": ["fraud", "fraud"]}
    text = get(server, "/metrics").text
    assert metric(text, "model_rows_total", model_version="7") == 2
    assert not metric(text, "model_prediction_score_count", model_version="7"), "labels are not scores"


# The model's signature


def test_integers_are_cast_to_the_signatures_doubles_before_predicting():
    model = SignedModel()
    server = make_server(model)
    assert server.column_types == {"amount": "float64", "count": "int64"}
    response = post(server, {"dataframe_records": [{"amount": 10, "count": 2}, {"amount": 3, "count": 1}]})
    assert response.status_code == 200
    assert response.json() == {"predictions": [12.0, 4.0]}
    (frame,) = model.frames
    assert str(frame["amount"].dtype) == "float64"
    assert str(frame["count"].dtype) == "int64"


def test_a_value_the_signature_cannot_take_is_400():
    server = make_server(SignedModel())
    response = post(server, {"dataframe_records": [{"amount": "lots", "count": 2}]})
    assert response.status_code == 400
    assert "signature" in response.json()["message"]


def test_conform_casts_whole_numbers_to_float64():
    frame = pd.DataFrame({"amount": [1, 2, 3], "label": ["a", "b", "c"]})
    assert str(frame["amount"].dtype) == "int64"
    conformed = conform(frame, {"amount": "float64"})
    assert str(conformed["amount"].dtype) == "float64"
    assert conformed["amount"].tolist() == [1.0, 2.0, 3.0]
    assert conformed["label"].tolist() == ["a", "b", "c"]


def test_conform_leaves_matching_missing_and_absent_columns_alone():
    frame = pd.DataFrame({"amount": [1.5, 2.5], "partial": [1.0, None]})
    assert conform(frame, {"amount": "float64", "elsewhere": "float64"}) is frame
    assert conform(frame, {"partial": "int64"}) is frame


def test_conform_refuses_values_of_the_wrong_kind():
    with pytest.raises(PayloadError, match="signature"):
        conform(pd.DataFrame({"amount": ["ten"]}), {"amount": "float64"})


def test_column_types_follow_the_signature():
    class Model:
        metadata = _Metadata(
            Schema(
                [
                    ColSpec("double", "amount"),
                    ColSpec("float", "ratio"),
                    ColSpec("long", "count"),
                    ColSpec("integer", "age"),
                    ColSpec("boolean", "flag"),
                    ColSpec("string", "country"),
                ]
            )
        )

    assert column_types(Model()) == {
        "amount": "float64",
        "ratio": "float32",
        "count": "int64",
        "age": "int32",
        "flag": "bool",
    }


def test_column_types_are_empty_without_a_named_signature():
    class Unnamed:
        metadata = _Metadata(Schema([ColSpec("double")]))

    class Unsigned:
        metadata = _Metadata(None)

    assert column_types(Unnamed()) == {}
    assert column_types(Unsigned()) == {}
    assert column_types(SumModel()) == {}


# Payload helpers


def test_parse_request_keeps_a_split_index():
    frame = parse_request(b'{"dataframe_split": {"columns": ["a"], "index": [7, 9], "data": [[1], [2]]}}')
    assert frame.index.tolist() == [7, 9]
    assert frame["a"].tolist() == [1, 2]


def test_scores_take_the_positive_class_of_two():
    result = scores(np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert result.tolist() == [0.1, 0.8]
    assert result.dtype == np.float64


def test_scores_pass_one_dimension_through():
    assert scores(np.array([0.25, 0.75])).tolist() == [0.25, 0.75]
    assert scores([1, 0, 1]).tolist() == [1.0, 0.0, 1.0]
    assert scores(pd.Series([0.5])).tolist() == [0.5]


def test_scores_take_a_single_column():
    assert scores(pd.DataFrame({"p": [0.3, 0.6]})).tolist() == [0.3, 0.6]


def test_scores_refuse_three_columns():
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        scores(np.zeros((4, 3)))


def test_jsonable_turns_numpy_and_pandas_into_json_values():
    assert jsonable(np.array([1, 2])) == [1, 2]
    assert jsonable(pd.Series([0.5, 1.5])) == [0.5, 1.5]
    assert jsonable(pd.DataFrame({"a": [1]})) == [{"a": 1}]
    assert jsonable((np.float64(0.5), np.int64(3))) == [0.5, 3]
    assert type(jsonable(np.float32(0.5))) is float
    json.dumps(jsonable([np.array([np.int64(1)]), np.bool_(True)]))


# The prediction log


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_prediction_log_writes_one_line_per_row(tmp_path):
    path = tmp_path / "logs" / "predictions.jsonl"
    log = PredictionLog(path, sample_rate=1.0)
    server = make_server(ProbabilityModel(), log)
    response = post(server, {"dataframe_records": [{"p": 0.25}, {"p": 0.75}]})
    assert response.status_code == 200
    log.close()

    lines = read_lines(path)
    assert [line["features"] for line in lines] == [{"p": 0.25}, {"p": 0.75}]
    assert [line["score"] for line in lines] == [0.25, 0.75]
    assert {line["version"] for line in lines} == {"7"}
    assert all(isinstance(line["ts"], float) for line in lines)


def test_a_zero_sample_rate_writes_nothing(tmp_path):
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, sample_rate=0)
    server = make_server(ProbabilityModel(), log)
    for _ in range(5):
        assert post(server, {"instances": [{"p": 0.5}]}).status_code == 200
    log.close()
    assert path.read_text(encoding="utf-8") == ""


def test_the_prediction_log_skips_failed_requests(tmp_path):
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, sample_rate=1.0)
    server = make_server(FailingModel(), log)
    assert post(server, {"instances": [[1.0]]}).status_code == 500
    assert post_raw(server, b"nope").status_code == 400
    assert post(server, {"instances": [[2.0]]}).status_code == 200
    log.close()
    assert [line["features"] for line in read_lines(path)] == [{"0": 2.0}]


def test_lifespan_shutdown_flushes_the_prediction_log(tmp_path):
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, sample_rate=1.0)
    server = make_server(ProbabilityModel(), log)
    assert post(server, {"instances": [{"p": 0.4}]}).status_code == 200

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(server({"type": "lifespan"}, receive, send))

    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert not log._writer.is_alive()
    assert [line["score"] for line in read_lines(path)] == [0.4]


# The entry point


def test_version_of_reads_a_registry_version(monkeypatch):
    monkeypatch.delenv("SLIPWAY_MODEL_VERSION", raising=False)
    assert version_of("models:/fraud-detector/7") == "7"
    assert version_of("models:/fraud-detector/12") == "12"


def test_version_of_an_unversioned_uri(monkeypatch):
    monkeypatch.delenv("SLIPWAY_MODEL_VERSION", raising=False)
    assert version_of("runs:/0123456789abcdef/model") == "unversioned"
    assert version_of("models:/fraud-detector@champion") == "unversioned"
    assert version_of("models:/fraud-detector/latest") == "unversioned"


def test_the_environment_names_the_version_first(monkeypatch):
    monkeypatch.setenv("SLIPWAY_MODEL_VERSION", "42")
    assert version_of("models:/fraud-detector/7") == "42"
    assert version_of("runs:/0123456789abcdef/model") == "42"


def test_main_needs_a_model_uri(monkeypatch, capsys):
    monkeypatch.delenv("SLIPWAY_MODEL_URI", raising=False)
    assert main([]) == 2
    assert "--model-uri" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("values", "dtype", "message"),
    [
        pytest.param([1.7], "int64", "must be a whole number (int64)", id="fraction-for-long"),
        pytest.param(["false"], "bool", "must be true or false", id="string-for-boolean"),
        pytest.param([2], "bool", "must be true or false", id="two-for-boolean"),
    ],
)
def test_conform_refuses_a_cast_that_would_change_the_value(values, dtype, message):
    with pytest.raises(PayloadError, match=re.escape(message)):
        conform(pd.DataFrame({"x": values}), {"x": dtype})


def test_conform_takes_zero_and_one_as_booleans():
    conformed = conform(pd.DataFrame({"x": [0, 1]}), {"x": "bool"})
    assert conformed["x"].tolist() == [False, True]


def test_content_type_is_case_insensitive():
    server = make_server(SumModel())
    response = post_raw(server, b'{"instances": [[1, 2]]}', content_type="Application/JSON")
    assert response.status_code == 200


class CountingModel:
    """Sums each row and counts its predict calls; a row with a negative value fails the call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.calls.append(len(frame))
        if (frame.to_numpy() < 0).any():
            raise ValueError("negative amounts are refused")
        return frame.sum(axis=1).to_numpy()


def _concurrently(server: ModelServer, bodies: list[Any]) -> list[httpx.Response]:
    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=server)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(await asyncio.gather(*(client.post("/invocations", json=body) for body in bodies)))

    return asyncio.run(send_all())


def test_concurrent_requests_share_predict_calls_and_get_their_own_rows():
    model = CountingModel()
    server = make_server(model)
    bodies = [{"dataframe_records": [{"a": n, "b": 1}]} for n in range(40)]
    responses = _concurrently(server, bodies)
    assert [r.json()["predictions"] for r in responses] == [[n + 1] for n in range(40)]
    assert sum(model.calls) == 40
    assert len(model.calls) < 40, "concurrent requests were joined into fewer calls"


def test_a_bad_request_in_a_batch_fails_alone():
    model = CountingModel()
    server = make_server(model)
    bodies = [{"dataframe_records": [{"a": -1 if n == 7 else n, "b": 1}]} for n in range(20)]
    responses = _concurrently(server, bodies)
    codes = [r.status_code for r in responses]
    assert codes[7] == 500
    assert codes[:7] + codes[8:] == [200] * 19
    assert "negative amounts are refused" in responses[7].json()["message"]


def test_a_lone_request_is_not_held_back():
    model = CountingModel()
    server = make_server(model)
    assert post(server, {"dataframe_records": [{"a": 1, "b": 2}]}).json() == {"predictions": [3]}
    assert model.calls == [1]

"""MLflow's scoring protocol: request bodies in, a DataFrame out; predictions back to JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pandas as pd

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class PayloadError(ValueError):
    """The request body is not one of the accepted formats; the message says what was wrong."""


def decode(body: bytes) -> Any:
    """The JSON of a request body."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadError(f"the body is not JSON: {error}") from error


def parse_request(body: bytes) -> pd.DataFrame:
    """A request body in any of MLflow's formats, as the DataFrame the model receives."""
    return frame_of(decode(body))


def _format_of(document: Any) -> tuple[str, Any]:
    """Which of MLflow's formats a request uses, and its payload; exactly one must be present."""
    if not isinstance(document, dict):
        raise PayloadError(f"the body must be a JSON object with one of: {', '.join(FORMATS)}")
    present = [key for key in FORMATS if key in document]
    if len(present) != 1:
        raise PayloadError(
            f"the body must hold exactly one of {', '.join(FORMATS)}; found {', '.join(present) or 'none'}"
        )
    (key,) = present
    return key, document[key]


def frame_of(document: Any) -> pd.DataFrame:
    """A decoded request in any of MLflow's formats, as the DataFrame the model receives."""
    key, value = _format_of(document)
    try:
        if key == "dataframe_split":
            if not isinstance(value, dict) or "data" not in value:
                raise PayloadError("dataframe_split needs 'data' (and usually 'columns')")
            return pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
        if key == "dataframe_records":
            if not isinstance(value, list):
                raise PayloadError("dataframe_records must be a list of objects")
            return pd.DataFrame.from_records(value)
        if isinstance(value, dict):
            # Named columns of values ("inputs": {"amount": [1.0], ...}).
            return pd.DataFrame({name: np.atleast_1d(column) for name, column in value.items()})
        if isinstance(value, list):
            if value and isinstance(value[0], dict):
                return pd.DataFrame.from_records(value)
            return pd.DataFrame(value)
    except PayloadError:
        raise
    except (ValueError, TypeError) as error:
        raise PayloadError(f"{key} does not make a table: {error}") from error
    raise PayloadError(f"{key} must be a list or an object, got {type(value).__name__}")


def jsonable(predictions: Any) -> Any:
    """Predictions as JSON values, the way MLflow's server returns them."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.tolist()
    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if isinstance(predictions, list | tuple):
        return [jsonable(item) for item in predictions]
    if isinstance(predictions, np.generic):
        return predictions.item()
    return predictions


def scores(predictions: Any) -> np.ndarray:
    """One number per row for metrics and drift: the positive-class probability where there are two."""
    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_numpy()
    array = np.asarray(predictions)
    if array.ndim == 2 and array.shape[1] == 2:
        return array[:, 1].astype(float)
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0].astype(float)
    if array.ndim == 1:
        return array.astype(float)
    raise ValueError(f"cannot score predictions of shape {array.shape}")


NUMPY_TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
}


def column_types(model: Any) -> dict[str, str]:
    """The dtypes the model's signature asks for, by column, for the columns that have one."""
    declared = getattr(model, "input_types", None)
    if isinstance(declared, dict):
        return dict(declared)
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is None or not getattr(schema, "has_input_names", lambda: False)():
        return {}
    wanted = {}
    for column in schema.inputs:
        name = getattr(column.type, "name", str(column.type))
        if column.name and name in NUMPY_TYPES:
            wanted[column.name] = NUMPY_TYPES[name]
    return wanted


def conform(frame: pd.DataFrame, wanted: dict[str, str]) -> pd.DataFrame:
    """Cast JSON's numbers to the signature's types where nothing is lost (5 for a double is fine).

    A value the cast would change (1.7 for a long, "false" for a boolean) is refused, not rounded.
    """
    casts = {
        name: dtype
        for name, dtype in wanted.items()
        if name in frame.columns and str(frame[name].dtype) != dtype and not frame[name].isna().any()
    }
    if not casts:
        return frame
    for name, dtype in casts.items():
        column = frame[name]
        if dtype == "bool":
            if not column.isin([True, False]).all() or not pd.api.types.is_numeric_dtype(column):
                raise PayloadError(f"column {name!r} must be true or false by the model's signature")
        elif not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise PayloadError(
                f"column {name!r} must be a number ({dtype}) by the model's signature, got {column.dtype}"
            )
        elif dtype.startswith("int") and not (column % 1 == 0).all():
            raise PayloadError(f"column {name!r} must be a whole number ({dtype}) by the model's signature")
    return frame.astype(casts)


class Table:
    """A request's rows as columns of plain values: cheap to build, cheap to join into one batch."""

    __slots__ = ("columns", "values", "rows")

    def __init__(self, columns: tuple[Any, ...], values: list[list[Any]], rows: int) -> None:
        """Columns by name, each a list with one value per row."""
        self.columns = columns
        self.values = values
        self.rows = rows

    def frame(self) -> pd.DataFrame:
        """The rows as the DataFrame a model takes."""
        return pd.DataFrame(dict(zip(self.columns, self.values, strict=True)), columns=list(self.columns))


def _from_records(records: list[Any], key: str) -> Table:
    if not all(isinstance(record, dict) for record in records):
        raise PayloadError(f"{key} must be a list of objects")
    if not records:
        raise PayloadError(f"{key} holds no rows")
    columns = tuple(records[0])
    if any(len(record) != len(columns) for record in records):
        # Records with differing keys: let pandas align them, as MLflow does.
        frame = pd.DataFrame.from_records(records)
        return Table(tuple(frame.columns), [frame[c].tolist() for c in frame.columns], len(frame))
    return Table(columns, [[record.get(column) for record in records] for column in columns], len(records))


def parse_table(document: Any) -> Table:
    """A decoded request body in any of MLflow's formats, as columns; the same rules as parse_request."""
    key, value = _format_of(document)
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value or "index" in value:
            # An index (or an odd shape) takes the general path through pandas.
            frame = frame_of(document)
            return Table(tuple(frame.columns), [frame[c].tolist() for c in frame.columns], len(frame))
        data = value["data"]
        if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
            raise PayloadError("dataframe_split 'data' must be a list of rows")
        columns = tuple(value.get("columns") or range(len(data[0]) if data else 0))
        if any(len(row) != len(columns) for row in data):
            raise PayloadError(f"dataframe_split rows must each have {len(columns)} values")
        return Table(
            columns,
            [list(column) for column in zip(*data, strict=True)] if data else [[] for _ in columns],
            len(data),
        )
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise PayloadError("dataframe_records must be a list of objects")
        return _from_records(value, key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _from_records(value, key)
    frame = frame_of(document)
    return Table(tuple(frame.columns), [frame[c].tolist() for c in frame.columns], len(frame))

"""Every error a user can fix derives from ``WorkbenchError``; the CLI prints those as one line.

Anything else (a ``KeyError`` in our code, a torch crash) is a bug and keeps its traceback.
Messages from the API name *parameters* (``samples``, ``chunk_size``); the CLI maps them to its
flags (``--samples``, ``--batch-questions``), so the API reads right in a notebook and the CLI
reads right in a shell.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Root of the errors a user can fix: bad input, unknown ids, a busy store."""


class UsageError(WorkbenchError, ValueError):
    """A parameter with a bad value. ``param`` names the API parameter it concerns.

    >>> str(UsageError("samples", "must be ≥ 1, got 0"))
    'samples: must be ≥ 1, got 0'
    """

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param, self.message = param, message


class NotFound(WorkbenchError, LookupError):
    """An id or name that is not in the store."""


class StoreError(WorkbenchError):
    """The store cannot be opened, locked or migrated; the message names the file."""


class StoreBusy(StoreError):
    """Another process holds the store; the message names the file and the holder."""


class DatasetError(WorkbenchError):
    """A dataset that cannot be used; the message names the file and rows."""


class MissingKey(WorkbenchError):
    """An API key read from an environment variable that is not set (a backend, a server
    check or a recorded LLM judge); the message names the variable and who reads it."""


class ExperimentError(WorkbenchError):
    """An experiment file that cannot be run; the message names the file, table and key."""


class ExchangeError(UsageError):
    """An export that cannot be written there, or a folder that cannot be imported (not an
    export, a newer schema, a file changed since); ``param`` names the folder's parameter."""


class ModelError(WorkbenchError):
    """A model name that cannot be resolved, or a model that fails to load."""


class JudgeError(WorkbenchError):
    """An unknown judge, or a judge that cannot be used as recorded."""


class StageError(WorkbenchError):
    """A stage refused its input (an unfinished run, nothing to score, a resume that would mix
    prompt versions) or ended with work missing."""


class NoLogprobs(StageError):
    """A measure reads each sample's log-probability and the run did not store it."""


class NotAsked(StageError):
    """A measure reads what the model stated when asked (``workbench elicit``) and it was not
    asked for this grading."""


class RemoteError(WorkbenchError):
    """A request to a server that failed for good; ``status`` is the last HTTP status."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class QueryError(WorkbenchError):
    """SQL that DuckDB refused, with DuckDB's message."""


class NoSharedQuestions(WorkbenchError):
    """Two gradings with no question judged on both sides: nothing to compare."""


class MeasurementError(WorkbenchError):
    """Figures that cannot be computed from what is there (no scored question, a reference
    too concentrated to test against)."""

"""``workbench serve``: an OpenAI-compatible HTTP server over the transformers token sampler,
bound to 127.0.0.1 (``app.py``)."""

from .app import Limits, create_app, serve

__all__ = ["Limits", "create_app", "serve"]

"""The HTTP API: a FastAPI app over the service layer (``kinhteso serve``).

:func:`create_app` builds the app for one workspace, which the server owns for its lifetime
(the store's write connection; readers never wait on a write). Paths share the prefix
:data:`PREFIX`; SDMX sits at ``/sdmx``. See docs/api.md.
"""

from kinhteso.api.app import PREFIX, create_app

__all__ = ["PREFIX", "create_app"]

"""``install_as_dwebsocket()``: run a project written for ``dwebsocket`` unchanged.

At the top of the project's ``settings.py``::

    import dwebsocket_c
    dwebsocket_c.install_as_dwebsocket()

(the pattern of ``pymysql.install_as_MySQLdb()``). Nothing named
``dwebsocket`` exists until a project makes this call, so the real old
library is never shadowed by surprise. After it:

* ``import dwebsocket``, ``dwebsocket.decorators``, ``dwebsocket.middleware``,
  ``dwebsocket.websocket`` and ``from dwebsocket import accept_websocket,
  require_websocket`` give the modules and objects of ``dwebsocket_c``
  themselves (the same module objects, not copies: one set of classes, one
  registration of the system checks). ``dwebsocket.factory`` and
  ``dwebsocket.backends`` (the old per-server backends) raise an
  ``ImportError`` that says the server is now found automatically.
* ``'dwebsocket'`` in ``INSTALLED_APPS`` is the app ``dwebsocket_c`` (label
  ``dwebsocket_c``). With both names listed, the second one is an inert
  twin (label ``dwebsocket``) so that Django does not refuse a duplicate
  label; the first one is the app.
* ``'dwebsocket.middleware.WebSocketMiddleware'`` in ``MIDDLEWARE`` is
  :class:`dwebsocket_c.middleware.WebSocketMiddleware`.
* ``WEBSOCKET_ACCEPT_ALL`` keeps its meaning; ``WEBSOCKET_FACTORY_CLASS`` and
  a middleware in ``MIDDLEWARE_CLASSES`` are reported by ``manage.py check``
  (``dwebsocket_c.W002``, ``dwebsocket_c.W006``) with what replaces them.
* ``WEBSOCKET_LEGACY_API`` defaults to True: the old end-of-connection
  signals (see :mod:`dwebsocket_c.conf`). An explicit setting wins.

The alias is a finder on :data:`sys.meta_path`; :func:`uninstall_dwebsocket`
removes it again (for tests).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

OLD_NAME = "dwebsocket"
NEW_NAME = "dwebsocket_c"

# Modules of dwebsocket 0.5 that have no counterpart, and why.
_GONE = {
    "factory": "the server is recognised from the request",
    "backends": "the server is recognised from the request (uWSGI included), "
                "so WEBSOCKET_FACTORY_CLASS is ignored",
}


def _target(fullname: str) -> str:
    """``dwebsocket.x.y`` -> ``dwebsocket_c.x.y``."""
    return NEW_NAME + fullname[len(OLD_NAME):]


class _AliasLoader(importlib.abc.Loader):
    """Puts the real ``dwebsocket_c`` module in ``sys.modules`` under the old
    name. The import system then returns what ``sys.modules`` holds, so the
    module object is shared and its ``__spec__`` stays its own."""

    def create_module(self, spec: Any) -> None:
        return None  # a throwaway module, replaced in exec_module

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(_target(module.__name__))


class DWebSocketAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``dwebsocket`` and ``dwebsocket.*`` to ``dwebsocket_c``."""

    _loader = _AliasLoader()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != OLD_NAME and not fullname.startswith(OLD_NAME + "."):
            return None
        first = fullname.split(".")[1] if "." in fullname else ""
        if first in _GONE:
            raise ModuleNotFoundError(
                f"{fullname} was part of the old dwebsocket and has no equivalent in "
                f"dwebsocket_c: {_GONE[first]}. Remove the import.",
                name=fullname,
            )
        if importlib.util.find_spec(_target(fullname)) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self._loader)


def _finder() -> DWebSocketAliasFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, DWebSocketAliasFinder):
            return finder
    return None


def is_installed() -> bool:
    """Whether :func:`install_as_dwebsocket` was called in this process."""
    return _finder() is not None


def install_as_dwebsocket() -> None:
    """Make ``dwebsocket`` an alias of ``dwebsocket_c`` (see the module docstring).

    Raises ``ImportError`` if the real ``dwebsocket`` was imported already:
    the two cannot both be ``dwebsocket``. Calling it twice is harmless.
    """
    if is_installed():
        return
    loaded = sys.modules.get(OLD_NAME)
    if loaded is not None and loaded is not sys.modules.get(NEW_NAME):
        raise ImportError(
            f"install_as_dwebsocket(): the real dwebsocket package is already imported "
            f"({getattr(loaded, '__file__', loaded)!r}). Call it at the top of "
            "settings.py, before anything imports dwebsocket, or uninstall dwebsocket."
        )
    sys.meta_path.insert(0, DWebSocketAliasFinder())


def uninstall_dwebsocket() -> None:
    """Undo :func:`install_as_dwebsocket` (the old names stop resolving)."""
    finder = _finder()
    if finder is not None:
        sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n == OLD_NAME or n.startswith(OLD_NAME + ".")]:
        del sys.modules[name]


def old_name_listed_with_new(installed_apps: Any) -> bool:
    """Whether ``INSTALLED_APPS`` names the app both ways."""
    entries = [entry for entry in installed_apps if isinstance(entry, str)]

    def listed(name: str) -> bool:
        return any(entry == name or entry.startswith(name + ".apps.") for entry in entries)

    return listed(OLD_NAME) and listed(NEW_NAME)

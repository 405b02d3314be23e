"""Flask's request context and user session around a Socket.IO handler, on Flask 2.2 to 3.x.

Only Flask's public API is used: the ``session`` argument of the request context's constructor
(``flask.ctx.RequestContext`` up to 3.1, ``flask.ctx.AppContext`` from 3.2, where the two
merged), the app's ``session_interface`` (``open_session``/``save_session``) and the
``flask.session`` proxy. Flask 3.1.3 made ``RequestContext.session`` read-only, so a context
cannot be given another session after it is made; it is given the right one when it is made.
"""
from __future__ import annotations

import flask
import flask.ctx
from flask.sessions import SessionMixin

from .wsgi import handshake_environ

# Flask 3.2 merged the request context into the app context (``AppContext.from_environ``).
_MERGED_CONTEXTS = hasattr(flask.ctx.AppContext, "from_environ")


class ManagedSession(dict, SessionMixin):
    """The session of one Socket.IO client when the extension manages it: a copy of the Flask
    session its connection request carried, kept for the connection's life (Flask-SocketIO's
    ``_ManagedSession``)."""


def _context(app, environ: dict, session):
    """A request context for ``environ`` holding ``session`` (None: Flask opens its own)."""
    if _MERGED_CONTEXTS:
        request = app.request_class(environ)
        request.json_module = app.json
        return flask.ctx.AppContext(app, request=request, session=session)
    return flask.ctx.RequestContext(app, environ, session=session)


class HandlerContext:
    """``with HandlerContext(app, connection, manage_session):`` runs a handler inside a request
    context built from the Socket.IO connection's handshake request.

    With ``manage_session`` the handler sees the connection's ``ManagedSession`` (made on the
    first handler from the session the handshake's cookie holds, then kept in ``connection``,
    the connection's environ dict); without it, Flask opens the session as for an HTTP request
    and, when the handler changed it, saves it through the app's session interface (what makes
    server-side sessions shared with HTTP routes; a cookie session cannot be sent to the client,
    so its changes are lost, as in Flask-SocketIO).
    """

    def __init__(self, app, connection: dict, manage_session: bool):
        self.app = app
        self.connection = connection
        self.manage_session = manage_session
        self._context = None

    def __enter__(self):
        environ = self.connection.get("wsgi_environ")
        if environ is None:
            environ = self.connection["wsgi_environ"] = handshake_environ(self.connection)
        session = None
        opening = False
        if self.manage_session:
            session = self.connection.get("saved_session")
            if session is None:
                session = self.connection["saved_session"] = ManagedSession()
                opening = True
        # Each handler gets a fresh copy of the environ: Flask and Werkzeug write to it.
        self._context = _context(self.app, dict(environ), session)
        self._context.push()
        if opening:
            # Opened inside the pushed context, as Flask itself does, so an interface that
            # reads the request context works too.
            interface = self.app.session_interface
            opened = interface.open_session(self.app, flask.request)
            if opened is not None:
                session.update(opened)
        return self

    def save_session(self):
        """After a handler without managed sessions: save the Flask session if it changed."""
        if self.manage_session:
            return
        session = flask.session._get_current_object()
        if getattr(session, "modified", True):
            self.app.session_interface.save_session(self.app, session, self.app.response_class())

    def __exit__(self, *exc):
        context, self._context = self._context, None
        context.pop()
        return False

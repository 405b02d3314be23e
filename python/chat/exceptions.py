"""Exceptions, with python-socketio's semantics."""


class ConnectionRefusedError(ConnectionError):  # noqa: A001 - Flask-SocketIO's name
    """Raise in a connect handler to refuse the connection: ``ConnectionRefusedError(message)``,
    or with data, ``ConnectionRefusedError(message, data)``; the client gets both."""

    def __init__(self, *args):
        super().__init__(*args)
        if len(args) == 0:
            self.error_args = {"message": "Connection rejected by server"}
        elif len(args) == 1:
            self.error_args = {"message": str(args[0])}
        else:
            self.error_args = {"message": str(args[0])}
            self.error_args["data"] = args[1] if len(args) == 2 else list(args[1:])

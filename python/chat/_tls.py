"""run()'s TLS arguments: Flask-SocketIO's (``certfile``, ``keyfile``, ``ca_certs``, ``cert_reqs``)
and Werkzeug's ``ssl_context``, turned into the PEM files the C++ server loads."""
from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from typing import Any, Dict, Iterator, NamedTuple, Optional

from . import _core
from ._options import UnsupportedOption

ARGUMENTS = ("certfile", "keyfile", "ssl_context", "ca_certs", "cert_reqs")


class TlsFiles(NamedTuple):
    certfile: str
    keyfile: str
    ca_certs: str  # "": no client certificate asked for


def requested(kwargs: Dict[str, Any]) -> bool:
    return any(kwargs.get(name) is not None for name in ARGUMENTS)


@contextlib.contextmanager
def files(kwargs: Dict[str, Any]) -> Iterator[Optional[TlsFiles]]:
    """The files to serve TLS with (None: plain), valid inside the ``with`` (``'adhoc'`` makes
    them in a private directory removed after). Raises for arguments chat cannot honour."""
    if not requested(kwargs):
        yield None
        return
    if not _core.HAS_TLS:
        name = next(name for name in ARGUMENTS if kwargs.get(name) is not None)
        raise UnsupportedOption(name, kwargs[name], "this chat package was built without OpenSSL (Debian: "
                                "libssl-dev); reinstall it where OpenSSL's headers are found to serve TLS")
    client_ca = _client_ca(kwargs.get("ca_certs"), kwargs.get("cert_reqs"))
    context = kwargs.get("ssl_context")
    certfile, keyfile = kwargs.get("certfile"), kwargs.get("keyfile")
    if context is None:
        if certfile is None:
            raise ValueError("run(): keyfile= needs certfile= (the certificate chain)")
        # ssl.SSLContext.load_cert_chain's rule: without a key file, the key is in the certificate's.
        yield TlsFiles(os.fspath(certfile), os.fspath(keyfile if keyfile is not None else certfile), client_ca)
        return
    if certfile is not None or keyfile is not None:
        raise ValueError("run(): pass ssl_context= or certfile=/keyfile=, not both")
    if isinstance(context, (tuple, list)) and len(context) == 2:
        yield TlsFiles(os.fspath(context[0]), os.fspath(context[1]), client_ca)
    elif context == "adhoc":
        with _adhoc() as (cert, key):
            yield TlsFiles(cert, key, client_ca)
    elif isinstance(context, ssl.SSLContext):
        raise UnsupportedOption("ssl_context", context, "a Python ssl.SSLContext cannot be used by chat's C++ server "
                                "(its certificate and key cannot be read back); pass the files: "
                                "certfile= and keyfile=, or ssl_context=(certfile, keyfile)")
    else:
        raise UnsupportedOption("ssl_context", context, "expected (certfile, keyfile) or 'adhoc'")


def _client_ca(ca_certs, cert_reqs) -> str:
    """The CA whose client certificates are required ("" for none), as eventlet's wrap_ssl takes
    them from Flask-SocketIO's run(): ``cert_reqs=ssl.CERT_REQUIRED`` with ``ca_certs``."""
    if cert_reqs is None or cert_reqs == ssl.CERT_NONE:
        if ca_certs is not None:
            raise ValueError("run(): ca_certs= verifies client certificates only with cert_reqs=ssl.CERT_REQUIRED")
        return ""
    if cert_reqs != ssl.CERT_REQUIRED:
        raise UnsupportedOption("cert_reqs", cert_reqs, "chat requires a client certificate or asks for none: "
                                "ssl.CERT_REQUIRED (with ca_certs=) or ssl.CERT_NONE")
    if ca_certs is None:
        raise ValueError("run(): cert_reqs=ssl.CERT_REQUIRED needs ca_certs= (the CA that signs client certificates)")
    return os.fspath(ca_certs)


@contextlib.contextmanager
def _adhoc() -> Iterator[tuple]:
    """A self-signed certificate made now, as Werkzeug's ``ssl_context='adhoc'`` makes it (needs
    the cryptography package), in files only this user can read."""
    from werkzeug.serving import generate_adhoc_ssl_pair
    from cryptography.hazmat.primitives import serialization

    cert, key = generate_adhoc_ssl_pair()
    with tempfile.TemporaryDirectory(prefix="chat-adhoc-") as directory:
        cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
        yield cert_path, key_path

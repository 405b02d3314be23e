"""TLS from Python: socketio.run(app, certfile=..., keyfile=...) as Flask-SocketIO documents it,
Werkzeug's ssl_context forms, client certificates (ca_certs with cert_reqs=ssl.CERT_REQUIRED),
reached by python-socketio's client over https polling, wss and the upgrade, trusting a CA made
for the test. Servers run in this process (socketio.run on a thread, port 0)."""
import os
import queue
import ssl
import subprocess

import pytest
import requests
import socketio as socketio_client
from flask import Flask

import chat
from chat import SocketIO, emit
from chat._options import UnsupportedOption
import one_tls_call_at_a_time  # tests/support
from app_servers import IO_TIMEOUT
from clients import TRANSPORTS

pytestmark = [
    pytest.mark.skipif(not chat._core.HAS_TLS, reason="the chat package was built without OpenSSL"),
    # The clients that skip verification do it on purpose (a self-signed or a bad certificate).
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


@pytest.fixture(autouse=True)
def wss_without_the_client_race(monkeypatch):
    """python-engineio's client races its reader and writer threads on one SSL object
    (tests/support/one_tls_call_at_a_time.py): these tests are about the server."""
    one_tls_call_at_a_time.install(monkeypatch)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, and certificates it signed (name -> (certfile, keyfile)): `server` for 127.0.0.1,
    `client` for client authentication, `expired`, and `wrong-host` (for chat.invalid)."""
    directory = tmp_path_factory.mktemp("pki")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=chat test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    files = {"ca": str(directory / "ca.pem")}
    for name, extension, days in (("server", "subjectAltName=IP:127.0.0.1", 2),
                                  ("client", "extendedKeyUsage=clientAuth", 2),
                                  ("expired", "subjectAltName=IP:127.0.0.1", -1),
                                  ("wrong-host", "subjectAltName=DNS:chat.invalid", 2)):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key",
                "-out", name + ".csr")
        (directory / (name + ".cnf")).write_text(extension + "\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", str(days), "-extfile", name + ".cnf", "-out", name + ".pem")
        files[name] = (str(directory / (name + ".pem")), str(directory / (name + ".key")))
    return files


@pytest.fixture
def serve_echo(serve):
    """serve_echo(**run_kwargs) -> Running: an echo app (emits `echo` back with the args of `echo`)."""

    def start(**run_kwargs):
        app = Flask(__name__)
        # Debian's websocket-client (1.2.3, under python-socketio's client) sends
        # "Origin: http://HOST:PORT" for wss:// too, which the default same-origin policy of an
        # https server refuses (as python-engineio's does): these tests are not about Origin.
        socketio = SocketIO(app, cors_allowed_origins="*")

        @socketio.on("echo")
        def echo(*args):
            emit("echo", list(args))

        return serve(socketio, app, **run_kwargs)

    return start


def session(verify=True, cert=None):
    """The requests session python-socketio's client takes its TLS settings from, for polling
    and (python-engineio copies them) for the WebSocket."""
    http = requests.Session()
    # REQUESTS_CA_BUNDLE and the like would replace `verify` (requests' rule for the environment).
    http.trust_env = False
    http.verify = verify
    http.cert = cert
    return http


def echoes(url, transport, http):
    """Connects with python-socketio's client, has a message echoed, disconnects."""
    # request_timeout: python-engineio's 5 s default is short for a handshake on a loaded machine.
    client = socketio_client.Client(reconnection=False, http_session=http, ssl_verify=http.verify is not False,
                                    request_timeout=IO_TIMEOUT)
    answers = queue.Queue()
    client.on("echo", lambda args: answers.put(args))
    client.connect(url, transports=TRANSPORTS[transport], wait_timeout=IO_TIMEOUT)
    try:
        client.emit("echo", {"secret": transport})
        assert answers.get(timeout=IO_TIMEOUT) == [{"secret": transport}]
        if transport != "polling":
            assert client.transport() == "websocket"
    finally:
        client.disconnect()


def refused(url, transport, http):
    """True when python-socketio's client cannot connect."""
    client = socketio_client.Client(reconnection=False, http_session=http, request_timeout=IO_TIMEOUT)
    try:
        client.connect(url, transports=TRANSPORTS[transport], wait_timeout=IO_TIMEOUT)
    except socketio_client.exceptions.ConnectionError:
        return True
    client.disconnect()
    return False


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_certfile_and_keyfile(serve_echo, pki, transport):
    server = serve_echo(certfile=pki["server"][0], keyfile=pki["server"][1])
    assert server.url.startswith("https://")
    echoes(server.url, transport, session(verify=pki["ca"]))


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_ssl_context_as_a_pair_of_files(serve_echo, pki, transport):
    server = serve_echo(ssl_context=pki["server"])
    echoes(server.url, transport, session(verify=pki["ca"]))


def test_certfile_holding_the_key_too(serve_echo, pki, tmp_path):
    both = tmp_path / "both.pem"
    both.write_bytes(open(pki["server"][0], "rb").read() + open(pki["server"][1], "rb").read())
    server = serve_echo(certfile=str(both))
    echoes(server.url, "websocket", session(verify=pki["ca"]))


def test_adhoc_serves_a_self_signed_certificate(serve_echo):
    server = serve_echo(ssl_context="adhoc")
    # Made at start and signed by no one: a verifying client refuses it, one that does not check connects.
    assert refused(server.url, "polling", session())
    echoes(server.url, "polling", session(verify=False))


def test_a_python_ssl_context_is_refused_by_name(pki):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*pki["server"])
    socketio = SocketIO(Flask(__name__))
    with pytest.raises(UnsupportedOption, match="ssl_context=.*certfile= and keyfile="):
        socketio.run(port=0, ssl_context=context)
    assert socketio.server is None  # refused before anything was served


@pytest.mark.parametrize("arguments, error", [
    ({"keyfile": "server.key"}, "keyfile= needs certfile="),
    ({"ssl_context": ("a.pem", "a.key"), "certfile": "a.pem"}, "not both"),
    ({"ssl_context": "something"}, "expected \\(certfile, keyfile\\) or 'adhoc'"),
    ({"certfile": "a.pem", "ca_certs": "ca.pem"}, "only with cert_reqs=ssl.CERT_REQUIRED"),
    ({"certfile": "a.pem", "cert_reqs": ssl.CERT_REQUIRED}, "needs ca_certs="),
    ({"certfile": "a.pem", "cert_reqs": ssl.CERT_OPTIONAL, "ca_certs": "ca.pem"}, "cert_reqs="),
])
def test_tls_arguments_chat_cannot_honour_are_refused(arguments, error):
    socketio = SocketIO(Flask(__name__))
    with pytest.raises(ValueError, match=error):
        socketio.run(port=0, **arguments)
    assert socketio.server is None


def test_an_unreadable_certificate_is_said(pki, tmp_path):
    socketio = SocketIO(Flask(__name__))
    with pytest.raises(RuntimeError, match="certificate chain .*missing.pem"):
        socketio.run(port=0, certfile=str(tmp_path / "missing.pem"), keyfile=pki["server"][1])


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_client_certificates_required(serve_echo, pki, transport):
    server = serve_echo(certfile=pki["server"][0], keyfile=pki["server"][1], ca_certs=pki["ca"],
                   cert_reqs=ssl.CERT_REQUIRED)
    assert refused(server.url, transport, session(verify=pki["ca"]))
    echoes(server.url, transport, session(verify=pki["ca"], cert=pki["client"]))


def test_plaintext_to_the_tls_port_opens_no_session(serve_echo, pki):
    server = serve_echo(certfile=pki["server"][0], keyfile=pki["server"][1])
    plain = server.url.replace("https://", "http://") + "/socket.io/?EIO=4&transport=polling"
    try:
        answer = requests.get(plain, timeout=IO_TIMEOUT)
        assert not answer.text.startswith("0{"), answer.text
    except requests.exceptions.ConnectionError:
        pass  # the server closed the connection: no session either
    echoes(server.url, "upgrade", session(verify=pki["ca"]))


@pytest.mark.parametrize("certificate", ["expired", "wrong-host"])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_the_client_refuses_a_bad_certificate_and_the_server_goes_on(serve_echo, pki, certificate, transport):
    server = serve_echo(certfile=pki[certificate][0], keyfile=pki[certificate][1])
    assert refused(server.url, transport, session(verify=pki["ca"]))
    # The server is not at fault: a client that does not check (only to show it still serves).
    echoes(server.url, transport, session(verify=False))

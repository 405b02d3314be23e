"""The chat app over TLS (--tls-cert, --tls-key), from C++ and from Python: the page over https,
the protocol over https long-polling (python-socketio's client trusting a CA made for the test),
and the C++ server on a TLS and a plain port at once (--plain-port), one app for both."""
import subprocess

import pytest
import requests
import socketio

import servers  # tests/support/servers.py, on sys.path through tests/conftest.py
from conftest import IO_TIMEOUT
from test_chat_protocol import join, login, post


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1 it signed: {ca, cert, key}."""
    directory = tmp_path_factory.mktemp("pki")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=chat test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr")
    (directory / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
    return {name: str(directory / file) for name, file in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}


class Peer:
    """python-socketio's client over long-polling, recording the events it receives."""

    def __init__(self, url, ca=None):
        http = requests.Session()
        http.trust_env = False  # REQUESTS_CA_BUNDLE would replace `verify`
        http.verify = ca if ca else True
        self.events = []
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.sio.on("*", lambda event, *args: self.events.append((event, args)))
        # Long-polling: Debian's websocket-client sends "Origin: http://..." for wss:// too, which
        # the app's same-origin policy refuses (as a browser's right Origin is not).
        self.sio.connect(url, transports=["polling"], wait_timeout=IO_TIMEOUT)

    def call(self, event, *args):
        return self.sio.call(event, tuple(args), timeout=IO_TIMEOUT)

    def close(self):
        self.sio.disconnect()


def tls_flags(pki):
    return ("--tls-cert", pki["cert"], "--tls-key", pki["key"])


def test_the_app_over_https(launch, kind, db, pki):
    server = launch(kind, db, tls_flags(pki))
    url = "https://127.0.0.1:%d" % server.port
    page = requests.get(url + "/", verify=pki["ca"], timeout=IO_TIMEOUT)
    assert page.status_code == 200 and "<html" in page.text.lower()
    peer = Peer(url, pki["ca"])
    try:
        login(peer, "alice")
        join(peer, "general")
        assert post(peer, "general", "over TLS")["text"] == "over TLS"
    finally:
        peer.close()


def test_tls_flags_go_together(launch, kind, db, pki):
    launch.require(kind)
    command = launch.command(kind, db, ("--tls-cert", pki["cert"]))
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2, finished
    assert "--tls-cert and --tls-key go together" in finished.stderr


def test_cpp_on_a_tls_and_a_plain_port_is_one_app(launch, db, pki):
    plain_port = servers.pick_free_port()
    server = launch("cpp", db, tls_flags(pki) + ("--plain-port", str(plain_port)))
    secure = Peer("https://127.0.0.1:%d" % server.port, pki["ca"])
    plain = Peer("http://127.0.0.1:%d" % plain_port)
    try:
        login(secure, "alice")
        login(plain, "bob")
        join(secure, "general")
        join(plain, "general")
        post(secure, "general", "from https")
        post(plain, "general", "from http")
        for peer in (secure, plain):
            servers.until(lambda: {"from https", "from http"} <= {
                args[0].get("text") for event, args in list(peer.events) if event == "message" and args
            }, "both messages at both peers", IO_TIMEOUT)
    finally:
        secure.close()
        plain.close()

import socket

import uvicorn


def positives(app, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # ruleid: python-bind-all-interfaces
    sock.bind(("0.0.0.0", port))
    # ruleid: python-bind-all-interfaces
    sock.bind(("", 8080))
    # ruleid: python-bind-all-interfaces
    uvicorn.run(app, host="0.0.0.0", port=port)


def negatives(app, port, settings):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # ok: python-bind-all-interfaces
    sock.bind(("127.0.0.1", port))
    # ok: python-bind-all-interfaces
    uvicorn.run(app, host=settings.bind_host, port=port)
    # ok: python-bind-all-interfaces
    app.run(host="localhost")

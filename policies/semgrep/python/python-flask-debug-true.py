import os

from flask import Flask

app = Flask(__name__)
# ruleid: python-flask-debug-true
app.config["DEBUG"] = True
# ruleid: python-flask-debug-true
app.debug = True
# ok: python-flask-debug-true
app.config["TESTING"] = True
# ok: python-flask-debug-true
app.debug = os.environ.get("FLASK_DEBUG") == "1"


if __name__ == "__main__":
    # ruleid: python-flask-debug-true
    app.run(host="127.0.0.1", port=5000, debug=True)
    # ok: python-flask-debug-true
    app.run(host="127.0.0.1", port=5000)
    # ok: python-flask-debug-true
    app.run(debug=False)

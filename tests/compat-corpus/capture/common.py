"""Shared by the Python capture programs. Every query a program sends itself (not the driver)
starts with the marker OWN, so extract.py can drop it: the corpus keeps what drivers send on
their own. application_name is the client's name so the server log separates the clients."""
import os
import sys
import traceback

OWN = "/*own*/ "


def params(app):
    e = os.environ
    return dict(host=e.get("CORPUS_HOST", "127.0.0.1"), port=int(e.get("CORPUS_PORT", "54333")),
                user=e.get("CORPUS_USER", "corpus"), dbname=e.get("CORPUS_DB", "corpus"),
                application_name=app)


def dsn(app):
    return " ".join(f"{k}={v}" for k, v in params(app).items())


def url(driver, app):
    p = params(app)
    return (f"postgresql+{driver}://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
            f"?application_name={app}")


def step(what, fn):
    """Run one introspection step; a failure (as on real PostgreSQL, e.g. no hstore) is fine:
    the queries were sent and logged. Print it so the capture log shows what happened."""
    try:
        fn()
        print(f"  ok    {what}")
    except Exception as e:  # noqa: BLE001
        print(f"  error {what}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        if os.environ.get("CORPUS_VERBOSE"):
            traceback.print_exc(file=sys.stderr)

"""Shared by the Python client programs: one RESULT line per check, read by ../run.sh.

A check is a function that asserts real values. It passes, or fails with its exact error.
A check declared `gap=True` exercises catalog introspection (pg_catalog / information_schema
queries the driver sends on its own); its failure is reported as GAP (the pg_catalog
emulation layer is not built yet), never as a pass. Everything else that fails is FAIL.
"""
import os
import sys
import traceback

FAILED = []


def emit(client, feature, status, detail=""):
    detail = " ".join(str(detail).split())[:400]
    print(f"RESULT\t{client}\t{feature}\t{status}\t{detail}", flush=True)


def run(client, feature, fn, gap=False):
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - every failure is reported
        if isinstance(e, KeyboardInterrupt):
            raise
        msg = f"{type(e).__name__}: {e}"
        if os.environ.get("CLIENT_TESTS_VERBOSE"):
            traceback.print_exc(file=sys.stderr)
        emit(client, feature, "GAP" if gap else "FAIL", msg)
        if not gap:
            FAILED.append(feature)
        return False
    emit(client, feature, "PASS")
    return True


def eq(got, want, what=""):
    if got != want:
        if isinstance(got, (list, tuple)) and isinstance(want, (list, tuple)) and len(got) == len(want):
            diffs = [f"[{i}] got {g!r}, want {w!r}" for i, (g, w) in enumerate(zip(got, want)) if g != w]
            raise AssertionError(f"{what}: " + "; ".join(diffs))
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def conninfo():
    """libpq-style keyword string from the PG* environment that run.sh sets."""
    e = os.environ
    return (
        f"host={e['PGHOST']} port={e['PGPORT']} user={e['PGUSER']} dbname={e['PGDATABASE']} "
        f"password={e['PGPASSWORD']} sslmode=verify-full sslrootcert={e['PGSSLROOTCERT']}"
    )


def finish():
    sys.exit(1 if FAILED else 0)

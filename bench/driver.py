#!/usr/bin/env python3
"""duckgate benchmark driver (run through bench/run.sh, which installs and builds first).

Starts what each workload needs (release gateway, a throwaway PostgreSQL 15 reference cluster,
the in-process DuckDB reference binary, for W7 the test catalog + S3 server), runs every
workload on the gateway and its references alternately, RUNS times each, and writes
bench/results.json and docs/benchmarks.md (medians, ratios, targets met or missed).

Usage: bench/run.sh [--quick] [--runs N] [W1 W2 W3 W4 W5 W6 W7 LOAD]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DUCKGATE_CACHE", Path.home() / ".cache" / "duckgate"))
TARGET = Path(os.environ.get("DUCKGATE_BENCH_TARGET", CACHE / "target-release"))
GATEWAY = TARGET / "release" / "duckgate-gateway"
BENCH = TARGET / "release" / "duckgate-bench"
WORK = CACHE / "bench"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 54330
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "benchmarks.md"
ALL = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "LOAD"]
PG_TPCH_TIMEOUT_S = 60  # PostgreSQL's correlated-subquery plans (Q17, Q20) run for hours
NOSSL = {"PGSSLMODE": "disable", "PGGSSENCMODE": "disable"}

# ---------------------------------------------------------------------------------------
# helpers


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


class Recorder:
    """Keeps the exact commands of the first run of each workload for the report."""

    def __init__(self):
        self.commands = {}
        self.current = None
        self.first_run = True

    def add(self, cmd, env=None):
        if self.current is None or not self.first_run:
            return
        line = " ".join(shlex.quote(str(c)) for c in cmd)
        if env:
            line = " ".join(f"{k}={v}" for k, v in env.items()) + " " + line
        line = line.replace(str(CACHE), "$DUCKGATE_CACHE").replace(str(ROOT) + "/", "")
        line = re.sub(r"password=[^ ']+", "password=$TOKEN", line)  # never a secret in the report
        lst = self.commands.setdefault(self.current, [])
        if line not in lst:
            lst.append(line)


REC = Recorder()


def run(cmd, env=None, check=True, timeout=None, record=True, input=None):
    if record:
        REC.add(cmd, env)
    full_env = dict(os.environ, RUST_BACKTRACE="0", RUST_LIB_BACKTRACE="0")
    if env:
        full_env.update(env)
    p = subprocess.run([str(c) for c in cmd], env=full_env, capture_output=True, text=True,
                       timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p


def bench(*args, check=True, timeout=3600):
    """Run duckgate-bench; its last stdout line is a JSON object."""
    p = run([BENCH, *args], check=check, timeout=timeout)
    if p.returncode != 0:
        err = p.stderr.strip()
        return {"error": err.split("\n\n")[0].removeprefix("Error: ") if err else "failed"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def cpu_seconds(pid):
    """CPU time (user + system, all threads) process `pid` has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pgbench_cpu(pid, *args, **kw):
    """pgbench(*args), plus the server's CPU time per transaction in µs (`server_cpu_us`):
    unlike q/s, it does not depend on how much CPU other processes left the server."""
    before = cpu_seconds(pid)
    res = pgbench(*args, **kw)
    spent = cpu_seconds(pid) - before
    if res.get("ok") and res.get("transactions"):
        res["server_cpu_us"] = spent * 1e6 / res["transactions"]
    return res


def median(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def pct(sorted_xs, p):
    k = max(1, int(-(-p / 100 * len(sorted_xs) // 1)))
    return sorted_xs[min(k, len(sorted_xs)) - 1]


# ---------------------------------------------------------------------------------------
# certificates: one CA and one server certificate, used by the gateway and PostgreSQL alike


def certs():
    d = WORK / "certs"
    if (d / "server.key").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    o = "openssl"
    run([o, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", d / "ca.key", "-out", d / "ca.crt", "-days", "3650",
         "-subj", "/CN=duckgate bench CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], record=False)
    run([o, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", d / "server.key", "-out", d / "server.csr", "-subj", "/CN=localhost"],
        record=False)
    ext = d / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    run([o, "x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.crt", "-CAkey", d / "ca.key",
         "-CAcreateserial", "-out", d / "server.crt", "-days", "3650", "-extfile", ext],
        record=False)
    return d


# ---------------------------------------------------------------------------------------
# PostgreSQL 15 reference cluster


class Postgres:
    """A throwaway cluster on 127.0.0.1:54330. As root it runs as the `postgres` user under
    /var/lib/duckgate-bench-pg (root's home is not reachable for that user)."""

    SETTINGS = {
        "max_connections": "5300",
        "shared_buffers": "2GB",
        "work_mem": "64MB",
        "maintenance_work_mem": "1GB",
        "effective_cache_size": "12GB",
        "max_parallel_workers_per_gather": "2",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "ssl": "on",
        "password_encryption": "scram-sha-256",
    }

    def __init__(self):
        self.root = os.geteuid() == 0
        self.home = Path("/var/lib/duckgate-bench-pg") if self.root else WORK / "pg"
        self.data = self.home / "data"
        self.sock = self.home / "run"
        self.user = "postgres" if self.root else None

    def as_pg(self, cmd):
        return (["runuser", "-u", self.user, "--"] if self.root else []) + [str(c) for c in cmd]

    def psql(self, sql, db="postgres", check=True):
        return run([PG_BIN / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                    "-p", PG_PORT, "-U", "duckbench", "-d", db, "-At", "-c", sql],
                   check=check, record=False)

    def start(self):
        if self.root:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                     "--shell", "/usr/sbin/nologin", "postgres"], record=False)
        self.home.mkdir(parents=True, exist_ok=True)
        for p in (self.data, self.sock):
            p.mkdir(exist_ok=True)
            if self.root:
                shutil.chown(p, self.user, self.user)
            p.chmod(0o700)
        c = certs()
        logf = self.home / "postgres.log"
        logf.touch()
        if self.root:
            shutil.chown(logf, self.user, self.user)
        for f in ("server.crt", "server.key"):
            shutil.copy(c / f, self.home / f)
            if self.root:
                shutil.chown(self.home / f, self.user, self.user)
            (self.home / f).chmod(0o600)
        if not (self.data / "PG_VERSION").exists():
            run(self.as_pg([PG_BIN / "initdb", "-D", self.data, "-U", "duckbench", "-E", "UTF8",
                            "--locale=C.UTF-8", "--auth-local=trust", "--no-sync"]), record=False)
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all duckbench 127.0.0.1/32 trust\n"
            "hostnossl all bench_trust 127.0.0.1/32 trust\n"
            "hostssl all bench_trust 127.0.0.1/32 trust\n"
            "hostssl all bench_scram 127.0.0.1/32 scram-sha-256\n"
            "hostssl all bench_password 127.0.0.1/32 password\n")
        if subprocess.run(self.as_pg([PG_BIN / "pg_ctl", "-D", self.data, "status"]),
                          capture_output=True).returncode == 0:
            run(self.as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop"]),
                record=False)
        opts = [f"-p {PG_PORT}", "-c listen_addresses=127.0.0.1", f"-k {self.sock}",
                f"-c ssl_cert_file={self.home / 'server.crt'}",
                f"-c ssl_key_file={self.home / 'server.key'}"]
        opts += [f"-c {k}={v}" for k, v in self.SETTINGS.items()]
        run(self.as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.home / "postgres.log",
                        "-w", "-t", "120", "start", "-o", " ".join(opts)]), record=False)
        self.command = f"postgres -D {self.data} " + " ".join(opts)
        self.psql("SELECT 1")

    def stop(self):
        subprocess.run(self.as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", "fast",
                                   "stop"]), capture_output=True)

    def ensure_roles(self, password):
        for role in ("bench_trust", "bench_scram", "bench_password"):
            self.psql(f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='{role}') "
                      f"THEN CREATE ROLE {role} LOGIN; END IF; END$$;")
            self.psql(f"ALTER ROLE {role} PASSWORD '{password}'")
        for db in ("bench", "tpch"):
            if self.psql(f"SELECT 1 FROM pg_database WHERE datname='{db}'").stdout.strip() != "1":
                self.psql(f"CREATE DATABASE {db} OWNER bench_trust")
        for db in ("bench", "tpch"):
            self.psql("GRANT ALL ON SCHEMA public TO PUBLIC", db=db)

    def version(self):
        return run([PG_BIN / "postgres", "--version"], record=False).stdout.strip()

    def conn(self, user="bench_trust", db="bench", tls=False, password=None):
        s = f"host=127.0.0.1 port={PG_PORT} user={user} dbname={db}"
        if password:
            s += f" password={password}"
        return s + (" sslmode=require" if tls else " sslmode=disable")


# ---------------------------------------------------------------------------------------
# gateway processes


class Gateway:
    def __init__(self, name, data_dir, extra):
        self.name, self.port, self.data_dir, self.extra = name, None, Path(data_dir), extra
        self.proc = None

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        c = certs()
        # port 0: the gateway picks a free port and prints it (fixed ports inside the
        # ephemeral range collide with client sockets after W5's thousands of connections)
        cmd = [GATEWAY, "serve", "--listen", "127.0.0.1:0", "--data-dir",
               self.data_dir, "--log-level", "warn", "--max-connections", "6000",
               "--tls-cert", c / "server.crt", "--tls-key", c / "server.key", *self.extra]
        REC.add(cmd)
        self.command = " ".join(shlex.quote(str(x)) for x in cmd).replace(str(CACHE), "$DUCKGATE_CACHE")
        logf = open(WORK / f"gateway-{self.name}.log", "ab")
        self.proc = subprocess.Popen([str(x) for x in cmd], stdout=subprocess.PIPE,
                                     stderr=logf, text=True)
        end = time.time() + 120
        for line in self.proc.stdout:
            m = re.search(r"listening on [\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
            if time.time() > end:
                break
        else:
            raise RuntimeError(f"gateway {self.name} exited; see {WORK}/gateway-{self.name}.log")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        wait_port(self.port)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def conn(self, db="md:", tls=False, user="bench", password=None):
        s = f"host=127.0.0.1 port={self.port} user={user} dbname={db}"
        if password:
            s += f" password={password}"
        return s + (" sslmode=require" if tls else " sslmode=disable")


class WireFloor:
    """`duckgate-bench wire-floor`: the bare cost of the wire (canned answers, no engine).

    With `duckdb=<file>` it is the minimal server instead: the same wire code running each
    statement on in-process DuckDB (a copy of `file`, as an open file is locked), one OS thread
    per connection."""

    def __init__(self, duckdb=None):
        self.duckdb = duckdb

    def __enter__(self):
        cmd = [BENCH, "wire-floor", "--listen", "127.0.0.1:0"]
        if self.duckdb:
            copy = WORK / f"minimal-{self.duckdb.name}"
            shutil.copy(self.duckdb, copy)
            cmd += ["--duckdb", copy, "--thread-per-connection"]
        REC.add(cmd)
        self.proc = subprocess.Popen([str(x) for x in cmd], stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]
        wait_port(self.port)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------------------------------
# pgbench


def pgbench(port, user, db, script, mode, clients, secs, log_prefix=None, env=None):
    threads = min(clients, os.cpu_count() or 1)
    cmd = [PG_BIN / "pgbench", "-n", "-h", "127.0.0.1", "-p", port, "-U", user,
           "-f", script, "-M", mode, "-c", clients, "-j", threads, "-T", secs]
    if log_prefix:
        cmd += ["-l", f"--log-prefix={log_prefix}"]
    cmd.append(db)
    p = run(cmd, env={**NOSSL, **(env or {})}, check=False, timeout=secs * 4 + 120)
    out = p.stdout + p.stderr
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    aborted = "aborted" in out or p.returncode != 0
    res = {"tps": float(m.group(1)) if m else None,
           "failed": int(failed.group(1)) if failed else None,
           "transactions": int(done.group(1)) if done else None,
           "ok": bool(m) and not aborted}
    if not res["ok"]:
        res["error"] = out.strip().splitlines()[-3:] if out.strip() else ["no output"]
    if log_prefix:
        lat = []
        d = Path(log_prefix).parent
        for f in d.glob(Path(log_prefix).name + ".*"):
            for line in f.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(float(parts[2]))
            f.unlink()
        lat.sort()
        if lat:
            res["p50_us"] = pct(lat, 50)
            res["p99_us"] = pct(lat, 99)
            res["n"] = len(lat)
    return res


# ---------------------------------------------------------------------------------------
# the run


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = args.runs or (1 if args.quick else 3)
        self.sizes = {
            "kv_rows": 100_000 if self.quick else 1_000_000,
            "stream_rows": 1_000_000 if self.quick else 10_000_000,
            "tpch_sf": 0.1 if self.quick else 1,
            "w1_secs": 2 if self.quick else 5,
            "w2_secs": 2 if self.quick else 5,
            "w5_sizes": [200, 1000] if self.quick else [1000, 5000],
            "w6_n": 50 if self.quick else 200,
            "w7_iters": 100 if self.quick else 300,
            "w7_rows": 100_000,
            "load_secs": 20 if self.quick else 150,
            "load_clients": 64,
        }
        self.tag = "quick" if self.quick else "full"
        self.pg = Postgres()
        self.results = {}
        self.gw = None
        self.ext_dir = None

    # --- setup ------------------------------------------------------------------------

    def setup(self, workloads):
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "logs").mkdir(exist_ok=True)
        self.ext_dir = os.environ.get("DUCKGATE_EXTENSION_DIR") or str(CACHE / "extensions")
        self.gw_data = WORK / f"gw-data-{self.tag}"
        self.inproc_dir = WORK / f"inproc-{self.tag}"
        self.inproc_dir.mkdir(exist_ok=True)
        self.gw_data.mkdir(exist_ok=True)
        self.token = None
        REC.current = "setup"
        if any(w in workloads for w in ("W1", "W2", "W3", "W5", "LOAD")):
            self.prep_db()
        if "W4" in workloads:
            self.prep_tpch()
        needs_pg = any(w in workloads for w in ("W1", "W2", "W3", "W4", "W5", "W6"))
        if needs_pg:
            log("starting PostgreSQL 15 reference on", PG_PORT)
            self.pg.start()
            self.token = self.token_for_w6()
            self.pg.ensure_roles(self.token)
            if any(w in workloads for w in ("W1", "W2", "W3", "W5")):
                self.pg_db()
            if "W4" in workloads:
                self.pg_tpch()

    def prep_db(self):
        db = self.gw_data / "default.duckdb"
        stamp = self.gw_data / "default.stamp"
        want = json.dumps([self.sizes["kv_rows"], self.sizes["stream_rows"]])
        if not db.exists() or not stamp.exists() or stamp.read_text() != want:
            log("creating kv and stream10m in", db)
            bench("prep-db", "--path", db, "--kv-rows", self.sizes["kv_rows"],
                  "--stream-rows", self.sizes["stream_rows"])
            stamp.write_text(want)
        # the in-process reference reads its own copy (the gateway holds the file's lock)
        shutil.copy(db, self.inproc_dir / "default.duckdb")

    def prep_tpch(self):
        db = self.gw_data / "tpch.duckdb"
        qdir = WORK / f"tpch-queries-{self.tag}"
        csv = WORK / f"tpch-csv-{self.tag}"
        stamp = self.gw_data / "tpch.stamp"
        want = str(self.sizes["tpch_sf"])
        if not db.exists() or not stamp.exists() or stamp.read_text() != want:
            log(f"generating TPC-H sf={want} with DuckDB's dbgen")
            bench("prep-tpch", "--ext-dir", self.ext_dir, "--path", db, "--sf", want,
                  "--queries-dir", qdir, "--csv-dir", csv)
            stamp.write_text(want)
            (WORK / f"pg-tpch-{self.tag}.stamp").unlink(missing_ok=True)
        shutil.copy(db, self.inproc_dir / "tpch.duckdb")
        self.qdir, self.csv = qdir, csv

    def pg_db(self):
        want = json.dumps([self.sizes["kv_rows"], self.sizes["stream_rows"]])
        have = self.pg.psql("SELECT coalesce((SELECT v FROM bench_meta), '')", db="bench",
                            check=False).stdout.strip()
        if have == want:
            return
        log("loading kv and stream10m into PostgreSQL")
        n, s = self.sizes["kv_rows"], self.sizes["stream_rows"]
        sql = f"""
        DROP TABLE IF EXISTS kv, stream10m, bench_meta;
        CREATE TABLE kv (id bigint PRIMARY KEY, v text);
        INSERT INTO kv SELECT i, 'value-' || i FROM generate_series(1, {n}) i;
        CREATE TABLE stream10m AS SELECT i::bigint AS a, (i * 7)::bigint AS b, 'row-' || i AS c
          FROM generate_series(0, {s} - 1) i;
        ALTER TABLE kv OWNER TO bench_trust; ALTER TABLE stream10m OWNER TO bench_trust;
        VACUUM ANALYZE kv; VACUUM ANALYZE stream10m;
        CREATE TABLE bench_meta (v text); INSERT INTO bench_meta VALUES ('{want}');
        """
        for stmt in [x.strip() for x in sql.split(";") if x.strip()]:
            self.pg.psql(stmt, db="bench")

    def pg_tpch(self):
        stamp = WORK / f"pg-tpch-{self.tag}.stamp"
        if stamp.exists():
            return
        log("loading TPC-H into PostgreSQL (PKs + ANALYZE)")
        self.pg.psql("DROP SCHEMA public CASCADE", db="tpch")
        self.pg.psql("CREATE SCHEMA public AUTHORIZATION bench_trust", db="tpch")
        for stmt in (self.csv / "schema.sql").read_text().split(";"):
            if stmt.strip():
                self.pg.psql(stmt, db="tpch")
        for f in sorted(self.csv.glob("*.csv")):
            t = f.stem
            self.pg.psql(f"\\copy {t} FROM '{f}' WITH (FORMAT csv, DELIMITER '|')", db="tpch")
        for stmt in (self.csv / "keys.sql").read_text().split(";"):
            if stmt.strip():
                self.pg.psql(stmt, db="tpch")
        self.pg.psql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC", db="tpch")
        self.pg.psql("VACUUM ANALYZE", db="tpch")
        stamp.write_text("ok")

    def token_for_w6(self):
        f = WORK / "tokens.yaml"
        tf = WORK / "token.txt"
        if not (f.exists() and tf.exists()):
            f.unlink(missing_ok=True)
            p = run([GATEWAY, "token", "create", "--name", "bench", "--token-file", f],
                    record=False)
            tf.write_text(p.stdout.strip().splitlines()[-1])
        return tf.read_text().strip()

    def main_gateway(self, fresh=False):
        if self.gw and fresh:
            self.gw.stop()
            self.gw = None
        if not self.gw:
            self.gw = Gateway("main", self.gw_data,
                              ["--auth-trust", "true", "--allow-plaintext", "true"]).start()
        return self.gw

    # --- workloads ----------------------------------------------------------------------

    def w1(self):
        secs = self.sizes["w1_secs"]
        script = WORK / "select1.sql"
        script.write_text("SELECT 1;\n")
        out = {"gateway": {}, "postgres": {}, "inproc": [], "floor": {}, "minimal": {}}
        gw = self.main_gateway()
        with WireFloor() as floor, WireFloor(self.inproc_dir / "default.duckdb") as minimal:
            for r in range(self.runs):
                for mode in ("simple", "extended", "prepared"):
                    prefix = WORK / "logs" / f"w1-gw-{mode}"
                    out["gateway"].setdefault(mode, []).append(
                        pgbench(gw.port, "bench", "md:", script, mode, 1, secs, prefix))
                    prefix = WORK / "logs" / f"w1-pg-{mode}"
                    out["postgres"].setdefault(mode, []).append(
                        pgbench(PG_PORT, "bench_trust", "bench", script, mode, 1, secs, prefix))
                    prefix = WORK / "logs" / f"w1-floor-{mode}"
                    out["floor"].setdefault(mode, []).append(
                        pgbench(floor.port, "bench", "floor", script, mode, 1, secs, prefix))
                    out["minimal"].setdefault(mode, []).append(
                        pgbench(minimal.port, "bench", "minimal", script, mode, 1, secs))
                out["inproc"].append(bench("inproc-w1", "--db", self.inproc_dir / "default.duckdb",
                                           "--secs", secs))
                REC.first_run = False
        return out

    def w2(self):
        secs = self.sizes["w2_secs"]
        scripts = {"select1": WORK / "select1.sql", "point": WORK / "point.sql"}
        scripts["select1"].write_text("SELECT 1;\n")
        scripts["point"].write_text(
            f"\\set id random(1, {self.sizes['kv_rows']})\nSELECT v FROM kv WHERE id = :id;\n")
        out = {}
        gw = self.main_gateway()
        # the same gateway with DuckDB's threads = 1 (no background workers to wake per
        # query), on its own copy of the database file (an open file is locked)
        t1_data = WORK / f"gw-data-threads1-{self.tag}"
        t1_data.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.inproc_dir / "default.duckdb", t1_data / "default.duckdb")
        gw1 = Gateway("threads1", t1_data, ["--auth-trust", "true", "--allow-plaintext", "true",
                                            "--threads", "1"]).start()
        with WireFloor() as floor, WireFloor(self.inproc_dir / "default.duckdb") as minimal:
            for r in range(self.runs):
                for q, script in scripts.items():
                    for n in (1, 16, 64, 256):
                        key = f"{q}/{n}"
                        d = out.setdefault(key, {"gateway": [], "postgres": [], "inproc": [],
                                                 "floor": [], "gateway_threads1": [],
                                                 "minimal": []})
                        d["gateway"].append(pgbench_cpu(gw.pid, gw.port, "bench", "md:", script,
                                                        "prepared", n, secs))
                        d["gateway_threads1"].append(pgbench_cpu(gw1.pid, gw1.port, "bench", "md:",
                                                                 script, "prepared", n, secs))
                        d["inproc"].append(bench("inproc-w2", "--db",
                                                 self.inproc_dir / "default.duckdb",
                                                 "--threads", n, "--secs", secs, "--query", q,
                                                 "--kv-rows", self.sizes["kv_rows"]))
                        d["postgres"].append(pgbench(PG_PORT, "bench_trust", "bench", script,
                                                     "prepared", n, secs))
                        d["floor"].append(pgbench_cpu(floor.proc.pid, floor.port, "bench",
                                                      "floor", script, "prepared", n, secs))
                        d["minimal"].append(pgbench_cpu(minimal.proc.pid, minimal.port, "bench",
                                                        "minimal", script, "prepared", n, secs))
                REC.first_run = False
        gw1.stop()
        return out

    def w3(self):
        out = {}
        for r in range(self.runs):
            gw = self.main_gateway(fresh=True)  # peak RSS of a gateway that has done only this
            for mode in ("text", "binary", "copy", "text-raw", "binary-raw"):
                out.setdefault(f"gateway/{mode}", []).append(
                    bench("stream", "--conn", gw.conn(), "--mode", mode, "--pid", gw.pid,
                          check=False))
            out.setdefault("inproc", []).append(
                bench("inproc-w3", "--db", self.inproc_dir / "default.duckdb"))
            for mode in ("text", "binary", "copy", "text-raw", "binary-raw"):
                out.setdefault(f"postgres/{mode}", []).append(
                    bench("stream", "--conn", self.pg.conn(), "--mode", mode, "--pg",
                          check=False))
            REC.first_run = False
        return out

    def psql_tpch(self, port, user, db, pg):
        script = WORK / ("tpch-pg.sql" if pg else "tpch-gw.sql")
        lines = ["\\timing on"]
        if pg:
            lines.append(f"SET statement_timeout = '{PG_TPCH_TIMEOUT_S}s';")
        for nr in range(1, 23):
            q = (self.qdir / f"q{nr:02}.sql").read_text()
            if pg:
                q = pg_dialect(q)
            lines.append(f"\\echo QSTART {nr}")
            lines.append(q.strip().rstrip(";") + ";")
        script.write_text("\n".join(lines) + "\n")
        p = run([PG_BIN / "psql", "-X", "-h", "127.0.0.1", "-p", port, "-U", user, "-d", db,
                 "-o", "/dev/null", "-f", script], env=NOSSL, check=False, timeout=22 * 400)
        times, cur = {}, None
        for line in p.stdout.splitlines():
            m = re.match(r"QSTART (\d+)", line)
            if m:
                cur = int(m.group(1))
                continue
            m = re.match(r"Time: ([\d.]+) ms", line)
            if m and cur:
                times[f"q{cur:02}"] = float(m.group(1))
                cur = None
        errors = [l for l in p.stderr.splitlines() if "ERROR" in l]
        res = {"times_ms": times, "errors": errors[:22]}
        if pg:
            res["timeout_ms"] = PG_TPCH_TIMEOUT_S * 1000
        return res

    def w4(self):
        out = {"gateway": [], "inproc": [], "postgres": []}
        gw = self.main_gateway()
        for r in range(self.runs):
            out["gateway"].append(self.psql_tpch(gw.port, "bench", "tpch", False))
            out["inproc"].append({"times_ms": bench(
                "inproc-w4", "--db", self.inproc_dir / "tpch.duckdb", "--queries-dir", self.qdir)})
            out["postgres"].append(self.psql_tpch(PG_PORT, "bench_trust", "tpch", True))
            REC.first_run = False
        return out

    def w5(self):
        out = {}
        for r in range(self.runs):
            for n in self.sizes["w5_sizes"]:
                gw = self.main_gateway(fresh=True)
                out.setdefault(f"gateway/{n}", []).append(
                    bench("idle", "--conn", gw.conn(), "--n", n, "--pid", gw.pid, check=False))
                out.setdefault(f"postgres/{n}", []).append(
                    bench("idle", "--conn", self.pg.conn(), "--n", n, "--pg", check=False))
            REC.first_run = False
        return out

    def w6(self):
        ca = certs() / "ca.crt"
        tok = self.token
        gw = self.main_gateway()
        gws = Gateway("scram", WORK / "gw-auth-scram",
                      ["--token-file", WORK / "tokens.yaml", "--auth-method", "scram"])
        gwp = Gateway("password", WORK / "gw-auth-password",
                      ["--token-file", WORK / "tokens.yaml", "--auth-method", "password"])
        try:
            gws.start()
            gwp.start()
            return self.w6_cases(gw, gws, gwp, ca, tok)
        finally:
            gws.stop()
            gwp.stop()

    def w6_cases(self, gw, gws, gwp, ca, tok):
        cases = {
            "plain": (gw.conn(), self.pg.conn(), None),
            "tls": (gw.conn(tls=True), self.pg.conn(tls=True), ca),
            "tls_scram": (gws.conn(tls=True, password=tok),
                          self.pg.conn("bench_scram", tls=True, password=tok), ca),
            "tls_password": (gwp.conn(tls=True, password=tok),
                             self.pg.conn("bench_password", tls=True, password=tok), ca),
        }
        out = {}
        for r in range(self.runs):
            for case, (g, p, c) in cases.items():
                extra = ["--ca", c] if c else []
                out.setdefault(f"gateway/{case}", []).append(
                    bench("connect", "--conn", g, "--n", self.sizes["w6_n"], *extra, check=False))
                out.setdefault(f"postgres/{case}", []).append(
                    bench("connect", "--conn", p, "--n", self.sizes["w6_n"], *extra, check=False))
            REC.first_run = False
        return out

    def w7(self):
        pgline = run([ROOT / "scripts" / "start-postgres.sh"], record=True).stdout.strip().splitlines()[-1]
        endpoint = run([ROOT / "scripts" / "start-s3.sh"], record=True).stdout.strip().splitlines()[-1]
        cat_port = int(re.search(r"port=(\d+)", pgline).group(1))
        pw_file = CACHE / "pg" / "ducklake_rw.password"
        tag = f"bench_{int(time.time())}"
        data_path = f"s3://duckgate-test/{tag}/"
        d = WORK / "gw-lake"
        d.mkdir(parents=True, exist_ok=True)
        (d / "s3-key").write_text("bench")
        (d / "s3-secret").write_text("bench-secret")
        ep = endpoint.replace("http://", "")
        cfg = d / "config.yaml"
        cfg.write_text(f"""extensionDirectory: {self.ext_dir}
databases:
- name: lake
  default: true
  ducklake:
    catalog:
      host: 127.0.0.1
      port: {cat_port}
      database: ducklake_catalog
      user: ducklake_rw
      password: {{file: {pw_file}}}
      schema: {tag}
    dataPath: {data_path}
    s3:
      endpoint: {ep}
      region: us-east-1
      urlStyle: path
      useSsl: false
      keyId: {{file: {d / 's3-key'}}}
      secret: {{file: {d / 's3-secret'}}}
""")
        gw = Gateway("lake", d / "data",
                     ["--config", cfg, "--auth-trust", "true", "--allow-plaintext", "true"]).start()
        try:
            rows = self.sizes["w7_rows"]
            bench("sql", "--conn", gw.conn(),
                  f"CREATE TABLE bench_items AS SELECT i AS id, 'item-' || i AS v "
                  f"FROM range(1, {rows} + 1) t(i)")
            pw = pw_file.read_text().strip()
            setup = d / "inproc-setup.sql"
            setup.write_text(f"""SET autoinstall_known_extensions = false;
SET autoload_known_extensions = false;
SET extension_directory = '{self.ext_dir}';
LOAD httpfs; LOAD postgres; LOAD ducklake;
CREATE SECRET s3 (TYPE s3, KEY_ID 'bench', SECRET 'bench-secret', REGION 'us-east-1',
  URL_STYLE 'path', USE_SSL false, ENDPOINT '{ep}', SCOPE ['{data_path}']);
CREATE SECRET catalog (TYPE postgres, HOST '127.0.0.1', PORT {cat_port},
  DATABASE 'ducklake_catalog', USER 'ducklake_rw', PASSWORD '{pw}');
ATTACH 'ducklake:postgres:' AS lake (DATA_PATH '{data_path}', META_SECRET 'catalog',
  METADATA_SCHEMA '{tag}');
SET GLOBAL allowed_directories = ['{data_path}'];
SET GLOBAL enable_external_access = false;
""")
            setup.chmod(0o600)
            out = {"gateway": [], "inproc": []}
            n = ["--iters", self.sizes["w7_iters"], "--rows", rows]
            for r in range(self.runs):
                out["gateway"].append(bench("lake", "--conn", gw.conn(), *n, check=False))
                out["inproc"].append(bench("inproc-w7", "--setup", setup, *n, check=False))
                REC.first_run = False
            out["catalog"] = f"PostgreSQL 15 on 127.0.0.1:{cat_port} (scripts/start-postgres.sh)"
            out["storage"] = f"moto S3 at {endpoint} (scripts/start-s3.sh)"
            return out
        finally:
            gw.stop()

    def load(self):
        gw = self.main_gateway(fresh=True)
        res = bench("load", "--conn", gw.conn(), "--clients", self.sizes["load_clients"],
                    "--secs", self.sizes["load_secs"], "--pid", gw.pid,
                    "--kv-rows", self.sizes["kv_rows"], "--stream-rows", self.sizes["stream_rows"],
                    check=False)
        return {"gateway": res}

    # --- orchestration ------------------------------------------------------------------

    def env_info(self):
        git = lambda *a: subprocess.run(["git", "-C", ROOT, *a], capture_output=True,
                                        text=True).stdout.strip()
        cpu = "unknown"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        ver = bench("version")
        return {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "gateway", "config", "bench")),
            "duckdb": ver.get("duckdb"),
            "postgres": self.pg.version(),
            "pgbench": run([PG_BIN / "pgbench", "--version"], record=False).stdout.strip(),
            "cpus": os.cpu_count(),
            "cpu_model": cpu,
            "mem_gib": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(),
            "mode": self.tag,
            "runs": self.runs,
            "sizes": self.sizes,
        }

    def go(self, workloads):
        self.setup(workloads)
        env = self.env_info()
        fns = {"W1": self.w1, "W2": self.w2, "W3": self.w3, "W4": self.w4, "W5": self.w5,
               "W6": self.w6, "W7": self.w7, "LOAD": self.load}
        try:
            for w in workloads:
                log("running", w)
                REC.current, REC.first_run = w, True
                la0 = loadavg()
                t = time.time()
                try:
                    data = fns[w]()
                except Exception as e:  # a failed workload is reported, the others still run
                    log(f"{w} failed: {e}")
                    data = {"error": str(e)}
                self.results[w] = {
                    "data": data,
                    "env": env,
                    "loadavg_before": la0,
                    "loadavg_after": loadavg(),
                    "seconds": round(time.time() - t, 1),
                    "commands": REC.commands.get(w, []),
                    "setup_commands": REC.commands.get("setup", []),
                    "gateway_command": self.gw.command if self.gw else None,
                    "postgres_command": getattr(self.pg, "command", None),
                }
                self.save()
        finally:
            if self.gw:
                self.gw.stop()
            if not self.args.keep_postgres:
                self.pg.stop()

    def save(self):
        old = {}
        if RESULTS.exists():
            old = json.loads(RESULTS.read_text()).get("workloads", {})
        old.update(self.results)
        doc = {"generated_by": "bench/run.sh", "workloads": old}
        RESULTS.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        import report
        REPORT.write_text(report.render(doc))


def pg_dialect(q):
    """DuckDB's TPC-H texts in PostgreSQL syntax (only where the dialects differ)."""
    q = re.sub(r"INTERVAL\s+(\d+)\s+(day|month|year)s?\b", r"INTERVAL '\1 \2'", q, flags=re.I)
    q = re.sub(r"INTERVAL\s+'(\d+)'\s+(day|month|year)s?\b", r"INTERVAL '\1 \2'", q, flags=re.I)
    return q


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("workloads", nargs="*", help="subset of " + " ".join(ALL))
    ap.add_argument("--quick", action="store_true", help="small sizes, one run (development)")
    ap.add_argument("--runs", type=int, help="runs per system (default 3, --quick 1)")
    ap.add_argument("--keep-postgres", action="store_true", help="leave the reference running")
    ap.add_argument("--report-only", action="store_true", help="re-render docs/benchmarks.md")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    if args.report_only:
        import report
        REPORT.write_text(report.render(json.loads(RESULTS.read_text())))
        return
    wl = [w.upper() for w in args.workloads] or ALL
    for w in wl:
        if w not in ALL:
            sys.exit(f"unknown workload {w}; choose from {' '.join(ALL)}")
    Bench(args).go(wl)
    log("wrote", RESULTS, "and", REPORT)


if __name__ == "__main__":
    main()

"""Renders bench/results.json as docs/benchmarks.md (called by driver.py)."""

import statistics
from pathlib import Path

NOTES = Path(__file__).resolve().parent / "notes.md"


def med(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def get(d, *path):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        else:
            return None
    return d


def mpath(runs, *path):
    """Median over runs of one value inside each run's result."""
    return med([get(r, *path) for r in (runs or []) if isinstance(r, dict)])


def f(x, unit="", nd=None):
    if x is None:
        return "n/a"
    if nd is None:
        nd = 0 if abs(x) >= 100 else (1 if abs(x) >= 10 else 2)
    return f"{x:,.{nd}f}{unit}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rx(x):
    return "n/a" if x is None else f"{x:.2f}×"


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def first_error(runs):
    for r in runs or []:
        if isinstance(r, dict) and r.get("error"):
            e = r["error"]
            return e if isinstance(e, str) else " / ".join(map(str, e))
    return None


class Report:
    def __init__(self, doc):
        self.w = doc["workloads"]
        self.lines = []
        self.targets = []  # (workload, target, measured, ratio, ok)

    def out(self, s=""):
        self.lines.append(s)

    def table(self, head, rows):
        self.out("| " + " | ".join(head) + " |")
        self.out("|" + "---|" * len(head))
        for r in rows:
            self.out("| " + " | ".join(str(c) for c in r) + " |")
        self.out()

    def target(self, w, what, measured, r, ok):
        self.targets.append((w, what, measured, r, verdict(ok)))

    # --- workloads ------------------------------------------------------------------------

    def w1(self, d):
        self.out("Latency of `SELECT 1` from one client. Gateway and PostgreSQL: pgbench "
                 "(`-c 1 -j 1 -T` seconds, per-transaction log, percentiles over every "
                 "transaction of the run; the value is the median of the runs). In-process: "
                 "the same statement through the `duckdb` crate, a prepared statement (`prepared`) "
                 "or the query text each time (`text`, parse + plan + execute). The gateway keeps "
                 "a per-session plan cache for repeated simple-protocol and unnamed statements, "
                 "so its overhead is measured against in-process `prepared` in every mode. "
                 "Wire floor: the same pgbench against `duckgate-bench wire-floor`, a server that "
                 "answers every statement with a canned row and runs nothing (the loopback round "
                 "trip, a tokio wake-up and pgbench's own CPU on the same cores); the issue's "
                 "physical limit is in-process DuckDB plus this floor, so the gateway's own "
                 "overhead is gateway − in-process − floor, from mean latencies. Minimal server: "
                 "`duckgate-bench wire-floor --duckdb` (the same wire code running each "
                 "statement on in-process DuckDB through the `duckdb` crate, one OS thread per "
                 "connection, nothing else): in-process DuckDB plus the bare wire measured as "
                 "one server rather than added up.")
        self.out()
        inp = d.get("inproc", [])
        ip50 = {"text": mpath(inp, "text", "p50_us"), "prepared": mpath(inp, "prepared", "p50_us")}
        ip99 = {"text": mpath(inp, "text", "p99_us"), "prepared": mpath(inp, "prepared", "p99_us")}
        rows = []
        for mode in ("simple", "extended", "prepared"):
            g, p = d["gateway"].get(mode, []), d["postgres"].get(mode, [])
            g50, g99 = mpath(g, "p50_us"), mpath(g, "p99_us")
            p50, p99 = mpath(p, "p50_us"), mpath(p, "p99_us")
            # the gateway's plan cache reuses a prepared statement for repeated query text, so
            # every mode is measured against in-process prepared execution
            ref = "prepared"
            over = None if g50 is None or ip50[ref] is None else g50 - ip50[ref]
            # The overhead over the physical limit uses mean latencies (1 / q/s for one
            # client): pgbench logs whole microseconds from a lazily read clock, so a reply
            # already waiting when it looks logs 0 µs, and the floor's p50 is often 0.
            fl = d.get("floor", {}).get(mode, [])
            ftps, gtps = mpath(fl, "tps"), mpath(g, "tps")
            fmean = 1e6 / ftps if ftps else None
            gmean = 1e6 / gtps if gtps else None
            imean = mpath(inp, ref, "mean_us")
            own = None if None in (fmean, gmean, imean) else gmean - imean - fmean
            mtps = mpath(d.get("minimal", {}).get(mode, []), "tps")
            mmean = 1e6 / mtps if mtps else None
            rows.append([mode, f(g50), f(g99), f(p50), f(p99), rx(ratio(g50, p50)),
                         rx(ratio(g99, p99)), f"{f(ip50[ref])} ({ref})", f(over),
                         f(gmean), f(imean), f(fmean), f(own), f(mmean),
                         f(None if None in (gmean, mmean) else gmean - mmean),
                         f(gtps), f(mpath(p, "tps"))])
            r50, r99 = ratio(g50, p50), ratio(g99, p99)
            ok = None if r50 is None or r99 is None else (r50 <= 1.5 and r99 <= 1.5)
            self.target("W1", f"{mode}: p50 and p99 ≤ 1.5× PostgreSQL",
                        f"p50 {f(g50)} µs vs {f(p50)}; p99 {f(g99)} vs {f(p99)}",
                        f"{rx(r50)} / {rx(r99)}", ok)
            if fmean is None:  # results from before the wire floor was measured
                self.target("W1", f"{mode}: overhead over in-process DuckDB ({ref}) ≤ 15 µs",
                            f"{f(g50)} − {f(ip50[ref])} = {f(over)} µs (p50)", "",
                            None if over is None else over <= 15)
            else:
                self.target("W1", f"{mode}: overhead over in-process DuckDB ({ref}) plus the "
                            "bare wire ≤ 15 µs",
                            f"{f(gmean)} − {f(imean)} − {f(fmean)} (floor) = {f(own)} µs "
                            "(means)", "", None if own is None else own <= 15)
            err = first_error(g) or first_error(p)
            if err:
                self.out(f"- {mode}: error: `{err}`")
        self.table(["protocol", "gateway p50 µs", "gateway p99 µs", "PostgreSQL p50 µs",
                    "PostgreSQL p99 µs", "p50 ratio", "p99 ratio", "in-process p50 µs",
                    "gateway − in-process µs", "gateway mean µs", "in-process mean µs",
                    "wire floor mean µs", "gateway − in-process − floor µs (means)",
                    "minimal server mean µs", "gateway − minimal server µs (means)",
                    "gateway q/s", "PostgreSQL q/s"], rows)
        self.out(f"In-process p99: text {f(ip99['text'])} µs, prepared {f(ip99['prepared'])} µs.")
        self.out()

    def w2(self, d):
        self.out("Queries per second. Gateway and PostgreSQL: pgbench `-M prepared -c N -j "
                 "min(N, CPUs)`; pgbench runs on the same CPUs. In-process: N threads, each with "
                 "its own connection to one database instance, no client or network cost. "
                 "`point` is `SELECT v FROM kv WHERE id = :id` (random id, primary key). "
                 "Wire floor: the same pgbench against `duckgate-bench wire-floor` (canned "
                 "answers, no engine). Physical limit: in-process DuckDB and the bare wire "
                 "sharing the machine's cores, each query paying both (1 / (1/in-process + "
                 "1/floor)); it is what the issue's \"in-process DuckDB plus the bare cost of "
                 "the wire\" allows on this machine. `threads=1`: a second gateway started with "
                 "`--threads 1` (DuckDB runs each query on the calling thread only, with no "
                 "background worker to wake), on a copy of the same file; not a target, the "
                 "trade-off an operator can choose (one core per query for large scans). "
                 "Minimal server: the same pgbench against `duckgate-bench wire-floor --duckdb` "
                 "(the wire floor's code running each statement on in-process DuckDB through the "
                 "`duckdb` crate with DuckDB's default threads, one OS thread per connection, "
                 "nothing else): the physical limit measured as one real server instead of "
                 "added up; `gateway / minimal` is not one of the issue's targets.")
        self.out()
        rows, cpu_rows = [], []
        for q in ("select1", "point"):
            peak = None
            gw_by_n = {}
            for n in (1, 16, 64, 256):
                e = d.get(f"{q}/{n}")
                if not e:
                    continue
                g = mpath(e["gateway"], "tps")
                i = mpath(e["inproc"], "qps")
                p = mpath(e["postgres"], "tps")
                fl = mpath(e.get("floor", []), "tps")
                t1 = mpath(e.get("gateway_threads1", []), "tps")
                mn = mpath(e.get("minimal", []), "tps")
                limit = 1 / (1 / i + 1 / fl) if i and fl else None
                gw_by_n[n] = g
                rows.append([q, n, f(g), f(t1), f(i), f(p), f(fl), f(limit), f(mn),
                             rx(ratio(g, i)), rx(ratio(g, limit)), rx(ratio(g, mn)),
                             rx(ratio(g, p))])
                cpu_rows.append([q, n, f(mpath(e["gateway"], "server_cpu_us")),
                                 f(mpath(e.get("gateway_threads1", []), "server_cpu_us")),
                                 f(mpath(e["inproc"], "cpu_us")),
                                 f(mpath(e.get("floor", []), "server_cpu_us")),
                                 f(mpath(e.get("minimal", []), "server_cpu_us"))])
                r = ratio(g, i)
                self.target("W2", f"{q}, {n} connections: ≥ 90% of in-process",
                            f"{f(g)} vs {f(i)} q/s", rx(r), None if r is None else r >= 0.9)
                if limit:
                    r = ratio(g, limit)
                    self.target("W2", f"{q}, {n} connections: ≥ 90% of in-process plus the "
                                "bare wire (physical limit)",
                                f"{f(g)} vs {f(limit)} q/s", rx(r), r >= 0.9)
                err = first_error(e["gateway"]) or first_error(e["postgres"])
                if err:
                    self.out(f"- {q}/{n}: error: `{err}`")
            vals = [v for v in gw_by_n.values() if v]
            if vals and gw_by_n.get(256):
                r = gw_by_n[256] / max(vals)
                self.target("W2", f"{q}: no collapse at 256 (≥ 90% of peak)",
                            f"{f(gw_by_n[256])} at 256 vs peak {f(max(vals))} q/s", rx(r), r >= 0.9)
        self.table(["query", "connections", "gateway q/s", "gateway threads=1 q/s",
                    "in-process q/s", "PostgreSQL q/s",
                    "wire floor q/s", "physical limit q/s", "minimal server q/s",
                    "gateway / in-process", "gateway / limit", "gateway / minimal",
                    "gateway / PostgreSQL"], rows)
        if any(r[2] != f(None) for r in cpu_rows):
            self.out("CPU time per query, in µs: what the serving process used (every thread, "
                     "from /proc) divided by the transactions pgbench completed; in-process: the "
                     "whole process (DuckDB's workers included) per query. Unlike q/s it does "
                     "not depend on how much of the machine pgbench and other processes left to "
                     "the server. pgbench's own CPU is not included.")
            self.out()
            self.table(["query", "connections", "gateway", "gateway threads=1", "in-process",
                        "wire floor", "minimal server"], cpu_rows)

    def w3(self, d):
        self.out("Stream every row of `SELECT a, b, c FROM stream10m` (int8, int8, text) to a "
                 "tokio-postgres client that decodes every value: `text` is the simple query "
                 "protocol, `binary` the extended protocol with binary results, `copy` is "
                 "`COPY (...) TO STDOUT`. Peak RSS is the serving process (gateway; PostgreSQL's "
                 "backend for the connection) sampled every 5 ms and its VmHWM after a reset; the "
                 "gateway is restarted before each run. CPU: what the serving process (every "
                 "gateway thread; PostgreSQL's backend) and the client each used during the "
                 "stream, from /proc (the client runs on the same cores, so when it is the busier "
                 "side it bounds rows/s for both servers). `text-raw` and `binary-raw`: the same "
                 "two streams read by the lean reader of `duckgate-bench stream` (bench/src/raw.rs: "
                 "the same decoding, both integers parsed or read as int8 and the text's bytes "
                 "counted, straight from the receive buffer as a libpq-based client would, "
                 "without tokio-postgres's per-row allocations), so that rows/s follow the "
                 "server. In-process: DuckDB's streaming result as Arrow batches, every value "
                 "touched.")
        self.out()
        rows = []
        inp = d.get("inproc", [])
        irate = mpath(inp, "rows_per_s")
        rows.append(["in-process", "-", f(mpath(inp, "rows", ), nd=0), f(irate), "",
                     f(mpath(inp, "first_row_ms"), " ms"), f(kib_mb(mpath(inp, "peak_rss_kib")), " MB"),
                     "", "", ""])
        want = {"text": 1.5, "binary": 2.0, "text-raw": 1.5, "binary-raw": 2.0}
        for mode in ("text", "binary", "copy", "text-raw", "binary-raw"):
            if mode.endswith("-raw") and not d.get(f"gateway/{mode}"):
                continue  # results from before the lean reader
            g, p = d.get(f"gateway/{mode}", []), d.get(f"postgres/{mode}", [])
            gr, pr = mpath(g, "rows_per_s"), mpath(p, "rows_per_s")
            gfirst, pfirst = mpath(g, "first_row_ms"), mpath(p, "first_row_ms")
            grss, prss = mpath(g, "peak_rss_kib"), mpath(p, "peak_rss_kib")
            gerr = first_error(g)
            gcpu, pcpu = mpath(g, "server_cpu_s"), mpath(p, "server_cpu_s")
            if gerr:
                rows.append([f"gateway {mode}", "not supported" if "0A000" in gerr or "not implemented" in gerr.lower() else "error", "", "", "", "", "", "", "", gerr[:120]])
            else:
                rows.append([f"gateway {mode}", f(mpath(g, "seconds"), " s"), f(mpath(g, "rows"), nd=0),
                             f(gr), rx(ratio(gr, pr)), f(gfirst, " ms"), f(kib_mb(grss), " MB"),
                             f(gcpu, " s") + (f" ({rx(ratio(gcpu, pcpu))} of PostgreSQL's)" if gcpu and pcpu else ""),
                             f(mpath(g, "client_cpu_s"), " s"),
                             f"before: {f(kib_mb(mpath(g, 'rss_before_kib')), ' MB')}"])
            rows.append([f"PostgreSQL {mode}", f(mpath(p, "seconds"), " s"), f(mpath(p, "rows"), nd=0),
                         f(pr), "", f(pfirst, " ms"), f(kib_mb(prss), " MB"), f(pcpu, " s"),
                         f(mpath(p, "client_cpu_s"), " s"), first_error(p) or ""])
            if mode in want:
                r = ratio(gr, pr)
                reader = "lean reader" if mode.endswith("-raw") else "tokio-postgres"
                self.target("W3", f"{mode.removesuffix('-raw')} ({reader}): ≥ {want[mode]}× "
                            "PostgreSQL rows/s", f"{f(gr)} vs {f(pr)} rows/s", rx(r),
                            None if r is None else r >= want[mode])
            if mode.endswith("-raw"):
                continue
            if not gerr:
                self.target("W3", f"{mode}: first row < 50 ms", f(gfirst, " ms"), "",
                            None if gfirst is None else gfirst < 50)
                mb = kib_mb(grss)
                self.target("W3", f"{mode}: gateway peak RSS < 256 MB", f(mb, " MB"), "",
                            None if mb is None else mb < 256)
            else:
                self.target("W3", f"{mode}", "not measured: " + gerr[:80], "", None)
        self.table(["system / format", "time", "rows", "rows/s", "vs PostgreSQL",
                    "first row", "peak RSS", "server CPU", "client CPU", "note"], rows)

    def w4(self, d):
        self.out("TPC-H (DuckDB's `dbgen`, the 22 query texts from DuckDB's `tpch_queries()`). "
                 "Gateway and PostgreSQL: one psql session per run, `\\timing` per query, "
                 "results discarded (`-o /dev/null`). PostgreSQL: the same rows loaded from CSV, "
                 "primary keys, `VACUUM ANALYZE`, `statement_timeout` 60 s; interval literals "
                 "rewritten to PostgreSQL syntax. In-process: prepare, execute, fetch every row.")
        self.out()
        tot = {"gateway": 0.0, "inproc": 0.0, "postgres": 0.0}
        missing = {"gateway": [], "inproc": [], "postgres": []}
        pg_timeout = get((d.get("postgres") or [{}])[0], "timeout_ms")
        rows = []
        for nr in range(1, 23):
            q = f"q{nr:02}"
            vals, shown = {}, {}
            for s in tot:
                runs = d.get(s, [])
                v = mpath(runs, "times_ms", q)
                n_ok = sum(1 for r in runs if get(r, "times_ms", q) is not None)
                if s == "postgres" and pg_timeout and n_ok * 2 <= len(runs):
                    # timed out (or failed) in most runs: the timeout is a lower bound
                    missing[s].append(q)
                    vals[s] = pg_timeout
                    shown[s] = f"≥ {f(pg_timeout)}"
                elif v is None:
                    missing[s].append(q)
                    vals[s] = None
                    shown[s] = "failed"
                else:
                    vals[s] = v
                    shown[s] = f(v)
                if vals[s] is not None:
                    tot[s] += vals[s]
            rows.append([q, shown["gateway"], shown["inproc"], shown["postgres"],
                         rx(ratio(vals["gateway"], vals["inproc"])),
                         ("≥ " if q in missing["postgres"] else "") + rx(ratio(vals["postgres"], vals["gateway"]))])
        pg_lb = "≥ " if missing["postgres"] else ""
        rows.append(["**total**", f(tot["gateway"]), f(tot["inproc"]), pg_lb + f(tot["postgres"]),
                     rx(ratio(tot["gateway"], tot["inproc"])),
                     pg_lb + rx(ratio(tot["postgres"], tot["gateway"]))])
        self.table(["query", "gateway ms", "in-process ms", "PostgreSQL ms",
                    "gateway / in-process", "PostgreSQL / gateway"], rows)
        for s, m in missing.items():
            if m and s == "postgres" and pg_timeout:
                self.out(f"- PostgreSQL: {', '.join(m)} hit the {pg_timeout / 1000:.0f} s "
                         "statement_timeout; counted at the timeout (a lower bound).")
            elif m:
                self.out(f"- {s}: no time for {', '.join(m)} (failed; left out of the total)")
        for s in ("gateway", "postgres"):
            for r in d.get(s, [])[:1]:
                for e in (r.get("errors") or [])[:5]:
                    self.out(f"- {s} error: `{e}`")
        self.out()
        r = ratio(tot["gateway"], tot["inproc"])
        self.target("W4", "total ≤ 1.10× in-process DuckDB",
                    f"{f(tot['gateway'])} vs {f(tot['inproc'])} ms", rx(r),
                    None if r is None or missing["gateway"] else r <= 1.10)
        r = ratio(tot["postgres"], tot["gateway"])
        note = " (PostgreSQL: timeouts counted at the timeout, a lower bound)" if missing["postgres"] else ""
        self.target("W4", "≥ 10× faster than PostgreSQL (total)",
                    f"{f(tot['postgres'])} vs {f(tot['gateway'])} ms{note}", rx(r),
                    None if r is None else r >= 10)

    def w5(self, d):
        self.out("Open N connections (256 handshakes in flight), leave them idle 2 s, then "
                 "measure. Gateway: growth of its RSS over a warmed-up baseline / N (a fresh "
                 "gateway each run). PostgreSQL: private (unshared) memory of the N backend "
                 "processes / N, from `smaps_rollup`. Plaintext, trust, default database.")
        self.out()
        rows = []
        sizes = sorted({int(k.split("/")[1]) for k in d if "/" in k})
        for n in sizes:
            g, p = d.get(f"gateway/{n}", []), d.get(f"postgres/{n}", [])
            gb, pb = mpath(g, "bytes_per_conn"), mpath(p, "bytes_per_conn")
            gs, ps = mpath(g, "open_seconds"), mpath(p, "open_seconds")
            rows.append([n, f(kib(gb), " KiB"), f(gs, " s", 2), f(mpath(g, "opened"), nd=0),
                         f(mpath(g, "alive_after"), nd=0), f(kib(pb), " KiB"), f(ps, " s", 2),
                         f(mpath(p, "opened"), nd=0), first_error(g) or first_error(p) or ""])
            kb = kib(gb)
            self.target("W5", f"{n} idle: ≤ 64 KiB per connection",
                        f"{f(kb, ' KiB')} (PostgreSQL {f(kib(pb), ' KiB')})", "",
                        None if kb is None else kb <= 64)
            if n >= 5000:
                self.target("W5", f"{n} opened in < 2 s", f(gs, " s", 2),
                            f"PostgreSQL {f(ps, ' s', 2)}", None if gs is None else gs < 2)
        self.table(["connections", "gateway per conn", "gateway open time", "opened",
                    "answering after", "PostgreSQL per conn", "PostgreSQL open time",
                    "opened", "note"], rows)

    def w6(self, d):
        self.out("Sequential connection setups (TCP connect, TLS, authentication, up to "
                 "ReadyForQuery; 5 warm-up connections dropped) with tokio-postgres + rustls "
                 "(ring). Both servers present the same ECDSA P-256 certificate. PostgreSQL uses "
                 "`trust`, `scram-sha-256` and `password` in pg_hba.conf; the gateway "
                 "`--auth-trust`, `--auth-method scram` and `--auth-method password` with a token "
                 "(SCRAM iterations 4096 on both).")
        self.out()
        rows = []
        for case in ("plain", "tls", "tls_scram", "tls_password"):
            g, p = d.get(f"gateway/{case}", []), d.get(f"postgres/{case}", [])
            g50, p50 = mpath(g, "setup", "p50_us"), mpath(p, "setup", "p50_us")
            g99, p99 = mpath(g, "setup", "p99_us"), mpath(p, "setup", "p99_us")
            r = ratio(g50, p50)
            rows.append([case, f(ms_(g50), " ms", 2), f(ms_(g99), " ms", 2), f(ms_(p50), " ms", 2),
                         f(ms_(p99), " ms", 2), rx(r), first_error(g) or first_error(p) or ""])
            self.target("W6", f"{case}: ≤ 0.5× PostgreSQL's setup time",
                        f"{f(ms_(g50), ' ms', 2)} vs {f(ms_(p50), ' ms', 2)} (p50)", rx(r),
                        None if r is None else r <= 0.5)
        self.table(["setup", "gateway p50", "gateway p99", "PostgreSQL p50", "PostgreSQL p99",
                    "ratio (p50)", "note"], rows)

    def w7(self, d):
        self.out(f"DuckLake database `lake` (catalog: {d.get('catalog')}; data: "
                 f"{d.get('storage')}), table `bench_items` (100,000 rows written through the "
                 "gateway as one Parquet file). Steady state: one connection, prepared "
                 "`SELECT v FROM bench_items WHERE id = $1` and `SELECT count(*) FROM bench_items`, "
                 "each an autocommit transaction. First query: connect + the point query on a new "
                 "connection (gateway) / a new connection from the same instance + `USE lake` + "
                 "the query (in-process). In-process: the gateway's ATTACH, secrets and lock-down "
                 "statements in a fresh in-memory DuckDB.")
        self.out()
        g, i = d.get("gateway", []), d.get("inproc", [])
        rows = []
        for q in ("point", "count"):
            g50, i50 = mpath(g, q, "p50_us"), mpath(i, q, "p50_us")
            add = None if g50 is None or i50 is None else g50 - i50
            rows.append([f"steady {q}", f(ms_(g50), " ms", 3), f(ms_(mpath(g, q, "p99_us")), " ms", 3),
                         f(ms_(i50), " ms", 3), f(ms_(mpath(i, q, "p99_us")), " ms", 3),
                         f(ms_(add), " ms", 3)])
            self.target("W7", f"steady state {q}: ≤ 1 ms added", f"{f(ms_(add), ' ms', 3)} (p50)", "",
                        None if add is None else add <= 1000)
        g50, i50 = mpath(g, "first_query", "p50_us"), mpath(i, "first_query", "p50_us")
        rows.append(["first query of a new connection", f(ms_(g50), " ms", 2),
                     f(ms_(mpath(g, "first_query", "p99_us")), " ms", 2), f(ms_(i50), " ms", 2),
                     f(ms_(mpath(i, "first_query", "p99_us")), " ms", 2),
                     f(ms_(None if g50 is None or i50 is None else g50 - i50), " ms", 2)])
        rows.append(["(of which connection setup)", f(ms_(mpath(g, "first_query_connect", "p50_us")), " ms", 2),
                     "", "", "", ""])
        rows.append(["(of which the query)", f(ms_(mpath(g, "first_query_after_connect", "p50_us")), " ms", 2),
                     "", "", "", ""])
        self.target("W7", "first query of a new connection ≤ 50 ms (connect + query)",
                    f(ms_(g50), " ms", 2), "", None if g50 is None else g50 <= 50_000)
        self.table(["", "gateway p50", "gateway p99", "in-process p50", "in-process p99",
                    "added (p50)"], rows)
        err = first_error(g) or first_error(i)
        if err:
            self.out(f"- error: `{err}`")
            self.out()

    def load(self, d):
        r = d.get("gateway") or {}
        if r.get("error"):
            self.out(f"error: `{r['error']}`")
            self.target("LOAD", "0 errors", "not measured", "", None)
            return
        self.out(f"{r.get('clients')} connections for {f(r.get('seconds'), ' s')}, each "
                 "looping over a random mix: 20% `SELECT 1` (simple protocol), 20% `SELECT 1` "
                 "(prepared), 30% primary-key lookup in `kv`, 15% 1,000-row range aggregate on "
                 "`stream10m`, 10% `INSERT` into `load_events`, 5% count of the client's own "
                 "inserts. Sampled every 5 s: the gateway's RSS and the memory DuckDB's buffer manager "
                 "reports (`duckdb_memory()`: cached blocks, indexes, appended rows).")
        self.out()
        lat = r.get("latency", {})
        self.table(["queries", "q/s", "errors", "p50", "p99", "max"],
                   [[f(r.get("queries"), nd=0), f(r.get("qps")), r.get("errors"),
                     f(ms_(lat.get("p50_us")), " ms", 2), f(ms_(lat.get("p99_us")), " ms", 2),
                     f(ms_(lat.get("max_us")), " ms", 1)]])
        if r.get("error_samples"):
            for e in r["error_samples"]:
                self.out(f"- `{e}`")
            self.out()
        ops = r.get("ops", {})
        self.out("Operations: " + ", ".join(f"{k} {v:,}" for k, v in ops.items()) + ".")
        self.out()
        series = [(x[0], x[1], x[2] if len(x) > 2 else None)
                  for x in r.get("rss_series_kib", []) if x[1]]
        if series:
            self.out("| s | " + " | ".join(f"{t:.0f}" for t, _, _ in series[::2]) + " |")
            self.out("|---|" + "---|" * len(series[::2]))
            self.out("| gateway RSS MB | " + " | ".join(f"{v / 1024:.0f}" for _, v, _ in series[::2]) + " |")
            if any(d is not None for _, _, d in series):
                self.out("| DuckDB `duckdb_memory()` MB | " + " | ".join(
                    "" if d is None else f"{d / 1024:.0f}" for _, _, d in series[::2]) + " |")
            self.out()
            warm = [(v, dm) for t, v, dm in series if t >= 30] or [(v, dm) for _, v, dm in series]
            v0, v1 = warm[0][0], warm[-1][0]
            growth = (v1 - v0) / v0 if v0 else None
            duck = ""
            if warm[0][1] is not None and warm[-1][1] is not None:
                dd = (warm[-1][1] - warm[0][1]) / 1024
                duck = f"; DuckDB-managed memory {dd:+.0f} MB of it"
                other = (v1 - v0) / 1024 - dd
                duck += f", the rest {other:+.0f} MB"
            self.target("LOAD", "64 clients, mixed queries: 0 errors", str(r.get("errors")), "",
                        r.get("errors") == 0)
            self.target("LOAD", "gateway RSS flat after warm-up (from 30 s on, within 10%)",
                        f"{v0 / 1024:.0f} → {v1 / 1024:.0f} MB{duck}",
                        "" if growth is None else f"{growth * 100:+.1f}%",
                        None if growth is None else abs(growth) <= 0.10)

    # --- document -------------------------------------------------------------------------

    def render(self):
        titles = {
            "W1": "W1 — trivial query latency (1 client)",
            "W2": "W2 — throughput: `SELECT 1` and point lookups",
            "W3": "W3 — streaming 10M rows",
            "W4": "W4 — TPC-H",
            "W5": "W5 — idle connections",
            "W6": "W6 — connection setup",
            "W7": "W7 — small queries on DuckLake",
            "LOAD": "Load run — 64 clients, mixed short queries",
        }
        fns = {"W1": self.w1, "W2": self.w2, "W3": self.w3, "W4": self.w4, "W5": self.w5,
               "W6": self.w6, "W7": self.w7, "LOAD": self.load}
        sections = []
        for w in ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "LOAD"]:
            e = self.w.get(w)
            if not e:
                continue
            self.lines = []
            env = e["env"]
            self.out(f"## {titles[w]}")
            self.out()
            self.out(f"_{env['date']}, commit {env['commit']}{' (with uncommitted changes)' if env.get('dirty') else ''}, "
                     f"{env['mode']} sizes, {env['runs']} run(s) per system, medians shown; "
                     f"load average {' '.join(e['loadavg_before'])} before, "
                     f"{' '.join(e['loadavg_after'])} after; {e['seconds']:.0f} s._")
            self.out()
            if e["data"].get("error"):
                self.out(f"Failed: `{e['data']['error']}`")
                self.out()
                self.target(w, "(workload failed)", e["data"]["error"][:100], "", None)
            else:
                fns[w](e["data"])
            cmds = e.get("commands") or []
            if cmds:
                self.out("<details><summary>Exact commands (first run)</summary>")
                self.out()
                self.out("```sh")
                for c in cmds:
                    self.out(c)
                self.out("```")
                self.out("</details>")
                self.out()
            sections.append(self.lines)

        self.lines = []
        envs = [e["env"] for e in self.w.values()]
        env = max(envs, key=lambda x: x["date"])
        self.out("# Benchmarks")
        self.out()
        self.out("Generated by `bench/run.sh` (see `bench/README.md`) from `bench/results.json`; "
                 "do not edit by hand — the analysis comes from `bench/notes.md`. Each workload "
                 "runs on the gateway and its references alternately; every figure is the median "
                 "of the runs. Targets are judged here, never in tests.")
        self.out()
        self.out("## Machine and versions")
        self.out()
        self.table(["", ""], [
            ["CPU", f"{env['cpus']} × {env['cpu_model']}"],
            ["memory", f"{env['mem_gib']} GiB"],
            ["kernel", env["kernel"]],
            ["gateway", f"commit {env['commit']}, release build (`cargo build --release`)"],
            ["DuckDB", f"{env['duckdb']} (the `duckdb` crate =1.10505.0, bundled; gateway and in-process reference)"],
            ["PostgreSQL", env["postgres"]],
            ["pgbench", env["pgbench"]],
        ])
        pgcmd = next((e.get("postgres_command") for e in self.w.values() if e.get("postgres_command")), None)
        gwcmd = next((e.get("gateway_command") for e in self.w.values() if e.get("gateway_command")), None)
        self.out("Everything runs on this one machine: clients (pgbench, the tokio-postgres "
                 "clients), the gateway, PostgreSQL and the in-process reference share its CPUs, "
                 "so client CPU is part of every protocol measurement and none of the in-process "
                 "ones. Connections are over TCP on 127.0.0.1.")
        self.out()
        if pgcmd:
            self.out("PostgreSQL reference (throwaway cluster, durability off as for a benchmark; "
                     "JIT and everything else at PostgreSQL 15 defaults):")
            self.out()
            self.out("```sh\n" + pgcmd.replace(" -c ", " \\\n  -c ") + "\n```")
            self.out()
        if gwcmd:
            self.out("Gateway (DuckDB threads and memory at the gateway's defaults):")
            self.out()
            self.out("```sh\n" + gwcmd + "\n```")
            self.out()
        summary_at = len(self.lines)
        for s in sections:
            self.lines.extend(s)
        rest = self.lines[summary_at:]
        self.lines = self.lines[:summary_at]
        self.out("## Targets")
        self.out()
        met = sum(1 for t in self.targets if t[4] == "**met**")
        missed = sum(1 for t in self.targets if t[4] == "**missed**")
        self.out(f"{met} met, {missed} missed, {len(self.targets) - met - missed} not measured.")
        self.out()
        self.table(["", "target", "measured", "ratio", "result"], self.targets)
        if NOTES.exists():
            self.out("## Analysis")
            self.out()
            self.out(NOTES.read_text().strip())
            self.out()
        self.lines.extend(rest)
        return "\n".join(self.lines).rstrip() + "\n"


def kib(b):
    return None if b is None else b / 1024


def kib_mb(k):
    return None if k is None else k / 1024


def ms_(us):
    return None if us is None else us / 1000


def render(doc):
    return Report(doc).render()

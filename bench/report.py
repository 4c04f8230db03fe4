"""The report of bench/run.py: report.rst (tables), latency.png (the plot).

Every section is written even when its part was skipped or failed, saying
so, so a reader (and tests/test_bench.py) always finds the same headings.
"""

import statistics
from pathlib import Path

SECTIONS = ("Setup", "Routes", "Live delivery", "Memory", "Data size", "Against the targets")
ROUTES = ("GET /api/messages", "POST /api/messages", "GET /api/rooms", "GET /api/events")
#: The issue's targets (points 1-3).
COMMAND_TARGETS = {"GET /api/messages": 3, "POST /api/messages": 4}
CPU_RATIO_TARGET = 1.5
THROUGHPUT_TARGET = 0.7
LIVE_P99_TARGET_MS = 250
PARK_TARGET_S = 5
RSS_TARGET_MIB = 100
IDLE_PER_CLIENT = 0.4
ADMIT_TARGET = 3


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def summarize_routes(runs):
    """Per route: each app's medians over the runs, and the makechat/baseline
    ratios of each repeat (CPU per request, throughput) with their median."""
    summary = {}
    for route in ROUTES:
        mine = [run for run in runs if run["route"] == route]
        if not mine:
            continue
        apps = {}
        for app in sorted({run["app"] for run in mine}):
            of = [run for run in mine if run["app"] == app]
            apps[app] = {key: median([run[key] for run in of]) for key in
                         ("rps", "p50_ms", "p99_ms", "cpu_ms", "db_cpu_ms", "commands")}
            apps[app]["errors"] = sum(run["errors"] for run in of)
            apps[app]["requests"] = sum(run["requests"] for run in of)
        ratios = {"cpu": [], "rps": []}
        for repeat in sorted({run["repeat"] for run in mine}):
            pair = {run["app"]: run for run in mine if run["repeat"] == repeat}
            if {"makechat", "baseline"} <= set(pair) and pair["baseline"]["cpu_ms"] > 0:
                ratios["cpu"].append(pair["makechat"]["cpu_ms"] / pair["baseline"]["cpu_ms"])
                ratios["rps"].append(pair["makechat"]["rps"] / max(pair["baseline"]["rps"], 0.1))
        summary[route] = {"apps": apps, "cpu_ratio": median(ratios["cpu"]),
                          "rps_ratio": median(ratios["rps"]),
                          "cpu_ratios": [round(value, 2) for value in ratios["cpu"]],
                          "rps_ratios": [round(value, 2) for value in ratios["rps"]]}
    return summary


def table(header, rows):
    """An RST simple table."""
    cells = [[str(cell) for cell in header]] + [["-" if c is None else str(c) for c in row]
                                                 for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    rule = "  ".join("=" * width for width in widths)
    lines = [rule, "  ".join(cell.ljust(width) for cell, width in zip(cells[0], widths)), rule]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
              for row in cells[1:]]
    return "\n".join(lines + [rule, ""])


def heading(text, char="="):
    return f"{text}\n{char * len(text)}\n"


def fmt(value, digits=1):
    if value is None:
        return None
    return f"{value:.{digits}f}"


def thresholds(points, app="makechat"):
    """For each backend: about how many stored messages make the app's GET
    latest 50 pass 100 ms and 1 s, interpolated between the measured sizes
    on a log-log scale (extrapolated from the nearest two past either end),
    and the cost per stored message between the smallest and largest."""
    import math
    found = {}
    for backend in sorted({point["backend"] for point in points}):
        mine = sorted((point["messages"], point[app]["p50_ms"]) for point in points
                      if point["backend"] == backend and not point.get("skipped"))
        if len(mine) < 2:
            continue
        (n0, t0), (n1, t1) = mine[0], mine[-1]
        found[backend] = {"us_per_message": round((t1 - t0) * 1000 / (n1 - n0), 1)}
        for label, limit in (("100ms", 100), ("1s", 1000)):
            index = next((i for i in range(1, len(mine)) if mine[i][1] >= limit),
                         len(mine) - 1)
            (na, ta), (nb, tb) = mine[index - 1], mine[index]
            if ta <= 0 or tb <= ta:
                found[backend][label] = None
                continue
            slope = math.log(tb / ta) / math.log(nb / na)
            found[backend][label] = int(round(na * (limit / ta) ** (1 / slope), -2))
    return found


def write(data, out):
    out = Path(out)
    parts = [heading("makechat benchmark report", "#")]
    parts.append(setup_section(data))
    parts.append(routes_section(data.get("routes")))
    parts.append(live_section(data.get("live"), data.get("live_database")))
    parts.append(memory_section(data))
    plotted = plot(data.get("sizes"), out / "latency.png")
    parts.append(sizes_section(data, plotted))
    parts.append(targets_section(data))
    (out / "report.rst").write_text("\n".join(parts), encoding="utf-8")


def setup_section(data):
    m = data["machine"]
    p = data["params"]
    text = [heading("Setup"),
            f"Run {data['started']} on {m['cpus']} CPUs ({m['cpu']}), load average "
            f"{m['load_at_start']:.2f} at the start, Python {m['python']}, commit "
            f"``{data['commit']}``; database {data.get('database', 'FerretDB')}"
            f"{'; SMOKE RUN: the figures mean nothing' if data['smoke'] else ''}.",
            "",
            f"Both apps: ``makechat serve``'s gunicorn settings (2 gevent workers, "
            f"worker_connections 2000, bcrypt_rounds 4, log level warning). Load: wrk, 1 "
            f"thread, {p['connections']} connections, {p['seconds']} s per run after "
            f"{p['warmup']} s of warm-up, {p['repeats']} runs per app in alternating order; "
            f"{p['fill']} messages in the room read. Took {data.get('elapsed_s', '?')} s "
            f"(routes {(data.get('routes') or {}).get('elapsed_s', '-')} s, live "
            f"{data.get('live_elapsed_s', '-')} s, data size {data.get('sizes_elapsed_s', '-')} "
            "s).", ""]
    return "\n".join(text)


def routes_section(routes):
    text = [heading("Routes")]
    if not routes:
        return "\n".join(text + ["Skipped.", ""])
    idle = routes.get("background_cmds_per_s")
    text.append("Medians over the runs; CPU is the workers' user + system time per request "
                "(/proc), DB CPU FerretDB's; commands are those the app sent (pymongo's "
                "command monitoring), per request" + (
                    ", less what it sends with no request at all (" + ", ".join(
                        f"{name} {rate:.1f}/s" for name, rate in idle.items()) +
                    ": makechat's pollers)" if idle else "") + ".\n")
    rows = []
    for route, summary in routes["summary"].items():
        for app in ("baseline", "makechat"):
            a = summary["apps"].get(app)
            if a:
                rows.append([route, app, fmt(a["rps"]), fmt(a["p50_ms"]), fmt(a["p99_ms"]),
                             fmt(a["cpu_ms"], 2), fmt(a["db_cpu_ms"], 2), fmt(a["commands"], 2),
                             a["errors"]])
    text.append(table(["route", "app", "req/s", "p50 ms", "p99 ms", "CPU ms/req",
                       "DB CPU ms/req", "DB cmds/req", "errors"], rows))
    rows = []
    for route, summary in routes["summary"].items():
        apps = summary["apps"]
        if "baseline" in apps and "makechat" in apps:
            rows.append([route, f"{fmt(apps['baseline']['commands'], 1)} -> "
                                f"{fmt(apps['makechat']['commands'], 1)}",
                         f"{fmt(summary['cpu_ratio'], 2)}x {summary['cpu_ratios']}",
                         f"{fmt(summary['rps_ratio'], 2)}x {summary['rps_ratios']}"])
    text.append("makechat against the baseline (median of the runs' ratios, each run's in "
                "brackets):\n")
    text.append(table(["route", "DB cmds/req (baseline -> makechat)", "app CPU/req ratio",
                       "throughput ratio"], rows))
    text.append(profile_section(routes.get("profiles")))
    return "\n".join(text)


def profile_section(profiles):
    text = [heading("Where makechat's CPU goes", "-")]
    if not isinstance(profiles, dict) or not profiles:
        return "\n".join(text + [f"Not profiled: {profiles or 'no py-spy'}.", ""])
    text.append("One more makechat run per route under the same load, sampled by py-spy "
                "(200 Hz, both workers; not timed; samples in gevent's loop itself, waiting for "
                "sockets, left out). *own*: samples in the function itself; "
                "*inside*: samples anywhere below a makechat function. The raw stacks are "
                "beside this report.\n")
    for route, found in profiles.items():
        if "error" in found:
            text.append(f"{route}: py-spy failed: ``{found['error']}``\n")
            continue
        rows = []
        for number in range(max(len(found["own"]), len(found["inside"]))):
            own = found["own"][number] if number < len(found["own"]) else ("", "")
            inside = found["inside"][number] if number < len(found["inside"]) else ("", "")
            rows.append([f"``{own[0]}``" if own[0] else "", own[1],
                         f"``{inside[0]}``" if inside[0] else "", inside[1]])
        text.append(f"{route} ({found['samples']} samples, ``{found['file']}``):\n")
        text.append(table(["own", "%", "inside (makechat)", "%"], rows[:10]))
    return "\n".join(text)


def live_section(live, database=None):
    text = [heading("Live delivery")]
    if not live:
        return "\n".join(text + ["Skipped.", ""])
    text.append(f"On {database or 'FerretDB (SQLite handler)'}. N clients waiting in one "
                "room, each its own user and token: ``poll`` is "
                "``GET /api/messages?room=R&after=SEQ&wait=110``, re-sent after each answer; "
                "``sse`` is ``GET /api/events`` with ``Accept: text/event-stream``. Parked: "
                "from the first connection until the workers are quiet for 0.5 s (under 5% of "
                "a core, under 30 database commands/s, and no more commands in flight than "
                "their pollers': admitting a request sends several, and a backlog waits "
                "for a connection). Idle: database commands per second with all N parked. "
                "Delivery: from a post's 201 to each client's receipt, over all posts and "
                "clients.\n")
    rows = [[r["mode"], r["clients"], fmt(r["park_s"], 2),
             fmt(r.get("park_commands_per_client"), 1),
             fmt(r.get("delivery_commands_per_delivery"), 1), fmt(r["idle_commands_per_s"]),
             fmt(r.get("idle_db_cpu_pct")), fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["max_ms"]),
             " / ".join(fmt(v) for v in r["rss_mib"]), fmt(r["kib_per_client"]),
             r["deliveries"], r["missing"], r["failed"], len(r.get("posts_refused", []))]
            if "error" not in r else
            [r["mode"], r["clients"], "FAILED"] + [None] * 13 for r in live]
    text.append(table(["mode", "N", "park s", "cmds/client", "cmds/delivery", "idle cmds/s",
                       "idle DB CPU %",
                       "p50 ms",
                       "p99 ms", "max ms",
                       "RSS MiB per worker", "KiB/client", "deliveries", "missing", "failed",
                       "posts refused"], rows))
    errors = [r for r in live if "error" in r]
    if errors:
        text.append("Scenarios that failed: " + "; ".join(
            f"{r['mode']} {r['clients']}: ``{r['error']}``" for r in errors) + "\n")
    live = [r for r in live if "error" not in r]
    ready = [f"{r['clients']}: {fmt(r['streams_ready_s'], 2)} s"
             if r.get("streams_ready_s") is not None else
             f"{r['clients']}: only {r.get('streams_ready')} within the park timeout"
             for r in live if r["mode"] == "sse"]
    if ready:
        text.append("Event streams, until every client had its ``stream.ready``: " +
                    ", ".join(ready) + ".\n")
    text.append("*park s* '-': the workers never went quiet within the park timeout. "
                "*cmds/client*: "
                "database commands per client while they parked (what admitting a waiting "
                "request costs; the pollers' few included). *cmds/delivery*: database "
                "commands from the first post until the last delivery, per delivery (waking "
                "a waiter and answering it; a long poll's next request included). "
                "*idle DB CPU*: "
                "the database server's CPU (% of one core) while all N wait. "
                "*missing*: deliveries that never came (within 30 s); *failed*: clients "
                "whose request was answered with an error (so they stopped); *posts "
                "refused*: posts answered other than 201, each retried after 1 s.\n")
    reparks = [(r["mode"], r["clients"], r["repark_s"]) for r in live if r.get("repark_s")]
    if reparks:
        text.append("Long-poll clients re-send their request after each answer; the "
                    "workers were quiet again after (s): " +
                    "; ".join(f"{mode} {n}: {values}" for mode, n, values in reparks) + ".\n")
    failures = sorted({f for r in live for f in r.get("failures", [])})
    if failures:
        text.append("Failures seen: " + "; ".join(f"``{f!r}``" for f in failures) + "\n")
    return "\n".join(text)


def memory_section(data):
    text = [heading("Memory")]
    routes = data.get("routes")
    if routes:
        text.append("RSS per worker after the route runs (MiB): " + "; ".join(
            f"{app} {' / '.join(fmt(v) for v in values)}"
            for app, values in routes["rss_mib"].items()) + ".\n")
    measured = [r for r in data.get("live") or [] if "error" not in r]
    if measured:
        top = max(measured, key=lambda r: (r["clients"], r["mode"]))
        text.append(f"With {top['clients']} {top['mode']} clients parked: "
                    f"{' / '.join(fmt(v) for v in top['rss_mib'])} MiB per worker "
                    f"(before: {' / '.join(fmt(v) for v in top['rss_before_mib'])}), "
                    f"{fmt(top['kib_per_client'])} KiB per client.\n")
    if len(text) == 1:
        text.append("Not measured (routes and live skipped).\n")
    return "\n".join(text)


def sizes_section(data, plotted):
    text = [heading("Data size")]
    points = data.get("sizes")
    if not points:
        return "\n".join(text + ["Skipped.", ""])
    text.append("``GET /api/messages?room=R`` (the latest 50) with that many messages stored, "
                "sequential requests, median ms (the answer's status in brackets when not "
                "200); ``query`` is the one find it needs at least, sent by the benchmark "
                f"itself. PostgreSQL: {data.get('postgresql')}." +
                "".join(f" {kind}: {state}." for kind, state in
                        (data.get("others") or {}).items()) + "\n")
    rows = []
    for point in points:
        if point.get("skipped"):
            rows.append([point["backend"], point["messages"], "left out (time budget)",
                         None, None, None])
            continue
        cells = [point["backend"], point["messages"]]
        for app in ("makechat", "baseline"):
            p = point[app]
            note = "" if p["statuses"] == [200] else f" {p['statuses']}"
            cells.append(f"{fmt(p['p50_ms'])}{note}")
        cells += [fmt(point["query"]["p50_ms"]), fmt(point["fill_s"])]
        rows.append(cells)
    text.append(table(["backend", "messages", "makechat ms", "baseline ms", "query ms",
                       "fill s"], rows))
    found = thresholds(points)
    if found:
        text.append("About where makechat's GET latest 50 passes 100 ms and 1 s (stored "
                    "messages, interpolated between the sizes measured on a log-log scale), "
                    "and what each stored message adds to it:\n")
        text.append(table(["backend", "us per stored message", "100 ms at", "1 s at"],
                          [[backend, f["us_per_message"], f["100ms"], f["1s"]]
                           for backend, f in found.items()]))
    if plotted:
        text.append(".. image:: latency.png\n   :alt: GET latest 50 against stored messages\n")
    else:
        text.append("(No plot: matplotlib is not installed; `make bench` installs it.)\n")
    return "\n".join(text)


def targets_section(data):
    text = [heading("Against the targets")]
    rows = []

    def verdict(ok):
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    routes = (data.get("routes") or {}).get("summary", {})
    for route, summary in routes.items():
        apps = summary["apps"]
        if route in COMMAND_TARGETS and "makechat" in apps:
            value = apps["makechat"]["commands"]
            rows.append([f"{route}: DB commands", f"<= {COMMAND_TARGETS[route]}",
                         fmt(value, 2), verdict(value <= COMMAND_TARGETS[route])])
        if summary["cpu_ratio"] is not None:
            rows.append([f"{route}: app CPU ratio", f"<= {CPU_RATIO_TARGET}x",
                         fmt(summary["cpu_ratio"], 2),
                         verdict(summary["cpu_ratio"] <= CPU_RATIO_TARGET)])
            rows.append([f"{route}: throughput ratio", f">= {THROUGHPUT_TARGET}x",
                         fmt(summary["rps_ratio"], 2),
                         verdict(summary["rps_ratio"] >= THROUGHPUT_TARGET)])
    for r in data.get("live") or []:
        if r["clients"] != max(x["clients"] for x in data["live"]):
            continue
        name = f"live {r['mode']}, {r['clients']} clients"
        if "error" in r:
            rows.append([name, "the scenario runs", "failed", "MISSED"])
            continue
        if r.get("park_commands_per_client") is not None and r["mode"] == "poll":
            rows.append([f"{name}: admitting a waiter", f"<= {ADMIT_TARGET} DB commands",
                         fmt(r["park_commands_per_client"], 1),
                         verdict(r["park_commands_per_client"] <= ADMIT_TARGET)])
        rows.append([f"{name}: p99 delivery", f"< {LIVE_P99_TARGET_MS} ms", fmt(r["p99_ms"]),
                     verdict(r["p99_ms"] is not None and r["p99_ms"] < LIVE_P99_TARGET_MS
                             and not r["missing"])])
        rows.append([f"{name}: parking", f"< {PARK_TARGET_S} s", fmt(r["park_s"], 2),
                     verdict(r["park_s"] is not None and r["park_s"] < PARK_TARGET_S)])
        rows.append([f"{name}: RSS per worker", f"< {RSS_TARGET_MIB} MiB",
                     fmt(max(r["rss_mib"])), verdict(max(r["rss_mib"]) < RSS_TARGET_MIB)])
        rows.append([f"{name}: idle DB commands/s", "no query per idle waiter",
                     fmt(r["idle_commands_per_s"]),
                     verdict(r["idle_commands_per_s"] <= IDLE_PER_CLIENT * r["clients"])])
    if not rows:
        return "\n".join(text + ["Nothing measured.", ""])
    text.append(table(["target", "wanted", "measured", "verdict"], rows))
    text.append("Idle: 'no query per idle waiter' counts as met below one command per ten "
                f"waiters per poll interval ({IDLE_PER_CLIENT} x N a second; one per waiter "
                "would be 4 x N). Each worker's poller asks for the rooms' marks (and, for "
                "streams, the users' stream tokens) 4 times a second, 8 to 16 commands/s in "
                "all; what grows with N beyond that is the getMore of a long $in.\n")
    return "\n".join(text)


def plot(points, path):
    """latency.png: GET latest 50 against stored messages; False without matplotlib."""
    if not points:
        return False
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    styles = {"sqlite": "tab:red", "postgresql": "tab:blue", "secantusdb": "tab:green",
              "nx-27017": "tab:purple"}
    for backend in sorted({point["backend"] for point in points}):
        mine = [point for point in points if point["backend"] == backend
                and not point.get("skipped")]
        xs = [point["messages"] for point in mine]
        colour = styles.get(backend, "tab:gray")
        name = f"FerretDB {backend}" if backend in ("sqlite", "postgresql") else backend
        axes.plot(xs, [point["makechat"]["p50_ms"] for point in mine], "o-", color=colour,
                  label=f"makechat, {name}")
        axes.plot(xs, [point["baseline"]["p50_ms"] for point in mine], "s--", color=colour,
                  alpha=0.6, label=f"baseline, {name}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    for limit, label in ((100, "100 ms"), (1000, "1 s")):
        axes.axhline(limit, color="gray", linewidth=0.8, linestyle=":")
        axes.text(0.99, limit, label, transform=axes.get_yaxis_transform(), fontsize=8,
                  color="gray", ha="right", va="bottom")
    axes.set_xlabel("messages stored in the collection")
    axes.set_ylabel("GET latest 50, median ms")
    axes.set_title("GET /api/messages (latest 50) against stored messages")
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True

"""Builds docs/performance.md and docs/performance/*.svg (see bench/report/run).

For each store (in memory; one private redis-server) a release server on the example agents
(2 workers) takes `wrk --latency` with the launch turn of bench/load/interact.lua (a new user id
per request cycle: start, text, set, text, choice, then a commit) at 1 … 128 connections, each
point SECONDS long; then bench/nlu/run.py gives the NLU accuracy per dataset. The load
generator shares the machine with the server: figures are for comparing runs of this script on
one machine, not absolute capacity.
"""
import datetime
import json
import os
import pathlib
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ["FLOWDM_BIN"]
CONNECTIONS = [1, 2, 4, 8, 16, 32, 64, 128]
OUT = ROOT / "docs" / "performance"
# Published scores (../shared/nlu/README.md) the local classifier is measured against.
PUBLISHED = {"hwu64_10": {"Voiceflow hosted": 0.905, "TF-IDF (scikit-learn)": 0.710},
             "curekart": {"Voiceflow hosted": 0.714, "TF-IDF (scikit-learn)": 0.834}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(args):
    out = tempfile.NamedTemporaryFile("w+", delete=False)
    env = dict(os.environ, RUST_LOG="warn")
    proc = subprocess.Popen([BIN, "serve", "--port", "0", "--workers", "2", "--no-watch", *args],
                            stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    for _ in range(200):
        text = pathlib.Path(out.name).read_text()
        m = re.search(r"listening on (\S+)", text)
        if m:
            return proc, m.group(1)
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def to_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def wrk(base, connections, seconds):
    cmd = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
           "-s", "bench/load/interact.lua", base]
    text = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: to_ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"connections": connections, "rps": rps, "p50": lat["50"], "p90": lat["90"],
            "p99": lat["99"], "non2xx": int(errors.group(1)) if errors else 0}


def load(store, seconds):
    redis = None
    args = ["--diagrams", "diagrams"]
    if store == "redis":
        port = free_port()
        tmp = tempfile.mkdtemp()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", tmp],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        args += ["--redis", f"redis://127.0.0.1:{port}"]
    proc, base = start_server(args)
    try:
        wrk(base, 8, 1)  # warm up
        return [wrk(base, c, seconds) for c in CONNECTIONS]
    finally:
        proc.terminate()
        proc.wait()
        if redis:
            redis.terminate()
            redis.wait()


def machine():
    cpu = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next((int(l.split()[1]) // 1024 for l in pathlib.Path("/proc/meminfo").read_text()
                .splitlines() if l.startswith("MemTotal")), 0)
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem} MiB, {platform.system()} "
            f"{platform.release()}, {redis.split()[2] if redis else 'redis ?'}")


def plot_load(results):
    OUT.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    for store, rows in results.items():
        ax.plot([r["connections"] for r in rows], [r["rps"] for r in rows], marker="o", label=store)
    ax.set(xscale="log", xlabel="connections", ylabel="turns per second",
           title="Throughput (launch turn, 2 workers)")
    ax.set_xticks(CONNECTIONS, [str(c) for c in CONNECTIONS])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "throughput.svg")
    fig, ax = plt.subplots(figsize=(7, 4))
    for store, rows in results.items():
        xs = [r["connections"] for r in rows]
        ax.plot(xs, [r["p50"] for r in rows], marker="o", label=f"{store} p50")
        ax.plot(xs, [r["p99"] for r in rows], marker="x", linestyle="--", label=f"{store} p99")
    ax.set(xscale="log", yscale="log", xlabel="connections", ylabel="latency (ms)",
           title="Latency (launch turn, 2 workers)")
    ax.set_xticks(CONNECTIONS, [str(c) for c in CONNECTIONS])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "latency.svg")


def nlu():
    subprocess.run([sys.executable, "bench/nlu/run.py"], cwd=ROOT, check=True,
                   env=dict(os.environ, FLOWDM_BIN=BIN))
    return json.loads((ROOT / "target" / "bench-nlu.json").read_text())


def plot_nlu(rows):
    fig, ax = plt.subplots(figsize=(7, 4))
    names = [r["dataset"] for r in rows]
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [r["accuracy"] * 100 for r in rows], 0.4, label="flowdm accuracy")
    ax.bar([x + 0.2 for x in xs], [r["macro_f1"] * 100 for r in rows], 0.4, label="flowdm macro-F1")
    for x, name in zip(xs, names):
        for (label, score), style in zip(PUBLISHED.get(name, {}).items(), ["-", ":"]):
            ax.hlines(score * 100, x - 0.45, x + 0.45, colors="black", linestyles=style,
                      label=label if x == 0 else None)
    ax.set_xticks(list(xs), names)
    ax.set(ylim=(0, 100), ylabel="%", title="Intent classification (Voiceflow's benchmark protocol)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(OUT / "nlu.svg")


def table(rows):
    out = ["| connections | turns/s | p50 ms | p90 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['connections']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} "
                   f"| {r['p99']:.2f} | {r['non2xx']} |")
    return "\n".join(out)


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    started = time.time()
    results = {store: load(store, seconds) for store in ["memory", "redis"]}
    plot_load(results)
    nlu_rows = nlu()
    plot_nlu(nlu_rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    nlu_table = ["| dataset | utterances | accuracy | macro-F1 | answered None | published |",
                 "|---|---|---|---|---|---|"]
    for r in nlu_rows:
        pub = ", ".join(f"{k} {v:.1%}" for k, v in PUBLISHED.get(r["dataset"], {}).items())
        nlu_table.append(f"| {r['dataset']} | {r['utterances']} | {r['accuracy']:.1%} | "
                         f"{r['macro_f1']:.1%} | {r['none']:.1%} | {pub} |")
    doc = f"""# Performance report

Generated by `bench/report/run {seconds}` on {datetime.date.today()} at commit `{commit}`, in
{time.time() - started:.0f} s. Machine: {machine()}. The load generator (wrk, 2 threads) runs
on the same machine as the server (2 HTTP workers) and, for Redis, the redis-server: the
figures compare runs of this script on one machine; they are not a capacity promise. With as
many cores as wrk threads plus server workers, throughput would rise with connections until the
workers are busy; on a machine with fewer, the load generator takes CPU from the server as
connections grow, which shows as the throughput reached at a few connections and not exceeded
after.

## Throughput and latency against connections

Every request is the payment agent's `launch` turn (`bench/load/interact.lua`: start, text,
set, text, choice, committed to the store) for a user id cycling over 1,000 per wrk thread; each
point runs {seconds} s after a 1 s warm-up.

![throughput](performance/throughput.svg)

![latency](performance/latency.svg)

### In memory

{table(results["memory"])}

### Redis (one private redis-server on loopback)

{table(results["redis"])}

## NLU accuracy per dataset

`bench/nlu/run.py` (Voiceflow's protocol over HTTP, `../shared/nlu/`): each test utterance as a
text turn of a new user, the predicted intent read from the verbose answer.

![nlu](performance/nlu.svg)

{chr(10).join(nlu_table)}
"""
    (ROOT / "docs" / "performance.md").write_text(doc)
    print(doc)


if __name__ == "__main__":
    main()

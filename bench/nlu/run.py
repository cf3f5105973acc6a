#!/usr/bin/env python3
"""Voiceflow's intent benchmark protocol over HTTP (`../shared/nlu/README.md`).

    bench/nlu/run.py [DATASET ...]          (default: hwu64_10 curekart)

Twice: the classifier alone (`--nlu-vectors off`) and with word vectors (installed first by
scripts/nlu-vectors unless NLU_VECTORS=0; docs/nlu.md § Word vectors). For each dataset: serve `../shared/nlu/<dataset>.vf` alone with `flowdm serve --port 0` (the
binary in $FLOWDM_BIN, default ./target/release/flowdm), then for every test utterance a new user
id, `POST /state/user/{userID}/interact?verbose=true` with the text and an `Authorization` key and
no `versionID` header, and read `request.payload.intent.name`. Prints accuracy and macro-F1 (the
scikit-learn definition: the mean F1 over every label seen in the answers or the predictions,
`None` included) as a Markdown table, plus the share of answers that fell below the threshold.
Only 127.0.0.1 is contacted. Standard library only.
"""
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "nlu"
BIN = os.environ.get("FLOWDM_BIN", str(ROOT / "target" / "release" / "flowdm"))


def read_lines(path):
    return [line.rstrip("\n") for line in path.open(encoding="utf-8")]


def start_server(agent, vectors):
    tmp = tempfile.mkdtemp(prefix="flowdm-nlu-")
    os.symlink(agent, os.path.join(tmp, agent.name))
    env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    proc = subprocess.Popen(
        [BIN, "serve", "--port", "0", "--diagrams", tmp, "--nlu-vectors", vectors],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "http://" in line:
            address = line[line.index("http://"):].split()[0].rstrip("/")
            return proc, address
    proc.kill()
    raise SystemExit(f"flowdm did not start on {agent}")


def classify(address, text):
    body = json.dumps({"action": {"type": "text", "payload": text}}).encode()
    req = urllib.request.Request(
        f"{address}/state/user/{uuid.uuid4()}/interact?verbose=true", data=body, method="POST",
        headers={"Authorization": "VF.DM.bench.key", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as res:
        answer = json.load(res)
    payload = answer["request"]["payload"]
    return payload["intent"]["name"], payload.get("confidence")


def macro_f1(truth, predicted):
    labels = sorted(set(truth) | set(predicted))
    scores = []
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def run(dataset, vectors):
    texts = read_lines(DATA / dataset / "test" / "seq.in")
    labels = [line.strip() for line in read_lines(DATA / dataset / "test" / "label")]
    proc, address = start_server(DATA / f"{dataset}.vf", vectors)
    try:
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda t: classify(address, t), texts))
        elapsed = time.time() - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    predicted = [a[0] for a in answers]
    correct = sum(1 for t, p in zip(labels, predicted) if t == p)
    return {
        "dataset": dataset,
        "vectors": vectors != "off",
        "utterances": len(texts),
        "accuracy": correct / len(texts),
        "macro_f1": macro_f1(labels, predicted),
        "none": sum(1 for p in predicted if p == "None") / len(texts),
        "seconds": elapsed,
    }


def main():
    datasets = sys.argv[1:] or ["hwu64_10", "curekart"]
    if not pathlib.Path(BIN).exists():
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "flowdm"], cwd=ROOT,
                       check=True)
    configurations = ["off"]
    if os.environ.get("NLU_VECTORS", "1") != "0":
        default = pathlib.Path(os.environ.get("XDG_DATA_HOME") or pathlib.Path.home() / ".local/share")
        vectors = os.environ.get("FLOWDM_NLU_VECTORS") or str(default / "flowdm" / "nlu-vectors")
        subprocess.run([str(ROOT / "scripts" / "nlu-vectors"), vectors], check=True)
        configurations.append(vectors)
    results = [run(d, v) for v in configurations for d in datasets]
    print("| dataset | word vectors | utterances | accuracy | macro-F1 | answered None | time |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['dataset']} | {'yes' if r['vectors'] else 'no'} | {r['utterances']} "
              f"| {r['accuracy']:.1%} | {r['macro_f1']:.1%} | {r['none']:.1%} "
              f"| {r['seconds']:.1f} s |")
    out = ROOT / "target" / "bench-nlu.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time to first trace on the streaming route against the classic route's full answer (issue 13).

    python3 bench/streaming/run.py [ROUNDS] [DELAY_MS]

One release flowdm (FLOWDM_BIN, default target/release/flowdm, built first when missing) serves
a weather agent: launch says "Looking it up…", calls an API step on a local service that answers
after DELAY_MS (default 200), then says the temperature. Each round, alternating, one launch on
`POST /state/user/{id}/interact` (the time until the whole JSON answer is read) and one on
`POST /v2/project/{projectID}/user/{id}/interact/stream` (the time until its first `trace`
event, and until `end`). Prints the medians and their ratio. Loopback only; every request has a
timeout.
"""

import http.client
import http.server
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
DELAY = (int(sys.argv[2]) if len(sys.argv) > 2 else 200) / 1000
ROOT = pathlib.Path(__file__).resolve().parents[2]


class Weather(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(DELAY)
        body = json.dumps({"current": {"temp": 21}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def text(msg, nxt):
    return {"type": "text", "texts": [{"id": "t", "content": [{"children": [{"text": msg}]}]}], "nextId": nxt}


def agent(base):
    return {
        "project": {"_id": "apip", "name": "Weather", "type": "chat", "platform": "webchat", "devVersion": "apiv"},
        "version": {"_id": "apiv", "projectID": "apip", "rootDiagramID": "D", "variables": ["city", "temp"],
                    "platformData": {"settings": {}},
                    "prototype": {"type": "chat", "platform": "webchat", "data": {"name": "Weather", "locales": ["en-US"]},
                                  "model": {"intents": [], "slots": []}, "context": {"variables": {}}}},
        "programs": {
            "apiv": {"id": "apiv", "startId": "", "lines": {}, "commands": [], "variables": []},
            "D": {"id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": {"type": "start", "nextId": "look"},
                "look": text("Looking it up…", "api"),
                "api": {"type": "integrations", "selected_integration": "Custom API",
                        "action_data": {"url": f"{base}/weather", "method": "POST", "content": "{}",
                                        "bodyInputType": "rawInput",
                                        "mapping": [{"path": "response.current.temp", "var": "temp"}]},
                        "success_id": "ok", "fail_id": "err"},
                "ok": text("It is {temp} degrees.", None),
                "err": text("The weather service cannot be reached.", None)}}}}


def main():
    binary = os.environ.get("FLOWDM_BIN", str(ROOT / "target/release/flowdm"))
    if "FLOWDM_BIN" not in os.environ:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "flowdm"], cwd=ROOT, check=True)
    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Weather)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp()
    pathlib.Path(work, "weather.vfr").write_text(json.dumps(agent(f"http://127.0.0.1:{service.server_port}")))
    server = subprocess.Popen(
        [binary, "serve", "--port", "0", "--diagrams", work, "--allow-outbound", "127.0.0.1/32"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "RUST_LOG": "error"})
    try:
        line = server.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        classic, first, whole = [], [], []
        for i in range(ROUNDS):
            body = json.dumps({"action": {"type": "launch"}})
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            t0 = time.perf_counter()
            c.request("POST", f"/state/user/c{i}/interact", body, {"versionID": "apiv", "content-type": "application/json"})
            answer = c.getresponse().read()
            classic.append(time.perf_counter() - t0)
            assert b"It is 21 degrees" in answer, answer
            c.close()

            s = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            t0 = time.perf_counter()
            s.request("POST", f"/v2/project/apip/user/s{i}/interact/stream?environment=development", body,
                      {"content-type": "application/json"})
            r = s.getresponse()
            seen_first = None
            while True:
                line = r.fp.readline()
                if not line:
                    break
                if line.startswith(b"event: trace") and seen_first is None:
                    seen_first = time.perf_counter() - t0
                if line.startswith(b"event: end"):
                    break
            whole.append(time.perf_counter() - t0)
            first.append(seen_first)
            s.close()
        ms = lambda xs: statistics.median(xs) * 1000
        print(f"{ROUNDS} rounds, API answer delay {DELAY * 1000:.0f} ms, medians:")
        print("| what | median |")
        print("|---|---|")
        print(f"| classic route, whole answer | {ms(classic):.1f} ms |")
        print(f"| streaming route, first trace | {ms(first):.1f} ms |")
        print(f"| streaming route, end event | {ms(whole):.1f} ms |")
        print(f"| first trace / classic answer | {ms(first) / ms(classic):.3f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)
        service.shutdown()


if __name__ == "__main__":
    main()

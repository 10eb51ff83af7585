"""Where a page's request spends its time, hop by hop, for scripts/bench_browser.py.

The bench loads a copy of the extension with two bench-only probes (scripts/bench_browser_probe/): one
imported first by the worker, one content script run before content/relay.js. They wrap the browser APIs
the extension calls (runtime messages, the native port, storage.session, tabs.sendMessage) and stamp each
step with performance.timeOrigin + performance.now(), one clock across the page, the content script and
the worker. The product's files are not changed: what the probes cost is theirs alone (a few µs a step).
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

PROBES = Path(__file__).resolve().parent / "bench_browser_probe"
WORKER_PROBE = "background/bench-probe.js"
RELAY_PROBE = "content/bench-probe.js"

# Runs in the shop's page (MAIN world, where personalVault lives): each request timed on its own; then
# the probe's stamps of the same requests (the content script writes them to the document on an event).
MEASURE_JS = """
async ([purpose, nonces]) => {
  const dump = () => {
    document.dispatchEvent(new Event("vault-bench-probe"));
    return JSON.parse(document.documentElement.dataset.vaultBenchProbe ?? "[]");
  };
  dump(); // the warm-up's stamps
  const times = [];
  const starts = [];
  let token = null;
  for (const nonce of nonces) {
    const began = performance.now();
    const answer = await personalVault.request({ purposes: [purpose], nonce });
    const took = performance.now() - began;
    const result = answer.results[purpose];
    if (result.outcome !== "granted") return { error: JSON.stringify(result) };
    times.push(took);
    starts.push(performance.timeOrigin + began);
    token = result.token;
  }
  return { times, starts, token, probe: dump() };
}
"""

# (label, from, to): each a stamp of the page ("start", "end"), the content script or the worker.
HOPS = (
    ("page -> content script (event)", "start", "relayReceived"),
    ("content script: checks, copy, post on the port", "relayReceived", "relaySent"),
    ("content script -> worker (page port)", "relaySent", "received"),
    ("worker: accept, record, manifest -> native frame", "received", "nativeSent"),
    ("native port -> host -> daemon -> back", "nativeSent", "nativeReceived"),
    ("worker: answer -> result sent to the tab", "nativeReceived", "resultSent"),
    ("worker -> content script (page port)", "resultSent", "relayGotResult"),
    ("content script -> page (event)", "relayGotResult", "end"),
)
NATIVE_HOP = HOPS[4][0]


def probed_extension(source: Path, target: Path) -> Path:
    """A copy of the extension with the probes: the worker imports its probe first, and the probe content
    script runs before the relay in the same (ISOLATED) world."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("README.md"))
    shutil.copy(PROBES / "worker-probe.js", target / WORKER_PROBE)
    shutil.copy(PROBES / "relay-probe.js", target / RELAY_PROBE)
    worker = target / "background" / "worker.js"
    worker.write_text(f'import "./{Path(WORKER_PROBE).name}";\n' + worker.read_text())
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    relay = next(entry for entry in manifest["content_scripts"] if "content/relay.js" in entry["js"])
    relay["js"].insert(relay["js"].index("content/relay.js"), RELAY_PROBE)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return target


def stamps_of(start: float, took: float, run: dict[str, Any]) -> dict[str, float]:
    worker = run.get("worker") or {}
    stamps = {"start": start, "end": start + took}
    stamps.update({k: v for k, v in run.items() if isinstance(v, (int, float))})
    stamps.update({k: v for k, v in worker.items() if isinstance(v, (int, float))})
    return stamps


def hop_times(answer: dict[str, Any]) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """Per hop, its time in ms for each request; and per request, what it did with storage.session."""
    runs = answer["probe"]
    if len(runs) != len(answer["times"]):
        raise SystemExit(f"the probe saw {len(runs)} requests, the page timed {len(answer['times'])}")
    hops: dict[str, list[float]] = {label: [] for label, _, _ in HOPS}
    storage = []
    for start, took, run in zip(answer["starts"], answer["times"], runs, strict=True):
        stamps = stamps_of(start, took, run)
        missing = [name for _, a, b in HOPS for name in (a, b) if name not in stamps]
        if missing:
            raise SystemExit(f"the probe missed {sorted(set(missing))} of a request: {run}")
        for label, began, ended in HOPS:
            hops[label].append(stamps[ended] - stamps[began])
        storage.append(storage_use(stamps, (run.get("worker") or {}).get("storage", [])))
    return hops, storage


def storage_use(stamps: dict[str, float], calls: list[list[Any]]) -> dict[str, Any]:
    """storage.session calls before the native frame left, and after its answer came (until the result was
    sent): how many, and the time from the first call's start to the last call's end in each stretch."""
    before = [c for c in calls if c[1] <= stamps["nativeSent"]]
    after = [c for c in calls if stamps["nativeReceived"] <= c[1] <= stamps["resultSent"]]

    def span(part: list[list[Any]]) -> float:
        ends = [c[2] for c in part if c[2] is not None]
        return max(ends) - min(c[1] for c in part) if part and ends else 0.0

    first_set = next((c[1] for c in before if c[0] == "set"), None)
    return {
        "until_write": None if first_set is None else first_set - stamps["received"],
        "write_to_frame": None if first_set is None else stamps["nativeSent"] - first_set,
        "before": [c[0] for c in before],
        "after": [c[0] for c in after],
        "before_ms": span(before),
        "after_ms": span(after),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(hops: dict[str, list[float]], storage: list[dict[str, Any]], totals_ms: list[float]) -> None:
    print("Where the page's time goes, hop by hop (same requests; ms, median / p99; medians don't add up):")
    for label, _, _ in HOPS:
        values = hops[label]
        print(f"  {label:<50} {statistics.median(values):6.3f} / {percentile(values, 99):6.3f}")
    extension = [t - n for t, n in zip(totals_ms, hops[NATIVE_HOP], strict=True)]
    print(
        f"  {'the browser and extension (page minus native hop)':<50} "
        f"{statistics.median(extension):6.3f} / {percentile(extension, 99):6.3f}"
    )
    split = [one for one in storage if one["until_write"] is not None]
    if split:
        until = statistics.median(one["until_write"] for one in split)
        after = statistics.median(one["write_to_frame"] for one in split)
        print(
            f"  of the worker's time before the native frame: until the record's write is sent {until:.3f}, "
            f"then until the frame leaves {after:.3f} (medians)"
        )
    for stretch in ("before", "after"):
        counts: dict[str, int] = {}
        for one in storage:
            for op in one[stretch]:
                counts[op] = counts.get(op, 0) + 1
        calls = ", ".join(f"{op} {n / len(storage):.1f}" for op, n in sorted(counts.items())) or "none"
        span = statistics.median(one[f"{stretch}_ms"] for one in storage)
        where = "before the native frame" if stretch == "before" else "after the answer, before the result"
        print(f"  storage.session calls {where}: {calls} per request (spanning {span:.3f} ms median)")

#!/usr/bin/python3
"""Turn bench/run.sh's records into the table (stdout) and the JSON file.

  report.py RECORDS JSON-OUT MACHINE

RECORDS is tab-separated, one record a line:
  S  scenario  description  bytes
  R  scenario  tool  role  command  note      role: ours, theirs, ceiling, skipped
  X  scenario  tool  rep  wall  cpu  rss_kib  server_cpu  verdict
rep -1 is the warm-up: not timed, but its verdict counts.  Exits 1 when
any result was wrong (FAILED), never because of a time.
"""
import json
import statistics
import sys


def fmt_s(x):
    return "%.3f s" % x if x < 10 else "%.1f s" % x


def fmt_rate(nbytes, secs):
    if not nbytes or not secs:
        return ""
    rate = nbytes / secs
    return "%.2f GB/s" % (rate / 1e9) if rate >= 1e9 else "%.1f MB/s" % (rate / 1e6)


def main(argv):
    records, out, machine = argv[1], argv[2], argv[3]
    scen, order, rows = {}, [], {}
    for line in open(records):
        f = line.rstrip("\n").split("\t")
        if f[0] == "S":
            scen[f[1]] = {"scenario": f[1], "description": f[2], "bytes": int(f[3]), "rows": []}
            order.append(f[1])
        elif f[0] == "R":
            r = {"tool": f[2], "role": f[3], "command": f[4], "note": f[5], "runs": []}
            scen[f[1]]["rows"].append(r)
            rows[(f[1], f[2])] = r
        elif f[0] == "X":
            rows[(f[1], f[2])]["runs"].append({
                "rep": int(f[3]), "wall_s": float(f[4]), "cpu_s": float(f[5]),
                "rss_kib": int(f[6]), "server_cpu_s": float(f[7]), "verdict": f[8]})
    failed = False
    for s in scen.values():
        for r in s["rows"]:
            timed = [x for x in r["runs"] if x["rep"] >= 0 and x["verdict"] == "ok"]
            bad = [x["verdict"] for x in r["runs"] if x["verdict"].startswith("FAILED")]
            if r["role"] == "skipped":
                r["status"] = "skipped"
            elif bad:
                r["status"] = bad[0]
                failed = True
            elif any(x["verdict"] == "timeout" for x in r["runs"]):
                r["status"] = "timeout"
            elif not timed:
                r["status"] = "no runs"
            else:
                r["status"] = "ok"
            r["median_s"] = r["min_s"] = r["max_s"] = None
            if r["status"] == "ok":
                walls = [x["wall_s"] for x in timed]
                r["median_s"] = statistics.median(walls)
                r["min_s"], r["max_s"] = min(walls), max(walls)
                r["cpu_s"] = statistics.median(x["cpu_s"] for x in timed)
                r["server_cpu_s"] = statistics.median(x["server_cpu_s"] for x in timed)
                r["rss_kib"] = max(x["rss_kib"] for x in timed)
            elif r["status"] == "timeout":
                r["min_s"] = max(x["wall_s"] for x in r["runs"])
        ours = [r for r in s["rows"] if r["role"] == "ours" and r["status"] == "ok"]
        for r in s["rows"]:
            r["ratio"] = None
            if r["role"] != "theirs" or not ours:
                continue
            if r["status"] == "ok":
                r["ratio"] = ours[0]["median_s"] / r["median_s"]
            elif r["status"] == "timeout":
                # Theirs did not finish: ours/theirs is below this bound.
                r["ratio_below"] = ours[0]["median_s"] / r["min_s"]

    head = ("scenario", "tool", "median", "min–max", "CPU", "srv CPU", "RSS", "rate", "ours/this")
    table = [(head, False)]
    for name in order:
        s = scen[name]
        for r in s["rows"]:
            st = r["status"]
            if st == "ok":
                cells = (fmt_s(r["median_s"]), "%.3f–%.3f" % (r["min_s"], r["max_s"]),
                         fmt_s(r["cpu_s"]), fmt_s(r["server_cpu_s"]) if r["server_cpu_s"] else "",
                         "%d MiB" % round(r["rss_kib"] / 1024), fmt_rate(s["bytes"], r["median_s"]),
                         "%.2f" % r["ratio"] if r["ratio"] is not None else "")
            elif st == "timeout":
                cells = ("> " + fmt_s(r["min_s"]), "timeout", "", "", "", "",
                         "< %.3f" % r["ratio_below"] if "ratio_below" in r else "")
            else:
                table.append(((name, r["tool"], r["note"] if st == "skipped" else st), True))
                continue
            table.append(((name, r["tool"]) + cells, False))
    width = [max(len(row[i]) for row, msg in table if not msg or i < 2) for i in range(len(head))]
    for i, (row, msg) in enumerate(table):
        cells = [c.ljust(width[j]) if j < 2 or msg else c.rjust(width[j]) for j, c in enumerate(row)]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in width))
    print("machine: " + machine)
    with open(out, "w") as f:
        json.dump({"machine": machine, "scenarios": [scen[n] for n in order]}, f, indent=1)
        f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

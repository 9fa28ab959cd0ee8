#!/usr/bin/env python3
"""Prints tests/bench/run's table from its raw results (one line per client run, tab separated:
scenario client run ok wall user sys rss_kib requests connections resumed extra anon_kib)."""
import statistics
import sys

results, ncores, runs, quick = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"

TITLES = {
    "a": "(a) GET 1 KiB over 50 keep-alive connections",
    "b": "(b) GET 1 KiB, a full TLS handshake each (no keep-alive, no resumption), 10 at once",
    "c": "(c) GET 1 KiB, reconnecting each time with session resumption allowed, 10 at once",
    "d": "(d) one 100 MiB download",
    "e": "(e) mutual-TLS POST /topics/topic?qos=1, one keep-alive connection",
    "f": "(f) edgeloop_bench as (a) with a 2 ms blinker on the same io_context",
    "g": "(g) a million URLs (GET 1 KiB) from a file, 50 keep-alive connections (multi_fetch_1k: 1000 of them)",
    "h": "(h) (a)'s URLs on a pipe into stdin (-K -), 50 keep-alive connections",
    "i": "(i) one-shot mutual-TLS publish (aws_post --count 1, a process each): key in a file, PKCS#11, TPM",
    "j": "(j) GET 1 KiB through squid (-x, CONNECT tunnels), 10 keep-alive tunnels",
    "k": "(k) one-shot mutual-TLS publish, a process each (aws_post --count 1; curl and libcurl the same POST)",
    "kf": "(k) one-shot fetch, a process each (multi_fetch with one URL; curl and libcurl the same GET)",
    "l": "(l) --limit-rate 1M: one 10 MiB download at 1 MiB/s (~10 s)",
    "m": "(m) --limit-rate 1M: one 10 MiB upload (PUT -T) at 1 MiB/s (~10 s)",
}
OURS = ["edgeloop_bench", "multi_fetch", "multi_fetch_1k", "aws_post", "blinker_idle", "aws_post_file",
        "aws_post_pkcs11", "aws_post_tpm"]
PEERS = ["libcurl_multi_ref", "curl", "h2load"]
LABEL = {"h2load": "h2load --h1 *", "curl": "curl CLI", "blinker_idle": "blinker alone"}

rows = []
with open(results) as f:
    for line in f:
        p = line.rstrip("\n").split("\t")
        if len(p) < 12:
            continue
        r = dict(scen=p[0], client=p[1], run=int(p[2]), ok=p[3] == "1", wall=float(p[4] or "nan"),
                 cpu=float(p[5] or "nan") + float(p[6] or "nan"), rss=int(p[7] or 0) / 1024.0, n=int(p[8]),
                 conns=int(p[9]), resumed=int(p[10]), extra=p[11],
                 anon=int(p[12]) / 1024.0 if len(p) > 12 and p[12].isdigit() and int(p[12]) > 0 else float("nan"))
        r["cpu_us"] = r["cpu"] / r["n"] * 1e6 if r["n"] else float("nan")
        r["rate"] = r["n"] / r["wall"] if r["wall"] > 0 and r["n"] else float("nan")
        if r["scen"] == "d":
            r["rate"] = 100.0 / r["wall"] if r["wall"] > 0 else float("nan")  # MiB/s
        rows.append(r)


def rows_n(scen, client):
    rs = runs_of(scen, client)
    return rs[0]["n"] if rs else 0


def runs_of(scen, client):
    return sorted((r for r in rows if r["scen"] == scen and r["client"] == client), key=lambda r: r["run"])


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt(xs, digits):
    xs = [x for x in xs if x == x]
    if not xs:
        return "-"
    return f"{med(xs):.{digits}f} [{min(xs):.{digits}f}-{max(xs):.{digits}f}]"


def ratios(scen, a, b, key):
    """Per-run ratio a/b (same run number: measured side by side)."""
    rb = {r["run"]: r for r in runs_of(scen, b)}
    return [r[key] / rb[r["run"]][key] for r in runs_of(scen, a) if r["run"] in rb and rb[r["run"]][key] > 0]


verdicts = []


def target(name, value, ok, detail):
    verdicts.append(f"  {'PASS' if ok else 'MISS'}  {name}: {detail}")


def info(name, detail):
    verdicts.append(f"  INFO  {name}: {detail}")


print()
print(f"edgeloop benchmark: {runs} runs per client, alternating; nginx 1 worker"
      + (" on core 0, clients on core 1" if ncores >= 2 else " (one core: no pinning)")
      + (" -- QUICK (a tenth of the requests; not a measurement)" if quick else ""))
print("Figures: median [min-max] over runs. CPU = client user+sys per request (main figure: nginx is the"
      " bottleneck);\nrate = requests/s from wall time (d: MiB/s); RSS = client peak resident set; anon = its peak"
      " anonymous part\n(RSS without the shared libraries' pages, sampled every 2 ms). Ratios: ours/peer per run,"
      " median [min-max].")
any_failed = False
for scen in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "kf", "l", "m"]:
    clients = [c for c in OURS + PEERS if runs_of(scen, c)]
    if not clients:
        continue
    n = runs_of(scen, clients[0])[0]["n"]
    print()
    print(f"{TITLES[scen]}: {n} request{'s' if n > 1 else ''}")
    print(f"  {'client':<20}{'CPU us/req':>24}{'wall s':>26}{'rate':>26}{'RSS MiB':>22}{'anon MiB':>20}"
          "  conns  resumed  ok")
    for c in clients:
        rs = runs_of(scen, c)
        okc = sum(r["ok"] for r in rs)
        any_failed |= okc != len(rs)
        print(f"  {LABEL.get(c, c):<20}{fmt([r['cpu_us'] for r in rs], 1):>24}{fmt([r['wall'] for r in rs], 2):>26}"
              f"{fmt([r['rate'] for r in rs], 0 if scen != 'd' else 1):>26}{fmt([r['rss'] for r in rs], 1):>22}"
              f"{fmt([r['anon'] for r in rs], 1):>20}"
              f"  {med([r['conns'] for r in rs]):>5.0f}  {med([r['resumed'] for r in rs]):>7.0f}"
              f"  {okc}/{len(rs)}{'' if okc == len(rs) else ' FAILED'}")
    for o in OURS:
        if not runs_of(scen, o) or o in ("blinker_idle", "multi_fetch_1k"):
            continue
        for p in PEERS:
            if not runs_of(scen, p):
                continue
            print(f"  {o} / {LABEL.get(p, p)}: CPU {fmt(ratios(scen, o, p, 'cpu_us'), 2)}"
                  f"  rate {fmt(ratios(scen, o, p, 'rate'), 2)}  RSS {fmt(ratios(scen, o, p, 'rss'), 2)}"
                  f"  anon {fmt(ratios(scen, o, p, 'anon'), 2)}")
    if scen == "f":
        for c, what in (("edgeloop_bench", "during (a)"), ("blinker_idle", "alone (timer noise of the machine)")):
            lat = [tuple(int(x) for x in r["extra"].split(",")) for r in runs_of("f", c) if r["extra"] != "-"]
            if not lat:
                continue
            print(f"  2 ms blinker lateness us {what}: p50 {fmt([l[0] for l in lat], 0)}"
                  f"  p99 {fmt([l[1] for l in lat], 0)}  max {fmt([l[2] for l in lat], 0)}")
            if c == "edgeloop_bench":
                p99 = med([l[1] for l in lat])
                target("blinker lateness p99 <= 1 ms during (a)", p99, p99 <= 1000,
                       f"median p99 {p99 / 1000:.3f} ms")
    if any(runs_of(scen, "h2load")):
        print("  * h2load does not verify the server certificate (no CA option); every other client does.")

    def ratio_target(name, a, b, key, limit, higher_is_better):
        xs = ratios(scen, a, b, key)
        if xs:
            m = med(xs)
            target(name, m, m >= limit if higher_is_better else m <= limit, f"{m:.2f}x (median of {len(xs)} runs)")

    if scen == "a":
        ratio_target("client CPU per keep-alive request <= 0.5x libcurl ref", "edgeloop_bench",
                     "libcurl_multi_ref", "cpu_us", 0.5, False)
        ratio_target("peak RSS with 50 connections <= 0.6x libcurl ref", "edgeloop_bench", "libcurl_multi_ref",
                     "rss", 0.6, False)
        xs = [x for x in ratios(scen, "edgeloop_bench", "libcurl_multi_ref", "anon") if x == x]
        if xs:
            info("peak anonymous memory with 50 connections (RSS without shared-library pages), vs libcurl ref",
                 f"{med(xs):.2f}x (median of {len(xs)} runs)")
        ratio_target("multi_fetch peak RSS on 20000 URLs <= 0.8x curl -Z's", "multi_fetch", "curl", "rss", 0.8,
                     False)
    if scen == "g":
        xs = ratios(scen, "multi_fetch", "multi_fetch_1k", "rss")
        if xs:
            print(f"  multi_fetch {rows_n(scen, 'multi_fetch')} URLs / {rows_n(scen, 'multi_fetch_1k')} URLs: "
                  f"RSS {fmt(xs, 2)}")
        ratio_target("multi_fetch peak RSS with 1,000,000 URLs <= 1.2x with 1,000", "multi_fetch", "multi_fetch_1k",
                     "rss", 1.2, False)
    if scen == "i":
        for c in ("aws_post_pkcs11", "aws_post_tpm"):
            if runs_of(scen, c):
                print(f"  {c} / aws_post_file: CPU {fmt(ratios(scen, c, 'aws_post_file', 'cpu_us'), 2)}"
                      f"  wall {fmt(ratios(scen, c, 'aws_post_file', 'wall'), 2)}")
    if scen == "h":
        ratio_target("multi_fetch peak RSS, URLs on stdin, <= 0.8x curl -Z's (-K -)", "multi_fetch", "curl", "rss",
                     0.8, False)
    if scen == "b":
        ratio_target("CPU per full handshake <= 0.65x libcurl ref (server verified)", "edgeloop_bench",
                     "libcurl_multi_ref", "cpu_us", 0.65, False)
    if scen == "c":
        ref = med([r["resumed"] for r in runs_of("c", "libcurl_multi_ref")])
        for c in ("edgeloop_bench", "multi_fetch"):
            rs = runs_of("c", c)
            if rs:
                n = rs[0]["n"]
                got = med([r["resumed"] for r in rs])
                # The first connections (10 at once) cannot resume: nothing is cached yet.
                target(f"reconnects resume sessions by default ({c})", got, got >= 0.95 * (n - 10),
                       f"median {got:.0f} of {n} requests on resumed sessions (nginx $ssl_session_reused;"
                       f" libcurl ref {ref:.0f})")
    if scen == "d":
        ratio_target("100 MiB download rate >= 1.0x curl (multi_fetch vs curl CLI)", "multi_fetch", "curl", "rate",
                     1.0, True)
    if scen == "k":
        ratio_target("one-shot publish CPU <= 0.7x the curl CLI's", "aws_post", "curl", "cpu_us", 0.7, False)
        rss = med([r["rss"] for r in runs_of(scen, "aws_post")])
        if rss == rss:
            target("one-shot publish peak RSS <= 7 MiB", rss, rss <= 7.0, f"{rss:.1f} MiB (median)")
    if scen in ("l", "m"):
        for c in ("multi_fetch", "curl"):
            got = [tuple(float(x) for x in r["extra"].split(",")) for r in runs_of(scen, c) if r["extra"] != "-"]
            if not got:
                continue
            achieved = [size / secs / asked for size, secs, asked in got]
            print(f"  {LABEL.get(c, c)}: achieved {fmt([size / secs / 1024 for size, secs, _ in got], 1)} KiB/s"
                  f" of {got[0][2] / 1024:.0f}; achieved / asked {fmt(achieved, 3)}")
            within = all(abs(x - 1) <= 0.10 for x in achieved)
            what = "download" if scen == "l" else "upload"
            target(f"--limit-rate holds within 10 % over ~10 s ({what}, {c})", med(achieved), within,
                   f"achieved / asked {min(achieved):.3f}-{max(achieved):.3f} over {len(achieved)} runs")
    if scen == "e":
        ratio_target("mTLS keep-alive POST rate >= 1.2x libcurl ref", "edgeloop_bench", "libcurl_multi_ref", "rate",
                     1.2, True)

print()
print("Targets:")
print("\n".join(verdicts) if verdicts else "  (none measured)")
if any_failed:
    print("\nSOME CLIENT RUNS FAILED: their figures are not comparable (see the messages above).")

"""Check the decision gold set. Prints problems; exits 1 if any."""

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pymupdf

PAPERS = str(Path(__file__).resolve().parents[3] / "shared" / "corpus" / "papers") + "/"
HERE = Path(__file__).resolve().parent
STATUSES = {"resolved", "noted", "not agreed", "deferred", "referred", "requested", "scheduled"}
KEYS = ("meeting_date", "minute", "point", "status", "printed_page")
problems = []
_docs = {}


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def page(pack, pno):
    if pack not in _docs:
        _docs[pack] = pymupdf.open(PAPERS + pack)
    d = _docs[pack]
    return d[pno - 1].get_text() if 1 <= pno <= len(d) else ""


def strip_footer(t):
    return re.sub(r"\n\s*Page \d+\s*$", "\n", t.rstrip())


def load(name):
    return [json.loads(line) for line in open(HERE / name) if line.strip()]


points = load("points.jsonl")
topics = load("topics.jsonl")
questions = load("questions.jsonl")

# ---- points ----
FIELDS = [
    "meeting_date",
    "pack",
    "minute",
    "minute_title",
    "point",
    "status",
    "pdf_page",
    "printed_page",
    "text",
    "preamble",
]
for n, p in enumerate(points, 1):
    where = f"points line {n} ({p.get('meeting_date')} min {p.get('minute')} pt {p.get('point')!r})"
    if list(p) != FIELDS:
        problems.append(f"{where}: fields {list(p)}")
        continue
    if p["status"] not in STATUSES:
        problems.append(f"{where}: bad status {p['status']!r}")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", p["meeting_date"]):
        problems.append(f"{where}: bad date")
    here = page(p["pack"], p["pdf_page"])
    if not here:
        problems.append(f"{where}: no such page")
        continue
    text = norm(p["text"])
    on_page = text in norm(here)
    runs_on = text in norm(strip_footer(here) + "\n" + page(p["pack"], p["pdf_page"] + 1))
    starts_here = runs_on and norm(here).find(text[:60]) >= 0
    if not (on_page or starts_here):
        problems.append(f"{where}: text not found on pdf page {p['pdf_page']}")
    foot = re.findall(r"^\s*Page (\d+)\s*$", here, re.M)
    if not foot or foot[-1] != p["printed_page"]:
        problems.append(f"{where}: printed_page {p['printed_page']!r} but footer {foot}")
    # minute heading "N. Title" must appear in the minutes pages (pdf pages 5-16)
    mins = norm(" ".join(page(p["pack"], i) for i in range(5, 17)))
    if norm(f"{p['minute']}. {p['minute_title']}") not in mins:
        problems.append(f"{where}: minute heading not found: {p['minute']}. {p['minute_title']}")
    if p["preamble"]:
        around = norm(page(p["pack"], p["pdf_page"] - 1) + " " + here)
        if norm(p["preamble"]) not in around:
            problems.append(f"{where}: preamble not found")
    if "Minutes of the Meeting" not in norm(page(p["pack"], 5)):
        problems.append(f"{where}: pdf page 5 is not the minutes heading")
    else:
        m = re.search(r"held on (\d+) (\w+) (\d{4})", norm(page(p["pack"], 5)))
        import datetime

        d = datetime.datetime.strptime(" ".join(m.groups()), "%d %B %Y").date().isoformat()
        if d != p["meeting_date"]:
            problems.append(f"{where}: meeting_date {p['meeting_date']} but heading says {d}")

index = defaultdict(list)
for p in points:
    index[tuple(p[k] for k in KEYS)].append(p)
dups = {k: len(v) for k, v in index.items() if len(v) > 1}

# ---- topics ----
if len(topics) < 16:
    problems.append(f"only {len(topics)} topics")
bm = sum(t["by_meaning"] for t in topics)
if bm < 5:
    problems.append(f"only {bm} by_meaning topics")
if len(topics) - bm < 8:
    problems.append("fewer than 8 topics using the minutes' words")
if sum(t["none_expected"] for t in topics) < 3:
    problems.append("fewer than 3 none_expected topics")
multi = 0
covered = set()
for n, t in enumerate(topics, 1):
    if t["id"] != f"dt{n:02d}":
        problems.append(f"topic {n}: id {t['id']}")
    if set(t) - {"split"} != {"id", "topic", "by_meaning", "entries", "none_expected", "notes"}:
        problems.append(f"{t['id']}: fields {sorted(t)}")
    if t["none_expected"] != (t["entries"] == []):
        problems.append(f"{t['id']}: none_expected inconsistent with entries")
    for e in t["entries"]:
        if set(e) != set(KEYS) or tuple(e[k] for k in KEYS) not in index:
            problems.append(f"{t['id']}: entry not in points.jsonl: {e}")
    dates = {e["meeting_date"] for e in t["entries"]}
    covered |= dates
    multi += len(dates) >= 2
if multi < 3:
    problems.append(f"only {multi} topics span two or more meetings")
all_dates = {p["meeting_date"] for p in points}
if covered != all_dates:
    problems.append(f"topics miss meetings {all_dates - covered}")

# ---- questions ----
if len(questions) < 14:
    problems.append(f"only {len(questions)} questions")
qdates, multi_pt, neg = set(), set(), 0
for n, q in enumerate(questions, 1):
    if q["id"] != f"dq{n:02d}":
        problems.append(f"question {n}: id {q['id']}")
    want = [p for p in points if p["meeting_date"] == q["meeting_date"] and p["minute"] == q["minute"]]
    if not want:
        problems.append(f"{q['id']}: no points for minute {q['minute']} of {q['meeting_date']}")
        continue
    if q["points"] != [p["text"] for p in want]:
        problems.append(f"{q['id']}: points differ from points.jsonl")
    if q["statuses"] != [p["status"] for p in want]:
        problems.append(f"{q['id']}: statuses differ from points.jsonl")
    qdates.add(q["meeting_date"])
    if len(want) >= 2:
        multi_pt.add((q["meeting_date"], q["minute"]))
    neg += any(s in ("deferred", "not agreed") for s in q["statuses"])
if qdates != all_dates:
    problems.append(f"questions miss meetings {all_dates - qdates}")
if len(multi_pt) < 4:
    problems.append("fewer than 4 question minutes with two or more points")
if neg < 2:
    problems.append("fewer than 2 questions on deferred / not agreed minutes")

# ---- report ----
print("points per meeting:", dict(sorted(Counter(p["meeting_date"] for p in points).items())))
print(
    f"{len(topics)} topics ({bm} by_meaning, {sum(t['none_expected'] for t in topics)} none_expected, "
    f"{multi} multi-meeting); {len(questions)} questions"
)
if dups:
    print("note: entry keys shared by several points (unnumbered points, same status/page):")
    for k, c in dups.items():
        print("   ", c, "x", k)
for pr in problems:
    print("PROBLEM:", pr)
print("OK, no problems" if not problems else f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)

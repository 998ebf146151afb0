"""Check a blind gold file: python /work/blind/check.py FILE.jsonl

Every line must be a JSON object with the fields described in /work/blind/SCHEMA.md. This checks:
- required fields and allowed values;
- every quote (and every `nearest` quote) is printed on the page it names (whitespace-insensitive, ligatures
  spelled out, hyphen+line-break joins ignored);
- every `expected` page exists;
- for hard negatives, no `missing` string occurs anywhere in any of the five PDFs (case-insensitive,
  whitespace-insensitive).
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path

import pymupdf

PAPERS = Path("/work/shared/corpus/papers")
KINDS = {"decision", "figure", "person", "date", "cross", "general", "unanswerable"}
TYPES = {"number", "person", "date", "place", "decision", "reason", "yes_no", "findings", "list", "other"}
LIG = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\u00ad": "",
                     "\u00a0": " ", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def flat(text: str) -> str:
    text = " ".join(text.translate(LIG).split())
    return re.sub(r"(?<=[A-Za-z])-\s*(?=[a-z])", "", text)


@lru_cache(maxsize=None)
def pages(file: str) -> list[str]:
    with pymupdf.open(PAPERS / file) as pdf:
        return [flat(page.get_text()) for page in pdf]


def on_page(quote: dict) -> bool:
    texts = pages(quote["file"])
    return 1 <= quote["page"] <= len(texts) and flat(quote["text"]) in texts[quote["page"] - 1]


def main(path: str) -> int:
    errors = 0
    files = {p.name for p in PAPERS.glob("*.pdf")}
    everything = " ".join(t.lower() for f in sorted(files) for t in pages(f))
    ids = set()
    for n, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        problems = []
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"line {n}: not JSON ({exc})")
            errors += 1
            continue
        for key in ("id", "question", "answerable", "kind", "answer_type", "hard_negative", "recency"):
            if key not in q:
                problems.append(f"missing field {key}")
        if q.get("id") in ids:
            problems.append("duplicate id")
        ids.add(q.get("id"))
        if q.get("kind") not in KINDS:
            problems.append(f"kind {q.get('kind')!r} not one of {sorted(KINDS)}")
        if q.get("answer_type") not in TYPES:
            problems.append(f"answer_type {q.get('answer_type')!r} not one of {sorted(TYPES)}")
        for quote in q.get("quotes", []) + q.get("nearest", []):
            if quote.get("file") not in files:
                problems.append(f"no such file {quote.get('file')!r}")
            elif not on_page(quote):
                problems.append(f"quote not on {quote['file'][:30]} p{quote['page']}: {quote['text'][:60]!r}")
        for e in q.get("expected", []):
            if e.get("file") not in files or not all(1 <= p <= len(pages(e["file"])) for p in e.get("pages", [])):
                problems.append(f"bad expected {e}")
        if q.get("answerable"):
            if not q.get("expected") or not q.get("quotes") or not q.get("must_contain"):
                problems.append("answerable needs expected, quotes and must_contain")
            if q.get("hard_negative"):
                problems.append("a hard negative is not answerable")
        else:
            if q.get("kind") != "unanswerable":
                problems.append("unanswerable questions have kind 'unanswerable'")
        if q.get("hard_negative"):
            if not q.get("missing") or not q.get("nearest"):
                problems.append("hard negative needs missing and nearest")
            for m in q.get("missing", []):
                if " ".join(m.lower().split()) in everything:
                    problems.append(f"missing specific {m!r} IS printed in the papers")
        for p in problems:
            print(f"line {n} ({q.get('id')}): {p}")
        errors += bool(problems)
    print(f"{n} lines, {errors} with problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

#!/usr/bin/env python3
"""One table from the RESULT lines of bench/RlhfSharp.Bench (--ours) and bench/pytorch_twin.py (--twin).

Columns: card, line, RlhfSharp, PyTorch, ratio. A measurement line pairs the two programs' values of the same name;
ratio > 1 means RlhfSharp is faster (tokens/s: ours / theirs; ms and s: theirs / ours). A check line (PASS, FAIL,
SKIP) shows its status and detail. Exit status 1 when any line failed. Standard library only.
"""
import argparse
import json
import sys


def read(path):
    rows = []
    try:
        with open(path) as f:
            for n, text in enumerate(f, 1):
                text = text.strip()
                if not text:
                    continue
                try:
                    rows.append(json.loads(text))
                except json.JSONDecodeError:
                    rows.append({"line": f"{path}:{n}", "status": "FAIL", "detail": "unreadable result: " + text[:80]})
    except FileNotFoundError:
        pass
    return rows


def fmt(row):
    if row is None:
        return "-"
    if "status" in row:
        return f"{row['status']}: {row.get('detail', '')}".rstrip(": ")
    v, unit = row["value"], row["unit"]
    return f"{v:,.1f} {unit}" if unit == "tokens/s" else f"{v:.3f} {unit}" if unit == "s" else f"{v:.1f} {unit}"


def ratio(ours, twin):
    if not ours or not twin or "value" not in ours or "value" not in twin or ours["unit"] != twin["unit"]:
        return "-"
    a, b = ours["value"], twin["value"]
    if a <= 0 or b <= 0:
        return "-"
    return f"{(a / b if ours['unit'] == 'tokens/s' else b / a):.2f}x"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--card", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--twin", required=True)
    p.add_argument("--note", default="")
    args = p.parse_args()
    ours, twin = read(args.ours), read(args.twin)
    twin_by_line = {r["line"]: r for r in twin}
    cell = lambda s: str(s).replace("|", "/")
    print(f"| card | line | RlhfSharp | PyTorch | ratio |")
    print(f"|---|---|---|---|---|")
    seen = set()
    for r in ours:
        t = twin_by_line.get(r["line"]) if "value" in r or r["line"] in twin_by_line else None
        seen.add(r["line"])
        print(f"| {cell(args.card)} | {cell(r['line'])} | {cell(fmt(r))} | {cell(fmt(t))} | {ratio(r, t)} |")
    for r in twin:
        if r["line"] not in seen:
            print(f"| {cell(args.card)} | {cell(r['line'])} | - | {cell(fmt(r))} | - |")
    if args.note:
        print(f"\n{args.note}")
    failed = [r["line"] for r in ours + twin if r.get("status") == "FAIL"]
    if failed:
        print(f"\nFAILED: {'; '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

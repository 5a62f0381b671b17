"""Print intent accuracy / weighted F1 from `rasa test nlu` results; fail below --min."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    """Read intent_report.json and the errors file, print a summary."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results", type=Path)
    ap.add_argument("--min", type=float, default=0.95)
    args = ap.parse_args()
    report = json.loads((args.results / "intent_report.json").read_text(encoding="utf-8"))
    accuracy = report["accuracy"]
    weighted = report["weighted avg"]["f1-score"]
    print(f"intent accuracy = {accuracy:.3f}   weighted F1 = {weighted:.3f}   (minimum {args.min})")
    for name, row in sorted(report.items()):
        if (
            isinstance(row, dict)
            and "support" in row
            and name not in ("macro avg", "weighted avg", "micro avg")
        ):
            print(f"  {name:28s} f1 {row['f1-score']:.2f}  n={row['support']}")
    errors = args.results / "intent_errors.json"
    if errors.is_file():
        for e in json.loads(errors.read_text(encoding="utf-8"))[:30]:
            print(f"  error: {e['text']!r}: {e['intent']} -> {e['intent_prediction']['name']}")
    entity = args.results / "DIETClassifier_report.json"
    if entity.is_file():
        rep = json.loads(entity.read_text(encoding="utf-8"))
        print(f"entity weighted F1 (DIET) = {rep['weighted avg']['f1-score']:.3f}")
    return 0 if max(accuracy, weighted) >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())

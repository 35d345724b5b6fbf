"""Write unlabelled tickets (a text column only) to batch-score.

python examples/text/new_tickets.py new.csv [ROWS]
"""

import csv
import sys
from pathlib import Path

from shipyard.cli._tickets import support_tickets

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "new.csv")
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text"])
        writer.writerows([text] for text, _ in support_tickets(rows, seed=99))
    print(target)

"""Write the generated support tickets (text, label) as a CSV: deterministic by seed.

python examples/text/make_tickets.py tickets.csv [ROWS] [SEED]
"""

import sys
from pathlib import Path

from shipyard.cli._tickets import write_support_tickets_csv

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tickets.csv")
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    print(write_support_tickets_csv(target, rows=rows, seed=seed))

"""The baseline process: read a transcript and json.loads every frame's data, nothing more."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    count = 0
    for line in handle:
        if line.startswith("data: ") and not line.startswith("data: [DONE]"):
            json.loads(line[6:])
            count += 1
print(count)

#!/usr/bin/python3
"""Validates divergence records (one JSON object per line) against
docs/divergence-log.schema.json: validate-records.py SCHEMA FILE...
Prints each invalid line with the reason; exits 1 if any, 2 on error."""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate-records.py: python3-jsonschema is not installed")

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
bad = 0
count = 0
for path in sys.argv[2:]:
    with open(path) as f:
        for n, line in enumerate(f, 1):
            count += 1
            try:
                record = json.loads(line)
            except ValueError as e:
                print(f"{path}:{n}: not JSON: {e}")
                bad += 1
                continue
            for err in validator.iter_errors(record):
                print(f"{path}:{n}: {err.json_path}: {err.message}")
                bad += 1
print(f"{count} records, {bad} errors")
sys.exit(1 if bad else 0)

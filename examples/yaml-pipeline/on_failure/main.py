"""Batch stage run only when another stage fails (pipeline.run_on_failure): reports the failure."""
import os

print(f'the pipeline failed: {os.environ.get("EXCEPTION_MESSAGE", "(no EXCEPTION_MESSAGE given)")}')

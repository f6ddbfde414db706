#!/usr/bin/env python3
"""Scrapes a webman-push /metrics page and parses it with prometheus_client's text parser.

Usage: metrics_scrape.py URL [BEARER_TOKEN]
Prints one JSON line: {"families": {name: type}, "samples": [{"name", "labels", "value"}]}.
A page the parser refuses makes it exit 1 with {"error": ...}, so a malformed page fails the test.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    url = sys.argv[1]
    request = urllib.request.Request(url)
    if len(sys.argv) > 2:
        request.add_header("Authorization", f"Bearer {sys.argv[2]}")
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode("utf-8")
    families, samples = {}, []
    try:
        for family in text_string_to_metric_families(page):
            families[family.name] = family.type
            for s in family.samples:
                samples.append({"name": s.name, "labels": s.labels, "value": s.value})
    except Exception as e:  # the parser's errors are plain ValueErrors and the like
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
    print(json.dumps({"families": families, "samples": samples}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Lists the public symbols of the package's own sources that have no `///` comment, and the
top-level symbols no landing page curates.

Reads the symbol graphs `swift package generate-documentation` extracted (one folder per
module under .build/<triple>/extracted-symbols/) and prints each public symbol that is declared
in the package's `Sources/` but has no documentation comment.  A member that implements a
protocol requirement (DocC shows the protocol's documentation) and compiler-synthesised members
(no source location) are not counted.  When the documentation was generated with
`--experimental-documentation-coverage`, it also lists every top-level symbol that no topic
group of the module's landing page names (DocC would file it under an automatic group).
Exits 1 when any symbol is listed.

Usage: scripts/undocumented-symbols.py MODULE [MODULE …]
"""
import glob
import json
import os
import sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
modules = sys.argv[1:]
if not modules:
    sys.exit(__doc__)
missing = []
for module in modules:
    graphs = glob.glob(os.path.join(root, ".build", "*", "extracted-symbols", "*", module, "*.symbols.json"))
    if not graphs:
        sys.exit(f"error: no symbol graph for {module}; run generate-documentation --target {module} first")
    for path in graphs:
        for symbol in json.load(open(path))["symbols"]:
            if symbol.get("accessLevel") not in ("public", "open") or "docComment" in symbol:
                continue
            if "sourceOrigin" in symbol:  # a protocol requirement's implementation
                continue
            if symbol["kind"]["identifier"] == "swift.extension":  # DocC shows no extension comment
                continue
            uri = symbol.get("location", {}).get("uri", "")
            if "/Sources/" not in uri:
                continue
            file = uri.split("/Sources/", 1)[1]
            line = symbol["location"]["position"]["line"] + 1
            name = ".".join(symbol["pathComponents"])
            missing.append(f"Sources/{file}:{line}: {name} ({symbol['kind']['displayName']}) has no documentation")
    coverage = os.path.join(root, ".build", "plugins", "Swift-DocC", "outputs", f"{module}.doccarchive",
                            "documentation-coverage.json")
    if os.path.exists(coverage):
        prefix = f"/documentation/{module}/"
        for entry in json.load(open(coverage)):
            path = entry["referencePath"].split(prefix, 1)
            if len(path) == 2 and "/" not in path[1] and entry["kind"]["isSymbol"] and not entry["isCurated"]:
                missing.append(f"{module}: {path[1]} is in no topic group of the landing page")
for line in sorted(set(missing)):
    print(line)
if missing:
    print(f"{len(set(missing))} public symbols without documentation or curation", file=sys.stderr)
    sys.exit(1)

#!/usr/bin/env python3
"""Lists the public symbols of the package's own sources that have no `///` comment, and the
top-level symbols no landing page curates.

Reads the symbol graphs `swift package generate-documentation` extracted (one folder per
module under .build/<triple>/extracted-symbols/) and prints each public symbol that is declared
in the package's `Sources/` but has no documentation comment.  A member that implements a
protocol requirement (DocC shows the protocol's documentation) and compiler-synthesised members
(no source location) are not counted.  When the module's archive exists (generate-documentation has run), it
also lists every top-level page that no topic group of the module's landing page names: DocC
files those under automatic groups, which the rendered landing page marks `generated`.
Exits 1 when any symbol is listed.

Usage: scripts/undocumented-symbols.py [--scratch-path DIR] MODULE [MODULE …]
(DIR: the build folder generate-documentation used, default .build)
"""
import glob
import json
import os
import sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
arguments = sys.argv[1:]
scratch = os.path.join(root, ".build")
if arguments[:1] == ["--scratch-path"] and len(arguments) > 1:
    scratch = os.path.abspath(arguments[1])
    arguments = arguments[2:]
modules = arguments
if not modules:
    sys.exit(__doc__)
missing = []
for module in modules:
    graphs = glob.glob(os.path.join(scratch, "*", "extracted-symbols", "*", module, "*.symbols.json"))
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
    landing = os.path.join(scratch, "plugins", "Swift-DocC", "outputs", f"{module}.doccarchive", "data",
                           "documentation", f"{module.lower()}.json")
    if os.path.exists(landing):
        for section in json.load(open(landing)).get("topicSections", []):
            if section.get("generated"):
                for identifier in section["identifiers"]:
                    name = identifier.rsplit("/", 1)[-1]
                    missing.append(f"{module}: {name} is in no topic group of the landing page")
for line in sorted(set(missing)):
    print(line)
if missing:
    print(f"{len(set(missing))} public symbols without documentation or curation", file=sys.stderr)
    sys.exit(1)

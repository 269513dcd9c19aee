#!/usr/bin/env bash
# The DocC documentation of every library a user imports, built as `swift package
# generate-documentation` builds it, with warnings as errors (every link resolves, every
# parameter of a documented function is documented); then every public symbol must have a
# comment and every top-level symbol a topic group on its module's landing page
# (scripts/undocumented-symbols.py).  The articles' code is run by `swift test`
# (DocumentationArticleTests).
#
# Its own build folder, .build-docs (archives in .build-docs/plugins/Swift-DocC/outputs/):
# SwiftPM extracts symbols with every package trait on, MPI included (so Open MPI's headers
# must be installed, as .ci/run does), and sharing .build would rebuild the package each time
# `swift test` (no traits) and this script took turns.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(Softmax SoftmaxLayers SoftmaxTraining SoftmaxDistributed)
targets=()
for module in "${modules[@]}"; do targets+=(--target "$module"); done
scratch=.build-docs
swift package --scratch-path "$scratch" --disable-sandbox generate-documentation "${targets[@]}" \
    --warnings-as-errors
python3 scripts/undocumented-symbols.py --scratch-path "$scratch" "${modules[@]}"
echo "documentation: ${modules[*]} built with no warnings; every public symbol documented and curated"

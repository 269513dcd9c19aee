#!/usr/bin/env bash
# The DocC documentation of every library a user imports, built as `swift package
# generate-documentation` builds it, with warnings as errors (every link resolves, every
# parameter of a documented function is documented); then every public symbol must have a
# comment and every top-level symbol a topic group on its module's landing page
# (scripts/undocumented-symbols.py).  The articles' code is run by `swift test`
# (DocumentationArticleTests).  Archives land in .build/plugins/Swift-DocC/outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(Softmax SoftmaxLayers SoftmaxTraining SoftmaxDistributed)
targets=()
for module in "${modules[@]}"; do targets+=(--target "$module"); done
swift package --disable-sandbox generate-documentation "${targets[@]}" \
    --warnings-as-errors --experimental-documentation-coverage --coverage-summary-level none
python3 scripts/undocumented-symbols.py "${modules[@]}"
echo "documentation: ${modules[*]} built with no warnings; every public symbol documented and curated"

#!/usr/bin/env bash
# The test command: set up, run the whole test suite (optimised, since the soundness tests
# evaluate networks thousands of times), then the concurrency tests under ThreadSanitizer. The optimised test build also
# leaves .build/release/nnverify, which the command-line tests run.
# Tests that need ../shared skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --python
swift test -c release -Xswiftc -enable-testing
swift test --sanitize=thread --scratch-path .build-tsan --filter 'Concurren|Parallel'

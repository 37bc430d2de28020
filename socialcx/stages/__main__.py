"""``python -m socialcx.stages (write-sources | source-freshness OUTPUT.json | parse)``: see socialcx.stages.freshness."""

import sys

from socialcx.stages.freshness import main

main(sys.argv[1:])

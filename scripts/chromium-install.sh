#!/usr/bin/env bash
# chromium-install.sh: Debian's Chromium for the report's browser test
# (report.html rendered headless through the DevTools protocol, chromedp),
# with the fonts the plots name (gonum/plot SVGs ask for Liberation).
# As root; does nothing when the package is there, and runs apt-get update
# first when apt-get install fails (a fresh machine has no package lists).
# The test finds the browser at /usr/bin/chromium (or $PAGELAB_CHROMIUM).
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/liberation ]; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null 2>&1; then
	echo "chromium-install.sh: apt-get install failed; updating the package lists and trying again" >&2
	apt-get update >/dev/null
	apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null
fi
/usr/bin/chromium --version

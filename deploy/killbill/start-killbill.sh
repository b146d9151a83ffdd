#!/bin/bash
# Starts the official Kill Bill image with the hyperswitch-bridge plugin's global defaults in place.
#
# The plugin reads org.killbill.billing.plugin.hyperswitch-bridge.{url,secret} from Kill Bill's
# configuration. KB_* environment variables cannot carry them: the image starts Tomcat through
# /bin/sh (dash), which drops variables whose names contain '-'. So they go into killbill.properties,
# the file the image loads (-Dorg.killbill.server.properties), keeping whatever else it holds.
# A tenant's uploaded plugin config still overrides them.
set -euo pipefail

: "${HYPERSWITCH_BRIDGE_URL:?the bridge URL as Kill Bill reaches it, e.g. http://bridge-web:8787}"
: "${HYPERSWITCH_BRIDGE_SECRET:?the shared secret of X-Bridge-Signature (BRIDGE_PLUGIN_SHARED_SECRET)}"

install_dir="${KILLBILL_INSTALL_DIR:-/var/lib/killbill}"
properties="$install_dir/killbill.properties"
prefix="org.killbill.billing.plugin.hyperswitch-bridge."

umask 077
staged="$(mktemp "$install_dir/.killbill.properties.XXXXXX")"
if [[ -f "$properties" ]]; then
    grep -v -F "$prefix" "$properties" >"$staged" || true
fi
{
    echo "${prefix}url=${HYPERSWITCH_BRIDGE_URL}"
    echo "${prefix}secret=${HYPERSWITCH_BRIDGE_SECRET}"
} >>"$staged"
mv -f "$staged" "$properties"

exec "$install_dir/killbill.sh"

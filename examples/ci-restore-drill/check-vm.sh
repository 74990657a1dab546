#!/bin/sh
# Verify command of the web01 drill: the restored VM is known to the portal.
# Replace with what proves your service works (an HTTP check through the
# drill network, a database query...). It sees RESTORE_VM_ID,
# RESTORE_VM_NAME, RESTORE_ZONE_ID, RESTORE_TEMPLATE_ID, RESTORE_VOLUME_IDS.
set -eu
: "${RESTORE_VM_ID:?}" "${RESTORE_VOLUME_IDS:?}"
n=$(printf '%s\n' "$RESTORE_VOLUME_IDS" | tr ',' '\n' | grep -c .)
[ "$n" -ge 1 ] || { echo "no data volume attached to $RESTORE_VM_ID" >&2; exit 1; }
echo "VM $RESTORE_VM_NAME ($RESTORE_VM_ID) has $n data volume(s) in zone $RESTORE_ZONE_ID"

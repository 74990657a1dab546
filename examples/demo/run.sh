#!/usr/bin/env bash
# make demo: build backupctl, install it for terraform without any registry,
# apply examples/demo, show the result, destroy it. Everything it makes lives
# in one temporary directory, removed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d -t backupctl-demo.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

command -v terraform >/dev/null || { echo "demo: terraform is not on PATH" >&2; exit 1; }

step "Building the provider (offline)"
(cd "$root" && go build -o "$work/bin/terraform-provider-backupctl" .)

step "Installing it for terraform through a dev override (no registry)"
cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "backupctl/backupctl" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cp -r "$root/examples/demo" "$work/tf"
rm -f "$work/tf/run.sh"
cd "$work/tf"

step "terraform apply"
terraform apply -auto-approve -no-color 2>&1 | grep -v 'Warning: Provider development overrides' || true
terraform output -no-color host

step "terraform plan -detailed-exitcode (nothing changed: exit 0)"
set +e
terraform plan -detailed-exitcode -no-color >/dev/null 2>&1
code=$?
set -e
echo "plan exit code: $code"
[ "$code" = 0 ] || { echo "demo: unexpected plan exit code $code" >&2; exit 1; }

step "terraform destroy"
terraform destroy -auto-approve -no-color >/dev/null 2>&1
echo "destroyed"

step "Demo finished"

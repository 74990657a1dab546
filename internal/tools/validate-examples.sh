#!/usr/bin/env bash
# Checks every example directory with the provider binary given as $1:
# terraform fmt -check, then terraform validate offline through a dev override.
set -euo pipefail
bin=$(readlink -f "$1")
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "backupctl/backupctl" = "$(dirname "$bin")"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
fail=0; n=0
while IFS= read -r dir; do
  n=$((n+1))
  rel=${dir#"$root"/}
  t="$work/$n"; mkdir -p "$t"
  cp "$dir"/*.tf "$t"/
  if ! grep -qs 'required_providers' "$t"/*.tf; then
    printf 'terraform {\n  required_providers {\n    backupctl = { source = "backupctl/backupctl" }\n  }\n}\n' > "$t/zz_providers.tf"
  fi
  if ! out=$(cd "$t" && terraform validate -no-color 2>&1); then
    echo "examples: $rel: terraform validate failed:"; echo "$out"; fail=1
  fi
done < <(find "$root/examples" -name '*.tf' -printf '%h\n' | sort -u)
echo "examples: $n directories validated"
exit $fail

#!/usr/bin/env bash
# make demo: the whole backupctl story on this machine, offline.
#
#   build the provider and the emulators -> install the provider for terraform
#   through a dev override (no registry) -> start the lab (KCPS API emulator,
#   GDS command emulator, an sshd on 127.0.0.1 playing four servers) -> three
#   nightly backup runs with examples/demo -> drift made out of band, caught by
#   terraform plan -detailed-exitcode -> converge -> restore drill with its
#   RTO/RPO report -> destroy -> stop the lab.
#
# Everything lives in one temporary directory, removed at the end with every
# process started from it (also on Ctrl-C). BACKUPCTL_DEMO_FAST=1 shortens
# the emulated jobs (the end-to-end test uses it); BACKUPCTL_DEMO_LOGS=DIR
# keeps a copy of the whole terraform and emulator output there.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
demo_src="$root/examples/demo"
fast=${BACKUPCTL_DEMO_FAST:-}
kcps_scale=0.0005 # a 100 GB KCPS snapshot (3 h) takes 5.4 s
[ -n "$fast" ] && kcps_scale=0.0001

# ---- presentation ----
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' dim=$'\033[2m' reset=$'\033[0m' tf_color=()
else
  bold='' dim='' reset='' tf_color=(-no-color)
fi
step_no=0
step() { step_no=$((step_no + 1)); printf '\n%s==> %d. %s%s\n' "$bold" "$step_no" "$*" "$reset"; }
# said: what the operator would do by hand, and what backupctl does instead.
said() { printf '%s%s%s\n' "$dim" "$*" "$reset" | fold -s -w 100 | sed 's/^/    /'; }
# show indents, and writes the temporary directory as $DEMO.
show() { sed -e "s|${work:-/nonexistent}|\$DEMO|g" -e 's/^/    /'; }
die() { echo "demo: $*" >&2; exit 1; }

for tool in terraform go curl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

start_time=$SECONDS
work=$(mktemp -d -t backupctl-demo.XXXXXX)
lab="$work/lab"
tfdir="$work/tf"
logs="$work/logs"
mkdir -p "$work/bin" "$lab" "$tfdir" "$logs"
daemons=()
last_log=""

# ---- stopping: every process started from $work, then $work itself ----
stop_lab() {
  local pid n alive found
  for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for n in $(seq 50); do
    alive=0
    for pid in "${daemons[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  # Anything left that runs from $work or names it (terraform -chdir, the
  # provider, the emulators, sshd and its sessions): kill it by its pid.
  for n in 1 2 3; do
    found=0
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      [ "$pid" = $$ ] && continue
      if [[ "$(readlink "$p/exe" 2>/dev/null)" == "$work"/* ]] ||
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -F -- "$work" >/dev/null; then
        kill -KILL "$pid" 2>/dev/null && found=1
      fi
    done
    [ $found = 0 ] && break
    sleep 0.2
  done
  daemons=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  stop_lab
  if [ $rc != 0 ] && [ -n "$last_log" ] && [ -s "$last_log" ]; then
    echo "demo: the end of $(basename "$last_log"):" >&2
    tail -n 40 "$last_log" >&2
  fi
  if [ -n "${BACKUPCTL_DEMO_LOGS:-}" ]; then mkdir -p "$BACKUPCTL_DEMO_LOGS" && cp -r "$logs"/. "$BACKUPCTL_DEMO_LOGS"/; fi
  rm -rf "$work"
  if [ $rc != 0 ]; then echo "demo: failed (exit $rc); everything it started is stopped and $work is removed" >&2; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
echo "demo: working in $work (\$DEMO below)"

# ---- terraform, readable ----
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

# condense keeps what a person reads in a plan/apply: resource actions, the
# plan line, progress, warnings and errors; it drops the dev-override
# warning (expected here) and the attribute-by-attribute diff (in $logs).
condense() {
  awk -v b="$bold" -v r="$reset" '
    function progress(l) {
      return l ~ /^  # / || l ~ /^Plan:/ || l ~ /complete!|^No changes/ ||
        l ~ /^[a-z_]+\.[^ ]+: (Creating|Modifying|Destroying|Importing|Reading)\.\.\./ ||
        l ~ /^[a-z_]+\.[^ ]+: (Creation|Modifications|Destruction|Import|Read) complete/
    }
    function other(l) {
      return l ~ /^[a-z_]+\.[^ ]+: / || l ~ /^(Changes to )?Outputs:/ || l ~ /^(Terraform |Note: )/
    }
    {
      plain = $0
      gsub(/\033\[[0-9;]*m/, "", plain)
      sub(/^(╷|╵|│ ?)/, "", plain) # alternation: in the C locale a bracket matches one byte
    }
    plain ~ /^(Warning|Error): / {
      indiag = 1; skip = (plain ~ /development overrides/)
      if (!skip) print b plain r
      next
    }
    indiag && (progress(plain) || other(plain)) { indiag = 0 }
    indiag {
      # The detail, indented; source excerpts and blank lines dropped.
      if (!skip && plain != "" && plain !~ /^  (with|on) / && plain !~ /^ *[0-9]+: / && plain !~ /^\(and .* more similar/)
        print "  " plain
      next
    }
    progress(plain) { print }
  '
}

# tf LOG ARGS...: terraform ARGS in the demo's configuration, the whole
# output in $logs/LOG, the condensed output on the screen. Runs in the
# background so that Ctrl-C and TERM reach the cleanup at once.
tf() {
  local log="$logs/$1"
  last_log=$log
  shift
  set +e
  (
    set -o pipefail
    terraform -chdir="$tfdir" "$@" "${tf_color[@]}" 2>&1 | tee "$log" | condense | show
  ) &
  wait $!
  local rc=$?
  set -e
  [ $rc != 0 ] || last_log=""
  return $rc
}

# tf_quiet ARGS...: terraform, output to stdout, the dev-override warning dropped.
tf_quiet() { terraform -chdir="$tfdir" "$@" "${tf_color[@]}" 2>/dev/null; }

# ==========================================================================
step "Building backupctl and the emulators (go build, offline)"
said "The provider, the KCPS API emulator, the GDS command emulator (sdxproxy/sdxinfo/sdxvolume) and the demo's helper (a loopback sshd, the report printer)."
(cd "$root" && go build -o "$work/bin/" . ./internal/kcpsemu/cmd/kcpsemu ./internal/gdsemu/cmd/gdsemu ./internal/demo/cmd/demolab)
ls "$work/bin" | show

step "Installing the provider for terraform without any registry"
said "A generated CLI configuration (TF_CLI_CONFIG_FILE) points backupctl/backupctl at the binary just built: no terraform init, no download."
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "backupctl/backupctl" = "$work/bin"
  }
  direct {}
}
RC
show <"$work/terraformrc"
cp "$demo_src"/*.tf "$tfdir/"

# ==========================================================================
step "Starting the lab in $work"

# GDS: the emulator answers as sdxproxy, sdxinfo and sdxvolume.
mkdir -p "$lab/gds/root" "$lab/gds/bin"
cp "$demo_src/gds-layout.json" "$lab/gds/root/config.json"
for c in sdxproxy sdxinfo sdxvolume; do ln -s "$work/bin/gdsemu" "$lab/gds/bin/$c"; done
gds() { GDSEMU_ROOT="$lab/gds/root" "$lab/gds/bin/$@"; }
said "gds1: PRIMECLUSTER GDS (emulated): shared class Class1 on node1 and node2, Volume1 (master, the database) and Volume2 (its future proxy), 512 MB each."

# KCPS: the API emulator with web01 and db01, and the eight snapshots of
# web01's data volume an operator took by hand, one a week.
# Its secret key goes to kcps.env (0600) only, never to a log.
"$work/bin/kcpsemu" -config "$demo_src/kcps-seed.json" -scale "$kcps_scale" -admin \
  -env-file "$lab/kcps.env" > >(grep --line-buffered -v '^secret_key=' >"$logs/kcpsemu.log") 2>&1 &
daemons+=($!)

# sshd: one loopback sshd plays gds1, smf1, gm1 and drill1.
"$work/bin/demolab" sshd -dir "$lab/sshd" -env-file "$lab/ssh.env" >"$logs/sshd.log" 2>&1 &
daemons+=($!)

for f in kcpsemu sshd; do
  for n in $(seq 300); do
    grep -qx ready "$logs/$f.log" 2>/dev/null && break
    kill -0 "${daemons[0]}" "${daemons[1]}" 2>/dev/null || { cat "$logs/$f.log" >&2; die "$f did not start"; }
    sleep 0.1
  done
  grep -qx ready "$logs/$f.log" || die "$f did not start in 30 s"
done
set -a
# shellcheck disable=SC1091
. "$lab/kcps.env"
# shellcheck disable=SC1091
. "$lab/ssh.env"
set +a
export BACKUPCTL_KCPS_POLL_SCALE="$kcps_scale" TF_VAR_lab_dir="$lab"
export TF_VAR_kcps_volume_id=9e5f6071-0000-4000-8000-000000000902 # DATA-web01 in kcps-seed.json
kcps_admin=$(sed -n 's/^admin=//p' "$logs/kcpsemu.log")
said "KCPS (emulated) at $BACKUPCTL_KCPS_ENDPOINT, jobs at $kcps_scale x real time: web01 (running) and its 100 GB data volume, with 8 snapshots taken by hand in the Admin Console, one a week."
said "sshd on $TF_VAR_ssh_address (host key pinned in a known_hosts file): gds1, smf1, gm1 and drill1 are all reached over real SSH."

# SMF server: an ARMS-Proxy and Heartbeat tree with mixed owners and modes.
smf="$lab/smf1/var/service/smf"
mkdir -p "$smf/etc/hbprop" "$smf/var/proxy/spool" "$smf/var/hb"
printf 'listen = 127.0.0.1:8443\nrs = https://rs.example.jp/\n' >"$smf/etc/proxy.cfg"
for f in ca-cert rs-cert rs-key; do printf -- '-----BEGIN DEMO %s-----\n%s\n-----END DEMO %s-----\n' "$f" "$RANDOM$RANDOM" "$f" >"$smf/etc/$f.pem"; done
chmod 600 "$smf/etc/rs-key.pem"
for i in 1 2 3 4 5; do head -c 20000 /dev/urandom | base64 >"$smf/var/proxy/spool/result-$i.dat"; done
printf 'agent=%s\n' web01 db01 >"$smf/var/proxy/agents.list"
printf 'interval = 30\nport = 7011\n' >"$smf/etc/hbserver.conf"
printf 'HB_PROP=default\n' >"$smf/etc/hbprop.inc"
printf 'timeout=90\n' >"$smf/etc/hbprop/web01.prop"
printf 'status=alive\n' >"$smf/var/hb/web01.stat"
printf 'status=alive\n' >"$smf/var/hb/db01.stat"
chown -R nobody "$smf/var/hb" 2>/dev/null || true
said "smf1: an SMF ARMS-Proxy and Heartbeat tree below $lab/smf1 (the presets' /var/service/smf paths, moved into the lab)."

# Groupmax master: the GroupMail directories, a journal, and stand-ins for
# APSTOP, GM_STOP, xodstop and their start counterparts that log.
gm="$lab/gm1/GroupMail"
mkdir -p "$gm/bin" "$lab/gm1/MNG_JOURNAL/MCH_JOURNAL"
for d in Groupmax nxcdir nxudir nxrdir nxsdir oafkairan x400/config x400/runtime isp; do
  mkdir -p "$gm/$d"
  printf '%s data\n' "$d" >"$gm/$d/demo.dat"
done
stand_in() {
  printf '#!/bin/sh\necho "$(date +%%H:%%M:%%S) gm1: %s  (%s)" >> %s\n' "$1" "$2" "$lab/gm1/ops.log" >"$gm/bin/$1"
  chmod 755 "$gm/bin/$1"
}
stand_in APSTOP "Groupmax servers stopped"
stand_in GM_STOP "address service stopped"
stand_in xodstop "Object Server stopped"
stand_in xodstart "Object Server started"
stand_in GM_START "address service started"
stand_in APSTART "Groupmax servers started"
journal_traffic() {
  local i
  for i in 1 2 3; do echo "mail $1.$i" >"$lab/gm1/MNG_JOURNAL/MCH_JOURNAL/JNL$1$i"; done
  echo "    gm1: mail since the last backup: $(find "$lab/gm1/MNG_JOURNAL/MCH_JOURNAL" -type f | wc -l) journal files in MCH_JOURNAL"
}
said "gm1: a Groupmax master management server below $lab/gm1 with a journal in MNG_JOURNAL/MCH_JOURNAL; its stop/start commands are stand-ins that log."
mkdir -p "$lab/nas"
said "local (this machine): the backup server; archives land in $lab/nas."

show_gds_log() {
  # The sdx commands (sdxinfo aside) and the quiesce commands, in order.
  grep -v '^sdxinfo' "$lab/gds/root/calls.log" 2>/dev/null | tr '\t' ' ' | show || true
  : >"$lab/gds/root/calls.log"
}
# kcps_calls_since COUNTS: the API calls made since COUNTS (the emulator's
# /_emu/calls) that show what an operator does by hand.
kcps_calls_since() {
  local now c a b out=""
  now=$(curl -fsS "${kcps_admin}calls")
  for c in stopVirtualMachine createSnapshot queryAsyncJobResult startVirtualMachine deleteSnapshot listSnapshots; do
    a=$(grep -o "\"$c\":[0-9]*" <<<"$1" | cut -d: -f2 || true)
    b=$(grep -o "\"$c\":[0-9]*" <<<"$now" | cut -d: -f2 || true)
    out+="$c ${b:-0}-${a:-0} "
  done
  awk '{ for (i = 1; i < NF; i += 2) { split($(i + 1), n, "-"); printf "%s%s %d", (i > 1 ? ", " : ""), $i, n[1] - n[2] } print "" }' <<<"$out"
}
show_gm() {
  show <"$lab/gm1/ops.log"
  : >"$lab/gm1/ops.log"
  echo "    journal files left in MCH_JOURNAL: $(find "$lab/gm1/MNG_JOURNAL/MCH_JOURNAL" -type f | wc -l)"
}

# ==========================================================================
step "Nightly backup run 1: terraform apply -var backup_run=1"
said "By hand: on gds1 stop the proxy on both nodes, sdxproxy Join/Rejoin, wait for the copy, stop the application, umount, sdxproxy Part, mount, start. On smf1 tar+gz the ARMS-Proxy and Heartbeat trees and copy them to the NAS. On gm1 APSTOP, GM_STOP, xodstop, archive the GroupMail directories, clear the journal, start in reverse order. In the KCPS Admin Console stop web01, snapshot its data volume, wait, start it, delete the oldest snapshot."
said "backupctl: one apply does all of it, and adopts the 8 existing KCPS snapshots (import block) as generations."
journal_traffic 1
tf apply1.log apply -auto-approve -var backup_run=1
echo
echo "    gds1 (sdx and quiesce commands, in order):"
show_gds_log
echo "    gm1:"
show_gm
echo "    terraform output kcps_generations:"
tf_quiet output kcps_generations | show

# ==========================================================================
step "Nightly backup runs 2 and 3: a new backup_run takes a new generation everywhere"
said "Each run re-snapshots the GDS proxy (Rejoin, copy, quiesce, Part), takes a KCPS snapshot with web01 stopped and started again, and archives SMF and Groupmax. KCPS keeps 8: the plan names the snapshot the apply deletes once the new one is BackedUp. Archives keep 2: the oldest archive is pruned after the new one is verified."
calls_before=$(curl -fsS "${kcps_admin}calls")
for run in 2 3; do
  echo "    -- backup_run=$run"
  journal_traffic "$run"
  tf "apply$run.log" apply -auto-approve -var backup_run="$run"
done
echo
echo "    gds1 (sdx and quiesce commands, in order):"
show_gds_log
echo "    gm1:"
show_gm
echo "    KCPS API calls of runs 2 and 3 (web01 stopped and started around each snapshot, the oldest deleted after):"
echo "    $(kcps_calls_since "$calls_before")"
echo "    terraform output (generations now):"
tf_quiet output kcps_generations | show
tf_quiet output archives | show

# ==========================================================================
step "Drift made out of band"
oldest=$(tf_quiet output -raw kcps_oldest_snapshot_id)
said "Someone deletes web01's oldest snapshot in the KCPS Admin Console (here: the emulator's admin endpoint):"
curl -fsS -X POST "${kcps_admin}snapshots/delete?id=$oldest" | show
echo
hb=$(ls "$lab/nas/smf1/heartbeat/"*.tar.gz | sed -n 1p)
said "Someone frees space on the NAS: rm $(basename "$hb")"
rm -f "$hb"
said "Someone on gds1 rejoins the proxy by hand (sdxvolume -F, sdxproxy Rejoin): the snapshot is gone."
gds sdxvolume -F -c Class1 -v Volume2 -e allnodes | show
gds sdxproxy Rejoin -c Class1 -p Volume2 | show
: >"$lab/gds/root/calls.log"

step "terraform plan -detailed-exitcode: does reality still match the configuration?"
said "By hand, nobody notices until the day a restore is needed. backupctl reads every generation (one paged KCPS listing, sdxinfo, the archives' manifests) and shows the differences; exit code 2 means 'changes', which fails a scheduled CI job."
set +e
terraform -chdir="$tfdir" plan -detailed-exitcode -var backup_run=3 "${tf_color[@]}" >"$logs/drift.log" 2>&1 &
wait $!
code=$?
set -e
{
  # What changed outside Terraform (refresh), then the plan and its warnings.
  awk '
    { plain = $0; gsub(/\033\[[0-9;]*m/, "", plain) }
    /Objects have changed outside of Terraform/ { on = 1 }
    /Unless you have made equivalent changes/ { on = 0 }
    on && (plain ~ /^  # / || plain ~ /~ state/ || plain ~ /^ +- (id|parted_at) / || plain ~ /^ +name += /) { print }
  ' "$logs/drift.log"
  condense <"$logs/drift.log" | grep -v ' has changed$'
} | show
echo "    plan exit code: $code"
[ "$code" = 2 ] || { tail -n 40 "$logs/drift.log" >&2; die "expected plan exit code 2 (changes), got $code"; }

step "Converge: terraform apply"
said "The apply accepts the lost KCPS snapshot and the lost archive (dropped from the generations) and parts the proxy again, with the quiesce commands around Part."
tf converge.log apply -auto-approve -var backup_run=3
echo "    gds1:"
show_gds_log
set +e
terraform -chdir="$tfdir" plan -detailed-exitcode -var backup_run=3 "${tf_color[@]}" >"$logs/plan-after.log" 2>&1 &
wait $!
code=$?
set -e
echo "    terraform plan -detailed-exitcode: exit code $code (0: nothing to do)"
[ "$code" = 0 ] || { tail -n 40 "$logs/plan-after.log" >&2; die "expected plan exit code 0 after converging, got $code"; }

# ==========================================================================
step "Restore drill: terraform apply -var drill=true"
said "By hand: pick the newest archive, check it, extract it on a scratch host, compare, run checks, time it all and write it up. backupctl: the SHA-256 is checked, the archive streams from the NAS to drill1 over SSH, every file is compared with the manifest, the verify commands run on drill1, RPO and RTO are measured against max_rpo and max_rto."
tf drill.log apply -auto-approve -var backup_run=3 -var drill=true
echo
tf_quiet output -raw drill_report >"$logs/report.json"
"$work/bin/demolab" report "$logs/report.json" | show

# ==========================================================================
step "terraform destroy"
said "Destroy removes the drill's directory on drill1, deletes the archives and the KCPS generations (force_destroy = true here; by default destroy refuses while generations exist) and breaks the proxy pair."
tf destroy.log destroy -auto-approve -var backup_run=3 -var drill=true
left=$(find "$lab/nas" -type f | wc -l)
kcps_state=$(curl -fsS "${kcps_admin}state")
snaps=$(grep -o "\"VolumeID\":\"$TF_VAR_kcps_volume_id\"" <<<"$kcps_state" | wc -l || true)
web01=$(grep -o '"Name":"web01","State":"[A-Za-z]*"' <<<"$kcps_state" | sed 's/.*"State":"//; s/"//' || true)
echo "    archives left on the NAS: $left; KCPS snapshots left of web01's data volume: $snaps; web01 is $web01"
[ "$left" = 0 ] || die "destroy left $left files on the NAS"
[ "$snaps" = 0 ] || die "destroy left $snaps KCPS snapshots"

step "Stopping the lab"
stop_lab
said "The KCPS emulator and sshd are stopped; $work goes next."
elapsed=$((SECONDS - start_time))
printf '\n%sDemo finished in %ds.%s\n' "$bold" "$elapsed" "$reset"

# The deploy-time admission rules of `secgate evidence check`, written out for
# Open Policy Agent (Rego v1), over the same predicate.
#
# OPA does not verify DSSE signatures: verify the envelope first
# (`secgate evidence verify evidence.json --key signing.pub.pem`, or the
# openssl recipe in the README), then decode its payload and give it here:
#
#   jq -r .payload evidence.json | base64 -d > statement.json
#   jq -n --slurpfile s statement.json --arg commit "$GIT_COMMIT" \
#     --arg checklist "$(sha256sum checklist.yaml | cut -d' ' -f1)" --arg target eu \
#     --argjson now "$(date +%s)" --argjson max_age 21600 \
#     '{statement: $s[0], commit: $commit, checklist_sha256: $checklist, target: $target,
#       now_seconds: $now, max_age_seconds: $max_age}' > input.json
#   opa eval -d docs/ci/fleet-admission.rego -i input.json 'data.secgate.admission.deny'
#
# An empty `deny` set admits. Each rule below is one line of admissionReasons
# in src/evidence/admission.ts; this file takes one target's own evidence
# (predicateType https://secgate.dev/evidence/v1).
package secgate.admission

import rego.v1

predicate := input.statement.predicate

# The commit the evidence verified: its git subject, unless the work tree had uncommitted changes.
verified_commits contains subject.digest.gitCommit if {
	some subject in input.statement.subject
	subject.digest.gitCommit
	not subject.annotations.uncommittedChanges
}

deny contains "not secgate evidence" if {
	input.statement.predicateType != "https://secgate.dev/evidence/v1"
}

# Only a run that verified every control admits a deploy: "partial" and "error" are not "pass".
deny contains sprintf("verdict is '%s', not 'pass'", [predicate.verdict]) if {
	predicate.verdict != "pass"
}

deny contains "the evidence names no clean commit" if {
	count(verified_commits) == 0
}

deny contains sprintf("the evidence verified commit %s, not %s", [commit, input.commit]) if {
	some commit in verified_commits
	commit != input.commit
}

deny contains sprintf("the evidence verified checklist sha256 %s, not the reviewed %s", [predicate.checklist.sha256, input.checklist_sha256]) if {
	predicate.checklist.sha256 != input.checklist_sha256
}

finished_seconds := time.parse_rfc3339_ns(predicate.finishedAt) / 1000000000

deny contains sprintf("stale: finished %d s ago, more than the %d s allowed", [input.now_seconds - finished_seconds, input.max_age_seconds]) if {
	input.now_seconds - finished_seconds > input.max_age_seconds
}

# Five minutes of clock skew between runners are tolerated, no more.
deny contains "finished in the future (a runner's clock is wrong)" if {
	finished_seconds - input.now_seconds > 300
}

deny contains sprintf("the evidence covers target '%s', not '%s'", [object.get(predicate, ["fleet", "target"], "(none)"), input.target]) if {
	object.get(predicate, ["fleet", "target"], "") != input.target
}
